import { ObjectId } from "bson";
import { isPlainObject } from "../dataapi/ejson";
import type { Doc, Namespace } from "../dataapi/engine";
import { collectionId, indexesOf } from "./catalog";
import type { PathTree } from "./direct";
import { decodeDocument, encodeKey, equalityValue } from "./documents";
import type { Sql } from "./sql";
import { readStoredPaths } from "./stored-form";

/**
 * A stored document and its row's `seq`, which index entries and expiries point at. `partial`
 * when the document was typed only along the paths its read asked for (see `readStoredPaths`):
 * such a row is read again whole (`whole`) before anything else looks at it.
 */
export interface Row {
  seq: number;
  doc: Doc;
  body: string;
  partial?: true;
}

/** Where the rows a filter may match come from, read along `paths` or whole; callers still test each against the filter. */
export type RowSource = (coll: number, filter: Doc, paths?: PathTree) => Iterable<Row>;

/** How `encodeKey` writes an ObjectId: such keys sort as the ObjectIds themselves do. */
const OBJECT_ID_KEY_PREFIX = '{"v":{"$oid":"';
/** The first key past every key that starts with the prefix (its last character, plus one). */
const OBJECT_ID_KEY_RANGE_END = '{"v":{"$oid":#';

const RANGE_OPERATORS: Record<string, string> = { $gt: ">", $gte: ">=", $lt: "<", $lte: "<=" };

/** The SQL bounds an `_id` condition such as `{$gt: ObjectId(…)}` allows; the filter still decides. */
const idBounds = (condition: unknown): { op: string; key: string }[] => {
  if (!isPlainObject(condition)) return [];
  return Object.entries(condition).flatMap(([operator, value]) => {
    const op = RANGE_OPERATORS[operator];
    return op && value instanceof ObjectId ? [{ op, key: encodeKey(value) }] : [];
  });
};

/** A stored row's document, typed along `paths` when given and possible, else whole. */
const rowOf = (seq: number, body: string, paths?: PathTree): Row => {
  const partial = paths && readStoredPaths(body, paths);
  return partial ? { seq, body, doc: partial, partial: true } : { seq, body, doc: decodeDocument(body) };
};

/** The row with its whole document. */
export const whole = (row: Row): Row => (row.partial ? rowOf(row.seq, row.body) : row);

export function* decodeRows(rows: Iterable<{ seq: number; body: string }>, paths?: PathTree): Generator<Row> {
  for (const row of rows) yield rowOf(row.seq, row.body, paths);
}

/** The whole collection in natural (insertion) order. */
export function* scan(sql: Sql, coll: number, paths?: PathTree): Generator<Row> {
  yield* decodeRows(sql.exec<{ seq: number; body: string }>("SELECT seq, body FROM documents WHERE coll = ? ORDER BY seq", coll), paths);
}

/**
 * The documents that may match a filter, narrowed by `_id` or by an index when the filter
 * asks for plain equality on every field of one; otherwise the whole collection in natural order.
 * Callers still test every candidate against the full filter.
 */
export const candidates = (sql: Sql, coll: number, filter: Doc, paths?: PathTree): Iterable<Row> => {
  const id = equalityValue(filter, "_id");
  if (id) {
    const row = sql.exec<{ seq: number; body: string }>("SELECT seq, body FROM documents WHERE coll = ? AND id = ?", coll, encodeKey(id.value)).toArray()[0];
    return row ? [rowOf(row.seq, row.body, paths)] : [];
  }
  for (const index of indexesOf(sql, coll)) {
    const fields = Object.keys(index.key);
    const values = fields.map((f) => equalityValue(filter, f));
    if (values.some((v) => v === undefined || Array.isArray(v.value))) continue;
    // A sparse index has no entry for documents that lack the field: it cannot answer for null.
    if (index.sparse && values.some((v) => v?.value === null)) continue;
    const key = encodeKey(values.map((v) => v?.value ?? null));
    // One query for the entries and their documents, in natural order (a document's entries under one key are one row).
    return decodeRows(
      sql.exec<{ seq: number; body: string }>(
        `SELECT DISTINCT d.seq AS seq, d.body AS body FROM index_entries e JOIN documents d ON d.seq = e.seq
         WHERE e.coll = ? AND e.idx = ? AND e.key = ? AND d.coll = ? ORDER BY d.seq`,
        coll,
        index.name,
        key,
        coll,
      ),
      paths,
    );
  }
  return scan(sql, coll, paths);
};

/**
 * Documents in `_id` order straight from SQLite, for a sort on `_id` alone (how cursor pages
 * are read), with `_id` range conditions pushed into the query. Only when every `_id` in the
 * collection is an ObjectId: their stored keys then sort as the ObjectIds do; otherwise
 * BSON's cross-type order applies and the general path sorts.
 */
export const inIdOrder = (sql: Sql, ns: Namespace, direction: 1 | -1): RowSource | undefined => {
  const coll = collectionId(sql, ns);
  if (coll === undefined) return undefined;
  // Every other key sorts below or above the ObjectId prefix's range, so two probes of the
  // (coll, id) index answer what a scan of all keys would.
  const outside = (op: "<" | ">=", key: string) => sql.exec(`SELECT 1 FROM documents WHERE coll = ? AND id ${op} ? LIMIT 1`, coll, key).toArray().length > 0;
  if (outside("<", OBJECT_ID_KEY_PREFIX) || outside(">=", OBJECT_ID_KEY_RANGE_END)) return undefined;
  return (id, filter, paths) => {
    const bounds = idBounds(filter._id);
    const where = bounds.map((b) => `AND id ${b.op} ?`).join(" ");
    const order = direction === 1 ? "ASC" : "DESC";
    return decodeRows(
      sql.exec<{ seq: number; body: string }>(`SELECT seq, body FROM documents WHERE coll = ? ${where} ORDER BY id ${order}`, id, ...bounds.map((b) => b.key)),
      paths,
    );
  };
};
