import { ObjectId } from "bson";
import { isPlainObject } from "../dataapi/ejson";
import type { Doc, IndexSpec, Namespace } from "../dataapi/engine";
import { getPath } from "../dataapi/paths";
import { collectionId, indexesOf } from "./catalog";
import { decodeDocument, encodeKey } from "./documents";
import { decodeRows, type RowSource } from "./query-plan";
import type { Sql } from "./sql";

/**
 * Index keys are EJSON text (`{"v":[…]}`), compared by SQLite as bytes. For most values that
 * order is not BSON's (numbers, strings with spaces or quotes, mixed types), so an index can
 * only hand out documents in sort order when every value it holds at the sorted positions is of
 * one kind whose text sorts as the value does:
 *
 * - `s`: a string of the printable ASCII characters JSON writes bare, `#` to `~` without `\`
 *   (the closing `"` sorts below each of them, so a prefix sorts first, as in BSON);
 * - `o`: an ObjectId (24 lower-case hex digits);
 * - `d`: a date between 2001-09-09 and 2286-11-20 (13-digit milliseconds);
 * - `b`: a boolean; `n`: null or missing.
 *
 * `index_orders` keeps, per index and key position, the kind seen so far: `*` once two safe
 * kinds mixed there, `x` once any other value was written. It is sticky (a deleted document does
 * not clear it) and reset only when the index or its collection goes, so it may be stricter than
 * the entries, never looser.
 */
export const KEY_ORDER_SCHEMA =
  "CREATE TABLE IF NOT EXISTS index_orders (coll INTEGER NOT NULL, idx TEXT NOT NULL, kinds TEXT NOT NULL, PRIMARY KEY (coll, idx))";

const SAFE_STRING = /^[#-[\]-~]*$/;
const MIN_DATE = 1e12;
const MAX_DATE = 1e13;

export const kindOf = (value: unknown): string => {
  if (value === undefined || value === null) return "n";
  if (typeof value === "string") return SAFE_STRING.test(value) ? "s" : "x";
  if (typeof value === "boolean") return "b";
  if (value instanceof ObjectId) return "o";
  if (value instanceof Date) return value.getTime() >= MIN_DATE && value.getTime() < MAX_DATE ? "d" : "x";
  return "x";
};

const mergeKind = (a: string, b: string): string => {
  if (a === b) return a;
  if (a === "x" || b === "x") return "x";
  return "*";
};

const merge = (a: string, b: string): string =>
  a
    .split("")
    .map((kind, i) => mergeKind(kind, b[i] ?? "x"))
    .join("");

/** The kinds known per store (the table is the truth; this saves a read per index entry written). */
const cache = new WeakMap<Sql, Map<string, string>>();
const cached = (sql: Sql) => {
  let map = cache.get(sql);
  if (!map) {
    map = new Map();
    cache.set(sql, map);
  }
  return map;
};

const known = (sql: Sql, coll: number, idx: string): string | undefined => {
  const map = cached(sql);
  const id = `${coll}\u0000${idx}`;
  if (!map.has(id)) {
    const row = sql.exec<{ kinds: string }>("SELECT kinds FROM index_orders WHERE coll = ? AND idx = ?", coll, idx).toArray()[0];
    if (row) map.set(id, row.kinds);
  }
  return map.get(id);
};

/** Notes the kinds of one document's values under one index (called for every entry written). */
export const noteKinds = (sql: Sql, coll: number, idx: string, values: unknown[]): void => {
  const kinds = values.map((v) => (Array.isArray(v) ? "x" : kindOf(v))).join("");
  const before = known(sql, coll, idx);
  const after = before === undefined ? kinds : merge(before, kinds);
  if (after === before) return;
  sql.exec("INSERT INTO index_orders (coll, idx, kinds) VALUES (?, ?, ?) ON CONFLICT (coll, idx) DO UPDATE SET kinds = excluded.kinds", coll, idx, after);
  cached(sql).set(`${coll}\u0000${idx}`, after);
};

/** Forgets a collection's kinds (dropped), or one index's (about to be rebuilt). */
export const forgetKinds = (sql: Sql, coll: number, idx?: string): void => {
  if (idx === undefined) sql.exec("DELETE FROM index_orders WHERE coll = ?", coll);
  else sql.exec("DELETE FROM index_orders WHERE coll = ? AND idx = ?", coll, idx);
  cache.delete(sql);
};

/** For a store written before `index_orders` existed: the kinds of every index, computed once from its documents. */
export const backfillKinds = (sql: Sql): void => {
  cache.delete(sql);
  const indexes = sql.exec<{ coll: number; spec: string }>("SELECT coll, spec FROM indexes").toArray();
  for (const { coll, spec } of indexes) {
    const index = JSON.parse(spec) as IndexSpec;
    const fields = Object.keys(index.key);
    for (const row of sql.exec<{ body: string }>("SELECT body FROM documents WHERE coll = ?", coll)) {
      const doc = decodeDocument(row.body);
      noteKinds(
        sql,
        coll,
        index.name,
        fields.map((f) => getPath(doc, f)),
      );
    }
  }
};

const ORDERED_KINDS = new Set(["s", "o", "d", "b"]);
const LOWER: Record<string, true> = { $gt: true, $gte: true };
const UPPER: Record<string, true> = { $lt: true, $lte: true };

/** A plain equality a prefix position can be pinned to (no operators, no arrays, a value of a known kind). */
const pinned = (filter: Doc, field: string): { value: unknown } | undefined => {
  if (!Object.hasOwn(filter, field)) return undefined;
  let value = filter[field];
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length !== 1 || keys[0] !== "$eq") return undefined;
    value = value.$eq;
  }
  return kindOf(value) === "x" || value === null ? undefined : { value };
};

