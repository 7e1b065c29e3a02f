import { ObjectId } from "bson";

/** Twelve bytes of ObjectId in unpadded base64url: always exactly sixteen characters. */
const CURSOR = /^[A-Za-z0-9_-]{16}$/;

/**
 * A page cursor: the id of the last record of the page, opaque to clients so that the order key
 * can change later without breaking their loops.
 */
export const encodeCursor = (lastId: ObjectId): string =>
  btoa(String.fromCharCode(...lastId.id))
    .replace(/\+/g, "-")
    .replace(/\//g, "_");

/** The id a cursor stands for, or null for anything this service never issued. */
export const decodeCursor = (cursor: string): ObjectId | null => {
  if (!CURSOR.test(cursor)) return null;
  const bytes = Uint8Array.from(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  return new ObjectId(bytes);
};
