import type { Doc, FindOneAndUpdateSpec, IndexSpec, Namespace, ReplaceSpec, UpdateResult, UpdateSpec } from "../dataapi/engine";
import { DataApiError } from "../dataapi/errors";
import { getPath } from "../dataapi/paths";
import { applyUpdate, upsertedDocument } from "./apply-update";
import { ensureCollection, indexesOf } from "./catalog";
import { assertUpdateDocument, decodeDocument, encodeDocument, encodeKey, ensureId, seedFromFilter } from "./documents";
import { noteKinds } from "./key-order";
import type { Row } from "./query-plan";
import { matching, project, select } from "./reads";
import type { Sql } from "./sql";
import { removeExpiry, writeExpiry } from "./ttl";

/**
 * The write paths. `_id` and unique indexes are SQLite unique constraints: a duplicate is refused
 * by the insert itself and reported as MongoDB does, never found by a read before the write.
 * Callers run each action in one transaction, so a refused document undoes the whole action.
 */

const isUniqueViolation = (error: unknown): boolean => error instanceof Error && error.message.includes("UNIQUE constraint failed");

const indexEntries = (index: IndexSpec, doc: Doc): string[] => {
  const fields = Object.keys(index.key);
  const values = fields.map((f) => getPath(doc, f));
  if (index.sparse && values.every((v) => v === undefined)) return [];
  if (fields.length === 1 && Array.isArray(values[0])) {
    // Multikey: one entry per distinct element, as MongoDB indexes arrays.
    return [...new Set(values[0].map((v) => encodeKey([v ?? null])))];
  }
  return [encodeKey(values.map((v) => v ?? null))];
};

/** Indexes one document under `indexes`; a unique index that already holds its key refuses it. */
export const writeEntries = (sql: Sql, coll: number, seq: number, doc: Doc, indexes: readonly IndexSpec[]): void => {
  for (const index of indexes) {
    noteIndexKinds(sql, coll, index, doc);
    writeKeys(sql, coll, seq, index, indexEntries(index, doc));
  }
};

/** Notes the kinds of one document's values under one index, so ordered reads know whether its text order holds (key-order.ts). */
const noteIndexKinds = (sql: Sql, coll: number, index: IndexSpec, doc: Doc): void =>
  noteKinds(
    sql,
    coll,
    index.name,
    Object.keys(index.key).map((f) => getPath(doc, f)),
  );

const writeKeys = (sql: Sql, coll: number, seq: number, index: IndexSpec, keys: string[]): void => {
  for (const key of keys) {
    try {
      sql.exec("INSERT INTO index_entries (coll, idx, key, seq, uniq) VALUES (?, ?, ?, ?, ?)", coll, index.name, key, seq, index.unique ? 1 : 0);
    } catch (error) {
      if (isUniqueViolation(error)) throw new DataApiError("DuplicateKey", `duplicate key error: index ${index.name} dup key ${key}`);
      throw error;
    }
  }
};

const insertDoc = (sql: Sql, coll: number, input: Doc, indexes: readonly IndexSpec[]): unknown => {
  const doc = ensureId(input);
  let seq: number;
  try {
    seq = sql
      .exec<{ seq: number }>("INSERT INTO documents (coll, id, body) VALUES (?, ?, ?) RETURNING seq", coll, encodeKey(doc._id), encodeDocument(doc))
      .one().seq;
  } catch (error) {
    if (isUniqueViolation(error)) throw new DataApiError("DuplicateKey", `duplicate key error: index _id_ dup key ${encodeKey(doc._id)}`);
    throw error;
  }
  writeEntries(sql, coll, seq, doc, indexes);
  writeExpiry(sql, seq, doc, indexes);
  return doc._id;
};

const sameKeys = (a: string[], b: string[]): boolean => a.length === b.length && a.every((key, i) => key === b[i]);

/**
 * Rewrites a stored document. Only the indexes whose keys changed are rewritten: most updates
 * (a write lease, a status, a counter) change no indexed field and leave every entry in place.
 * New keys are inserted under the same unique constraint as on insert, so a duplicate is refused.
 */
const rewriteDoc = (sql: Sql, coll: number, row: Row, next: Doc, indexes: readonly IndexSpec[]): void => {
  if (encodeKey(next._id) !== encodeKey(row.doc._id)) throw new DataApiError("InvalidParameter", "the _id field cannot be changed");
  sql.exec("UPDATE documents SET body = ? WHERE seq = ?", encodeDocument(next), row.seq);
  for (const index of indexes) {
    // Kinds are noted even when the keys stay: a value and a one-element array of it share a key, not a kind.
    noteIndexKinds(sql, coll, index, next);
    const after = indexEntries(index, next);
    if (sameKeys(indexEntries(index, row.doc), after)) continue;
    sql.exec("DELETE FROM index_entries WHERE seq = ? AND idx = ?", row.seq, index.name);
    writeKeys(sql, coll, row.seq, index, after);
  }
  writeExpiry(sql, row.seq, next, indexes);
};

