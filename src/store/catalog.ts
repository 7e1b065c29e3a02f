import type { IndexSpec, Namespace } from "../dataapi/engine";
import type { Sql } from "./sql";

/**
 * The catalog as last read, per SQL handle. Every action reads its collection's id and index
 * specs; they change only through the functions of this folder, each of which calls
 * `forgetCatalog` when it writes the catalog, and the engine forgets it when a transaction fails
 * (a rolled-back change may have been read back meanwhile). The object is the only writer of its
 * SQLite file, so nothing else can make it stale.
 */
interface Known {
  ids: Map<string, number>;
  indexes: Map<number, readonly IndexSpec[]>;
}
const known = new WeakMap<Sql, Known>();

/** Collections remembered at most: past it the copy starts over, so a database of many tenants cannot grow it without bound. */
const MAX_KNOWN = 10_000;

const knownOf = (sql: Sql): Known => {
  let entry = known.get(sql);
  if (!entry || entry.ids.size >= MAX_KNOWN || entry.indexes.size >= MAX_KNOWN) {
    entry = { ids: new Map(), indexes: new Map() };
    known.set(sql, entry);
  }
  return entry;
};

/** Called by every write to the `collections` or `indexes` tables, and after a failed transaction. */
export const forgetCatalog = (sql: Sql): void => {
  known.delete(sql);
};

/** The collection's id, which documents and index entries hang off; undefined when it does not exist. */
export const collectionId = (sql: Sql, ns: Namespace): number | undefined => {
  const { ids } = knownOf(sql);
  const key = `${ns.database}\u0000${ns.collection}`;
  const cached = ids.get(key);
  if (cached !== undefined) return cached;
  const id = sql.exec<{ id: number }>("SELECT id FROM collections WHERE db = ? AND name = ?", ns.database, ns.collection).toArray()[0]?.id;
  // Only collections that exist are remembered: names asked for and never created take no room.
  if (id !== undefined) ids.set(key, id);
  return id;
};

/** Writes create their collection, as in MongoDB. */
export const ensureCollection = (sql: Sql, ns: Namespace): number => {
  const existing = collectionId(sql, ns);
  if (existing !== undefined) return existing;
  forgetCatalog(sql);
  return sql.exec<{ id: number }>("INSERT INTO collections (db, name) VALUES (?, ?) RETURNING id", ns.database, ns.collection).one().id;
};

/** The collection's index specs by name; frozen, as every action of the collection shares them. */
export const indexesOf = (sql: Sql, coll: number): readonly IndexSpec[] => {
  const { indexes } = knownOf(sql);
  let specs = indexes.get(coll);
  if (!specs) {
    specs = Object.freeze(
      sql
        .exec<{ spec: string }>("SELECT spec FROM indexes WHERE coll = ? ORDER BY name", coll)
        .toArray()
        .map((r) => Object.freeze(JSON.parse(r.spec) as IndexSpec)),
    );
    indexes.set(coll, specs);
  }
  return specs;
};

/** Whether any index asks for TTL expiry, so the host knows whether to schedule purges. */
export const hasTtlIndexes = (sql: Sql): boolean =>
  sql
    .exec<{ spec: string }>("SELECT spec FROM indexes")
    .toArray()
    .some((r) => (JSON.parse(r.spec) as IndexSpec).expireAfterSeconds !== undefined);
