import type { Deps } from "../kernel/deps";
import type { OrganizationDoc, OrgStatus } from "../kernel/model";
import { slugify } from "../kernel/slug";
import { encodePlatformCursor, type PlatformCursor, type PlatformSort } from "./cursor";

/**
 * The platform operator's view of every organization: listed and searched here; inspected
 * (detail.ts), suspended and reactivated (suspension.ts), deleted (removal.ts), counted
 * (stats.ts). The operator is not a member of any organization: these functions take
 * no principal, the HTTP layer has checked the operator's key and its scope.
 */

export const PLATFORM_STATUSES = ["active", "suspended", "creating", "renaming", "deleting"] as const;
export type PlatformStatus = (typeof PLATFORM_STATUSES)[number];

export const DEFAULT_PLATFORM_PAGE = 50;
export const MAX_PLATFORM_PAGE = 200;

export interface ListQuery {
  /** A name prefix or a slug prefix: matched as a prefix of the slug (the name's normal form). */
  query?: string;
  status?: PlatformStatus;
  sort: PlatformSort;
  limit: number;
  cursor?: PlatformCursor;
}

export interface OrganizationSummary {
  id: string;
  organization_name: string;
  slug: string;
  status: OrgStatus;
  suspended: boolean;
  created_at: string;
  updated_at: string;
}

export interface OrganizationPage {
  organizations: OrganizationSummary[];
  next_cursor: string | null;
}
export const summaryOf = (org: OrganizationDoc): OrganizationSummary => ({
  id: org._id.toHexString(),
  organization_name: org.organization_name,
  slug: org.slug,
  status: org.status,
  suspended: org.suspended === true,
  created_at: org.created_at.toISOString(),
  updated_at: org.updated_at.toISOString(),
});

/**
 * The first slug past every slug that starts with `prefix`: slugs are `[a-z0-9_]`, and `{` is
 * the character after `z`, so `[prefix, prefix + "{")` is exactly the prefix's range.
 */
const prefixEnd = (prefix: string) => `${prefix}{`;

/** The status filter as stored: suspension is a field of its own beside the lifecycle status. */
const statusFilter = (status: PlatformStatus | undefined): Record<string, unknown> => {
  if (status === undefined) return {};
  if (status === "suspended") return { suspended: true };
  if (status === "active") return { status: "active", suspended: { $ne: true } };
  return { status };
};

const SORTS: Record<PlatformSort, Record<string, 1 | -1>> = {
  name: { slug: 1 },
  "-name": { slug: -1 },
  created_at: { created_at: 1, _id: 1 },
  "-created_at": { created_at: -1, _id: -1 },
};

/**
 * One page, in one query that every store answers from an index: the status filter pins the
 * leading field of a compound index (`status_*` or `suspended_*`), the order is the index's, the
 * name prefix and the cursor are a range on its first sorted field. In name order (the slug,
 * unique) the cursor is the last slug; in creation order it is (created_at, _id), `_id` breaking
 * ties, written as a range on created_at plus the tie condition so the range bounds the read.
 */
export const pageQuery = (query: ListQuery): { filter: Record<string, unknown>; sort: Record<string, 1 | -1> } => {
  const filter: Record<string, unknown> = { ...statusFilter(query.status) };
  const byName = query.sort.endsWith("name");
  const descending = query.sort.startsWith("-");
  if (query.query !== undefined) {
    const prefix = slugify(query.query);
    filter.slug = { $gte: prefix, $lt: prefixEnd(prefix) };
  }
  const after = query.cursor;
  if (after && byName && after.slug !== undefined) {
    filter.slug = { ...(filter.slug as object), [descending ? "$lt" : "$gt"]: after.slug };
  }
  if (after && !byName && after.createdAt !== undefined) {
    const at = new Date(after.createdAt);
    filter.created_at = { [descending ? "$lte" : "$gte"]: at };
    filter.$or = [{ created_at: { [descending ? "$lt" : "$gt"]: at } }, { _id: { [descending ? "$lt" : "$gt"]: after.id } }];
  }
  return { filter, sort: SORTS[query.sort] };
};

export const listOrganizations = async (deps: Deps, query: ListQuery): Promise<OrganizationPage> => {
  const { filter, sort } = pageQuery(query);
  const byName = query.sort.endsWith("name");
  const docs = await deps.organizations.find(filter, {
    sort,
    limit: query.limit + 1,
    projection: { write_leases: 0, members: 0, departures: 0, pending: 0, suspension: 0 },
  });
  const shown = docs.slice(0, query.limit);
  const last = shown.at(-1);
  const next =
    docs.length > query.limit && last
      ? encodePlatformCursor(
          byName ? { sort: query.sort, slug: last.slug, id: last._id } : { sort: query.sort, createdAt: last.created_at.getTime(), id: last._id },
        )
      : null;
  return { organizations: shown.map(summaryOf), next_cursor: next };
};