const removeDoc = (sql: Sql, seq: number): void => {
  removeExpiry(sql, seq);
  sql.exec("DELETE FROM index_entries WHERE seq = ?", seq);
  sql.exec("DELETE FROM documents WHERE seq = ?", seq);
};

/**
 * Updates the matching rows; `last` holds the pre- and post-image of the last one (no pre-image
 * for an upsert). The pre-image is a copy taken before the update only when `keepBefore` asks for
 * it (findOneAndUpdate returning the old document); otherwise it is the row as read.
 */
const updateRows = (sql: Sql, ns: Namespace, spec: UpdateSpec, keepBefore = false): { result: UpdateResult; last?: { before: Doc | null; after: Doc } } => {
  assertUpdateDocument(spec.update);
  const coll = ensureCollection(sql, ns);
  const indexes = indexesOf(sql, coll);
  const rows = matching(sql, ns, spec.filter, spec.multi ? Number.POSITIVE_INFINITY : 1);
  if (rows.length === 0 && spec.upsert) {
    const doc = upsertedDocument(spec.filter, spec.update);
    const upsertedId = insertDoc(sql, coll, doc, indexes);
    return { result: { matchedCount: 0, modifiedCount: 0, upsertedId }, last: { before: null, after: doc } };
  }
  let modifiedCount = 0;
  let last: { before: Doc | null; after: Doc } | undefined;
  for (const row of rows) {
    const before = keepBefore ? decodeDocument(encodeDocument(row.doc)) : row.doc;
    const next = applyUpdate(row.doc, spec.update);
    if (next) {
      rewriteDoc(sql, coll, row, next, indexes);
      modifiedCount++;
    }
    last = { before, after: next ?? before };
  }
  return { result: { matchedCount: rows.length, modifiedCount }, last };
};

export const insertMany = (sql: Sql, ns: Namespace, documents: Doc[]): unknown[] => {
  const coll = ensureCollection(sql, ns);
  const indexes = indexesOf(sql, coll);
  return documents.map((doc) => insertDoc(sql, coll, doc, indexes));
};

export const update = (sql: Sql, ns: Namespace, spec: UpdateSpec): UpdateResult => updateRows(sql, ns, spec).result;

export const replaceOne = (sql: Sql, ns: Namespace, spec: ReplaceSpec): UpdateResult => {
  const coll = ensureCollection(sql, ns);
  const indexes = indexesOf(sql, coll);
  const [row] = matching(sql, ns, spec.filter, 1);
  if (!row) {
    if (!spec.upsert) return { matchedCount: 0, modifiedCount: 0 };
    const seed = seedFromFilter(spec.filter);
    const upsertedId = insertDoc(sql, coll, { ...(seed._id === undefined ? {} : { _id: seed._id }), ...spec.replacement }, indexes);
    return { matchedCount: 0, modifiedCount: 0, upsertedId };
  }
  const next = { _id: row.doc._id, ...spec.replacement };
  if (spec.replacement._id !== undefined && encodeKey(spec.replacement._id) !== encodeKey(row.doc._id)) {
    throw new DataApiError("InvalidParameter", "the _id field cannot be changed");
  }
  const changed = encodeDocument(next) !== encodeDocument(row.doc);
  if (changed) rewriteDoc(sql, coll, row, next, indexes);
  return { matchedCount: 1, modifiedCount: changed ? 1 : 0 };
};

export const findOneAndUpdate = (sql: Sql, ns: Namespace, spec: FindOneAndUpdateSpec): Doc | null => {
  let filter = spec.filter;
  if (spec.sort && Object.keys(spec.sort).length > 0) {
    // Pin the first document in sort order by its _id, then update exactly that one.
    const [first] = select(sql, ns, { filter, sort: spec.sort, limit: 1, projection: { _id: 1 } });
    filter = first ? { _id: first._id } : filter;
  }
  const { last } = updateRows(sql, ns, { filter, update: spec.update, upsert: spec.upsert, multi: false }, !spec.returnNewDocument);
  if (!last) return null;
  const chosen = spec.returnNewDocument ? last.after : last.before;
  return chosen && project(chosen, spec.projection);
};

/** Deletes the first match, or every match with `multi`; returns how many went. */
export const deleteMatching = (sql: Sql, ns: Namespace, filter: Doc, multi: boolean): number => {
  const rows = matching(sql, ns, filter, multi ? Number.POSITIVE_INFINITY : 1);
  for (const row of rows) removeDoc(sql, row.seq);
  return rows.length;
};
