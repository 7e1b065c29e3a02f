import type { IndexSpec, Namespace } from "../dataapi/engine";
import type { Sql } from "./sql";

/** The collection's id, which documents and index entries hang off; undefined when it does not exist. */
export const collectionId = (sql: Sql, ns: Namespace): number | undefined =>
  sql.exec<{ id: number }>("SELECT id FROM collections WHERE db = ? AND name = ?", ns.database, ns.collection).toArray()[0]?.id;

/** Writes create their collection, as in MongoDB. */
export const ensureCollection = (sql: Sql, ns: Namespace): number => {
  const existing = collectionId(sql, ns);
  if (existing !== undefined) return existing;
  return sql.exec<{ id: number }>("INSERT INTO collections (db, name) VALUES (?, ?) RETURNING id", ns.database, ns.collection).one().id;
};

export const indexesOf = (sql: Sql, coll: number): IndexSpec[] =>
  sql
    .exec<{ spec: string }>("SELECT spec FROM indexes WHERE coll = ? ORDER BY name", coll)
    .toArray()
    .map((r) => JSON.parse(r.spec) as IndexSpec);

/** Whether any index asks for TTL expiry, so the host knows whether to schedule purges. */
export const hasTtlIndexes = (sql: Sql): boolean =>
  sql
    .exec<{ spec: string }>("SELECT spec FROM indexes")
    .toArray()
    .some((r) => (JSON.parse(r.spec) as IndexSpec).expireAfterSeconds !== undefined);
