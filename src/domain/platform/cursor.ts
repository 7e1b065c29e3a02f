import { ObjectId } from "bson";

/** The listing's cursor: opaque to clients, and refused unless this service could have issued it. */

export const PLATFORM_SORTS = ["name", "-name", "created_at", "-created_at"] as const;
export type PlatformSort = (typeof PLATFORM_SORTS)[number];

/** Where a page resumes: the last organization's sort key and id, for the sort it was read in. */
export interface PlatformCursor {
  sort: PlatformSort;
  slug?: string;
  createdAt?: number;
  id: ObjectId;
}

export const encodePlatformCursor = (cursor: PlatformCursor): string =>
  btoa(JSON.stringify({ s: cursor.sort, k: cursor.slug ?? cursor.createdAt, i: cursor.id.toHexString() }))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");

/** The cursor a page handed out, or null for anything this service never issued. */
export const decodePlatformCursor = (text: string): PlatformCursor | null => {
  if (text.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(text)) return null;
  try {
    const value = JSON.parse(atob(text.replace(/-/g, "+").replace(/_/g, "/"))) as { s?: unknown; k?: unknown; i?: unknown };
    if (!PLATFORM_SORTS.includes(value.s as PlatformSort) || typeof value.i !== "string" || !/^[0-9a-f]{24}$/.test(value.i)) return null;
    const sort = value.s as PlatformSort;
    const id = ObjectId.createFromHexString(value.i);
    if (sort.endsWith("name")) return typeof value.k === "string" ? { sort, slug: value.k, id } : null;
    return typeof value.k === "number" && Number.isSafeInteger(value.k) ? { sort, createdAt: value.k, id } : null;
  } catch {
    return null;
  }
};
