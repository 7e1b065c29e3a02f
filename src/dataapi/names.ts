import { DataApiError } from "./errors";

// MongoDB's own naming rules, checked here so both engines refuse the same names.
const DATABASE_NAME = /^[^/\\. "$*<>:|?\0]{1,63}$/;
const COLLECTION_NAME = /^(?!system\.)[^$\0]{1,255}$/;
/** MongoDB limits "<database>.<collection>" to 255 bytes. */
export const MAX_NAMESPACE_BYTES = 255;

const encoder = new TextEncoder();
/** A UTF-16 length within a third of the limit is within it in UTF-8 too; only longer names are encoded. */
const withinNamespaceBytes = (s: string): boolean => s.length * 3 <= MAX_NAMESPACE_BYTES || encoder.encode(s).length <= MAX_NAMESPACE_BYTES;

export const checkDatabaseName = (name: string): void => {
  if (!DATABASE_NAME.test(name)) throw new DataApiError("InvalidParameter", `invalid database name: ${JSON.stringify(name)}`);
};

export const checkCollectionName = (database: string, name: string): void => {
  if (!COLLECTION_NAME.test(name) || !withinNamespaceBytes(`${database}.${name}`)) {
    throw new DataApiError("InvalidParameter", `invalid collection name: ${JSON.stringify(name)}`);
  }
};
