import { backfillKinds, KEY_ORDER_SCHEMA } from "./key-order";
import type { Sql } from "./sql";
import { needsBackfill, startBackfill, TTL_SCHEMA } from "./ttl";

/**
 * Documents hang off their collection's id, so a rename changes one `collections` row. Unique
 * indexes are a partial unique index over `index_entries` (`uniq = 1`), so SQLite itself refuses
 * a duplicate and uniqueness never depends on a read-then-write check.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS collections (id INTEGER PRIMARY KEY AUTOINCREMENT, db TEXT NOT NULL, name TEXT NOT NULL, UNIQUE (db, name));
CREATE TABLE IF NOT EXISTS documents (seq INTEGER PRIMARY KEY AUTOINCREMENT, coll INTEGER NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (coll, id));
CREATE TABLE IF NOT EXISTS indexes (coll INTEGER NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL, PRIMARY KEY (coll, name));
CREATE TABLE IF NOT EXISTS index_entries (coll INTEGER NOT NULL, idx TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, uniq INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS index_entries_unique ON index_entries (coll, idx, key) WHERE uniq = 1;
CREATE INDEX IF NOT EXISTS index_entries_key ON index_entries (coll, idx, key);
CREATE INDEX IF NOT EXISTS index_entries_seq ON index_entries (seq);
`;

/** Creates the tables a new store lacks; a store from before TTL's table gets its backfill started. */
export const applySchema = (sql: Sql): void => {
  // Asked before TTL_SCHEMA runs: afterwards the expiry table exists either way.
  const backfill = needsBackfill(sql);
  const kindsMissing = sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'index_orders'").toArray().length === 0;
  for (const statement of [...SCHEMA.split(";"), ...TTL_SCHEMA, KEY_ORDER_SCHEMA].map((s) => s.trim()).filter(Boolean)) sql.exec(statement);
  if (backfill) startBackfill(sql);
  if (kindsMissing) backfillKinds(sql);
};
