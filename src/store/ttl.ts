import type { Doc, IndexSpec } from "../dataapi/engine";
import { expiryOf, ttlIndexesOf } from "../dataapi/expiry";
import { decodeDocument } from "./documents";
import type { Sql } from "./sql";

/**
 * TTL expiry for the SQLite engine, kept as an index so a purge never decodes a collection:
 * `expiries` holds, per document of a TTL-indexed collection that can expire, the moment it does
 * (milliseconds since the epoch). The engine rewrites a document's row with every write of it and
 * deletes it with the document, so the purge is a range read of `expiries_at` and deletes by `seq`.
 *
 * Stores written before this table existed are backfilled once, lazily and in bounded steps by the
 * same alarm turns that purge: `expiry_backfill` remembers how far through `documents` it got.
 */
export const TTL_SCHEMA = [
  "CREATE TABLE IF NOT EXISTS expiries (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL)",
  "CREATE INDEX IF NOT EXISTS expiries_at ON expiries (at)",
  "CREATE TABLE IF NOT EXISTS expiry_backfill (id INTEGER PRIMARY KEY CHECK (id = 1), after INTEGER NOT NULL)",
];

/** How much one alarm turn may do: the Durable Object serves nothing else meanwhile. */
export interface TurnBounds {
  /** Documents deleted (or, while backfilling, examined) per turn at most. */
  maxDocuments: number;
  /** Wall time per turn at most, checked between batches. */
  maxMs: number;
  /** Documents per transaction: a crash loses at most one batch's work, never live data. */
  batch: number;
}

export interface TurnResult {
  removed: number;
  backfilled: number;
  /** True when expired documents (or backfill) remain: the next turn should come soon. */
  more: boolean;
}

/** Keeps one document's expiry row in step with its body; called with every write of it. */
export const writeExpiry = (sql: Sql, seq: number, doc: Doc, indexes: readonly IndexSpec[]): void => {
  // A collection without a TTL index has no expiry rows (dropping its last one removes them): nothing to write or clear.
  if (ttlIndexesOf(indexes).length === 0) return;
  const at = expiryOf(doc, indexes);
  if (at === undefined) sql.exec("DELETE FROM expiries WHERE seq = ?", seq);
  else sql.exec("INSERT INTO expiries (seq, at) VALUES (?, ?) ON CONFLICT (seq) DO UPDATE SET at = excluded.at", seq, at);
};

export const removeExpiry = (sql: Sql, seq: number): void => {
  sql.exec("DELETE FROM expiries WHERE seq = ?", seq);
};

export const removeCollectionExpiries = (sql: Sql, coll: number): void => {
  sql.exec("DELETE FROM expiries WHERE seq IN (SELECT seq FROM documents WHERE coll = ?)", coll);
};

/**
 * Run once, before `TTL_SCHEMA` is applied: a store whose `indexes` table predates `expiries` and
 * holds TTL indexes has documents without expiry rows, so a backfill from the first document is due.
 */
export const needsBackfill = (sql: Sql): boolean => {
  const tables = sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('indexes', 'expiries')").toArray();
  if (tables.length !== 1 || tables[0]?.name !== "indexes") return false;
  return sql.exec("SELECT 1 FROM indexes WHERE json_extract(spec, '$.expireAfterSeconds') IS NOT NULL LIMIT 1").toArray().length > 0;
};

export const startBackfill = (sql: Sql): void => {
  sql.exec("INSERT OR IGNORE INTO expiry_backfill (id, after) VALUES (1, 0)");
};

export const backfillPending = (sql: Sql): boolean => sql.exec("SELECT 1 FROM expiry_backfill").toArray().length > 0;

/**
 * Deletes up to `limit` documents that expired before `now`, found through `expiries_at`, with
 * their index entries. Three statements whatever the batch size: the only per-document work is
 * SQLite's own.
 */
export const purgeBatch = (sql: Sql, now: number, limit: number): number => {
  const seqs = sql
    .exec<{ seq: number }>("SELECT seq FROM expiries WHERE at < ? ORDER BY at LIMIT ?", now, limit)
    .toArray()
    .map((r) => r.seq);
  if (seqs.length === 0) return 0;
  const list = JSON.stringify(seqs);
  sql.exec("DELETE FROM index_entries WHERE seq IN (SELECT value FROM json_each(?))", list);
  sql.exec("DELETE FROM documents WHERE seq IN (SELECT value FROM json_each(?))", list);
  sql.exec("DELETE FROM expiries WHERE seq IN (SELECT value FROM json_each(?))", list);
  return seqs.length;
};

/**
 * Writes the expiry rows of the next `limit` stored documents (in `seq` order, across
 * collections, so each step reads a bounded range whatever the collections hold); only documents
 * of TTL-indexed collections are decoded. Returns how many documents it stepped over; 0 when done.
 */
export const backfillBatch = (sql: Sql, limit: number, indexesOf: (coll: number) => readonly IndexSpec[]): number => {
  const cursor = sql.exec<{ after: number }>("SELECT after FROM expiry_backfill WHERE id = 1").toArray()[0];
  if (!cursor) return 0;
  const rows = sql.exec<{ seq: number; coll: number }>("SELECT seq, coll FROM documents WHERE seq > ? ORDER BY seq LIMIT ?", cursor.after, limit).toArray();
  const last = rows[rows.length - 1];
  if (!last) {
    sql.exec("DELETE FROM expiry_backfill WHERE id = 1");
    return 0;
  }
  const specs = new Map<number, IndexSpec[]>();
  for (const { seq, coll } of rows) {
    if (!specs.has(coll)) specs.set(coll, ttlIndexesOf(indexesOf(coll)));
    const ttl = specs.get(coll) ?? [];
    if (ttl.length === 0) continue;
    const body = sql.exec<{ body: string }>("SELECT body FROM documents WHERE seq = ?", seq).one().body;
    writeExpiry(sql, seq, decodeDocument(body), ttl);
  }
  sql.exec("UPDATE expiry_backfill SET after = ? WHERE id = 1", last.seq);
  return rows.length;
};

/**
 * One alarm turn: backfill first (until it is done, expiries it has not reached are unknown),
 * then purge, in batches of `bounds.batch`, each its own transaction, until the turn's document
 * or time bound is spent. `clock` is read between batches only. On deployed Workers the clock
 * advances only across I/O, so there the document bound is what holds the turn short.
 */
export const expiryTurn = (
  sql: Sql,
  transaction: <T>(fn: () => T) => T,
  indexesOf: (coll: number) => readonly IndexSpec[],
  now: number,
  clock: () => number,
  bounds: TurnBounds,
): TurnResult => {
  const started = clock();
  const result: TurnResult = { removed: 0, backfilled: 0, more: false };
  const done = () => result.removed + result.backfilled;
  // The first batch runs whatever the clock says, so a slow machine still makes progress.
  const spent = () => done() >= bounds.maxDocuments || (done() > 0 && clock() - started >= bounds.maxMs);
  while (backfillPending(sql)) {
    if (spent()) return { ...result, more: true };
    result.backfilled += transaction(() => backfillBatch(sql, Math.min(bounds.batch, bounds.maxDocuments - done()), indexesOf));
  }
  for (;;) {
    if (spent()) return { ...result, more: true };
    const size = Math.min(bounds.batch, bounds.maxDocuments - done());
    const removed = transaction(() => purgeBatch(sql, now, size));
    result.removed += removed;
    if (removed < size) return result;
  }
};
