import { EJSON, ObjectId } from "bson";
import { isPlainObject } from "../dataapi/ejson";
import type { Doc } from "../dataapi/engine";
import { DataApiError } from "../dataapi/errors";
import { forKey } from "./bson-numbers";
import { readStoredDocument, writeStoredDocument } from "./stored-form";

/** Stored form of a document: EJSON that gives back every BSON type as it was stored. */
export const encodeDocument = writeStoredDocument;
export const decodeDocument = readStoredDocument;

/** A deterministic text key for any BSON value, used for `_id` and index entries; numbers equal in value share one key. */
export const encodeKey = (value: unknown): string => {
  // The kinds most keys are (an ObjectId `_id`, a slug), written as EJSON writes them, without its walk.
  if (value instanceof ObjectId) return `{"v":{"$oid":"${value.toHexString()}"}}`;
  if (typeof value === "string") return `{"v":${JSON.stringify(value)}}`;
  return EJSON.stringify({ v: forKey(value ?? null) } as Doc, { relaxed: false });
};

const setPath = (doc: Doc, path: string, value: unknown): void => {
  const parts = path.split(".");
  let current: Doc = doc;
  for (const part of parts.slice(0, -1)) {
    if (!isPlainObject(current[part])) current[part] = {};
    current = current[part] as Doc;
  }
  current[parts[parts.length - 1] as string] = value;
};

export const isOperatorObject = (value: unknown): boolean => isPlainObject(value) && Object.keys(value).some((k) => k.startsWith("$"));

/** The value a filter demands by plain equality on a field, if it demands one. */
export const equalityValue = (filter: Doc, field: string): { value: unknown } | undefined => {
  if (!Object.hasOwn(filter, field)) return undefined;
  const condition = filter[field];
  if (Array.isArray(condition) || condition instanceof RegExp) return undefined;
  if (isOperatorObject(condition)) {
    const keys = Object.keys(condition as Doc);
    return keys.length === 1 && keys[0] === "$eq" ? { value: (condition as Doc).$eq } : undefined;
  }
  return { value: condition };
};

/** The document an upsert starts from: the filter's equality fields, as MongoDB builds it. */
export const seedFromFilter = (filter: Doc): Doc => {
  const seed: Doc = {};
  for (const key of Object.keys(filter)) {
    if (key.startsWith("$")) continue;
    const eq = equalityValue(filter, key);
    if (eq) setPath(seed, key, eq.value);
  }
  return seed;
};

/** MongoDB stores `_id` as the first field, whether it made it or the caller did. */
export const ensureId = (doc: Doc): Doc => {
  if (doc._id === undefined) return { _id: new ObjectId(), ...doc };
  const { _id, ...rest } = doc;
  return { _id, ...rest };
};

/**
 * A projection's result in the stored document's field order, `_id` first, as MongoDB returns
 * it (mingo lists included fields in the projection's order); computed fields come after.
 */
export const inDocumentOrder = <T>(projected: T, source: unknown): T => {
  if (Array.isArray(projected) && Array.isArray(source) && projected.length === source.length) {
    return projected.map((v, i) => inDocumentOrder(v, source[i])) as T;
  }
  if (!isPlainObject(projected) || !isPlainObject(source)) return projected;
  const out: Doc = {};
  for (const key of ["_id", ...Object.keys(source), ...Object.keys(projected)]) {
    if (Object.hasOwn(projected, key) && !Object.hasOwn(out, key)) out[key] = inDocumentOrder(projected[key], source[key]);
  }
  return out as T;
};

/** MongoDB refuses update documents without operators and replacements with them. */
export const assertUpdateDocument = (update: Doc | Doc[]): void => {
  if (Array.isArray(update)) return;
  const keys = Object.keys(update);
  if (keys.length === 0 || !keys.every((k) => k.startsWith("$"))) {
    throw new DataApiError("InvalidParameter", "update document requires atomic operators");
  }
};

export const assertReplacementDocument = (doc: Doc): void => {
  if (Object.keys(doc).some((k) => k.startsWith("$"))) {
    throw new DataApiError("InvalidParameter", "replacement document must not contain update operators");
  }
};