const encodedElement = (values: unknown[]): string => encodeKey(values).slice(0, -2);

/**
 * Documents in the order of a sort that an index matches: its leading fields pinned by equality
 * in the filter, the sort's fields next, in the index's direction or all reversed; the first
 * sorted field's range conditions bound the read. Undefined when no index can (the general path
 * then reads and sorts). Callers still test every row against the whole filter and stop at the
 * page's end, so a page costs about as many rows as it holds plus those the filter skips.
 */
export interface OrderedPlan {
  /** The index read, in its order or reversed. */
  idx: string;
  pins: unknown[];
  kind: string;
  ascending: boolean;
}

/** The index a sorted find is read in (see inIndexOrder), or undefined when none can serve it. */
export const orderedIndexFor = (sql: Sql, ns: Namespace, sort: Record<string, unknown>, filter: Doc): OrderedPlan | undefined => {
  const sortFields = Object.keys(sort);
  if (sortFields.length === 0 || (sortFields.length === 1 && sortFields[0] === "_id")) return undefined;
  const coll = collectionId(sql, ns);
  if (coll === undefined) return undefined;
  // The index that pins the most fields reads the fewest rows the filter then skips.
  let best: OrderedPlan | undefined;
  for (const index of indexesOf(sql, coll)) {
    if (index.sparse) continue;
    const fields = Object.keys(index.key);
    const prefixLength = fields.length - sortFields.length;
    // The sort names the fields after the pinned ones, or a leading part of them.
    for (let pins = prefixLength; pins >= 0; pins--) {
      if (best && best.pins.length >= pins) break;
      const rest = fields.slice(pins, pins + sortFields.length);
      if (rest.length !== sortFields.length || rest.some((f, i) => f !== sortFields[i])) continue;
      const same = rest.map((f) => Number(sort[f]) === Number(index.key[f]));
      if (!same.every((s) => s === same[0])) continue;
      const pinsOf = fields.slice(0, pins).map((f) => pinned(filter, f));
      if (pinsOf.some((p) => p === undefined)) continue;
      const kinds = known(sql, coll, index.name);
      if (kinds === undefined || kinds.slice(0, pins).includes("x")) continue;
      if (!rest.every((_, i) => ORDERED_KINDS.has(kinds[pins + i] as string))) continue;
      best = { idx: index.name, pins: pinsOf.map((p) => p?.value), kind: kinds[pins] as string, ascending: same[0] === true };
      break;
    }
  }
  return best;
};

export const inIndexOrder = (sql: Sql, ns: Namespace, sort: Record<string, unknown>, filter: Doc): RowSource | undefined => {
  const plan = orderedIndexFor(sql, ns, sort, filter);
  return plan && orderedRows(sql, plan.idx, plan.pins, Object.keys(sort)[0] as string, plan.kind, plan.ascending ? "ASC" : "DESC");
};

const orderedRows =
  (sql: Sql, idx: string, pins: unknown[], first: string, kind: string, order: "ASC" | "DESC"): RowSource =>
  (coll, filter, paths) => {
    const prefix = encodedElement([...pins, null]).slice(0, -"null".length);
    let lower = prefix;
    let upper = `${prefix}~`;
    const condition = filter[first];
    if (isPlainObject(condition)) {
      for (const [operator, value] of Object.entries(condition)) {
        // A bound of another kind would compare by type in BSON; the filter alone decides then.
        if (kindOf(value) !== kind) continue;
        const element = encodedElement([...pins, value]);
        if (LOWER[operator] && element > lower) lower = element;
        if (UPPER[operator] && `${element}~` < upper) upper = `${element}~`;
      }
    }
    return decodeRows(
      sql.exec<{ seq: number; body: string }>(
        `SELECT d.seq AS seq, d.body AS body FROM index_entries e JOIN documents d ON d.seq = e.seq
         WHERE e.coll = ? AND e.idx = ? AND e.key >= ? AND e.key < ? ORDER BY e.key ${order}`,
        coll,
        idx,
        lower,
        upper,
      ),
      paths,
    );
  };
