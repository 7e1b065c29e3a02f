import { Query } from "mingo/query";
import type { Doc, IndexSpec, Namespace } from "../dataapi/engine";
import { DataApiError } from "../dataapi/errors";
import { ttlIndexesOf } from "../dataapi/expiry";
import { collectionId, ensureCollection, forgetCatalog, indexesOf } from "./catalog";
import { forgetKinds } from "./key-order";
import { evaluate, expression, MINGO_OPTIONS } from "./mingo";
import { scan } from "./query-plan";
import type { Sql } from "./sql";
import { removeCollectionExpiries, writeExpiry } from "./ttl";
import { writeEntries } from "./writes";

const drop = (sql: Sql, coll: number): void => {
  forgetCatalog(sql);
  forgetKinds(sql, coll);
  sql.exec("DELETE FROM index_entries WHERE coll = ?", coll);
  sql.exec("DELETE FROM indexes WHERE coll = ?", coll);
  removeCollectionExpiries(sql, coll);
  sql.exec("DELETE FROM documents WHERE coll = ?", coll);
  sql.exec("DELETE FROM collections WHERE id = ?", coll);
};

/** Returns whether there was a collection to drop: a missing one is fine. */
export const dropCollection = (sql: Sql, ns: Namespace): boolean => {
  const coll = collectionId(sql, ns);
  if (coll === undefined) return false;
  drop(sql, coll);
  return true;
};

export const renameCollection = (sql: Sql, ns: Namespace, to: string, dropTarget: boolean): void => {
  const coll = collectionId(sql, ns);
  if (coll === undefined) throw new DataApiError("NamespaceNotFound", `source namespace ${ns.database}.${ns.collection} does not exist`);
  if (to === ns.collection) return;
  const target = collectionId(sql, { database: ns.database, collection: to });
  if (target !== undefined) {
    if (!dropTarget) throw new DataApiError("NamespaceExists", `target namespace ${ns.database}.${to} exists`);
    drop(sql, target);
  }
  // Documents and index entries hang off the collection's id: a rename moves no data.
  forgetCatalog(sql);
  sql.exec("UPDATE collections SET name = ? WHERE id = ?", to, coll);
};

/** Idempotent per name; a new index is built over the documents already there (and refuses their duplicates). */
export const createIndexes = (sql: Sql, ns: Namespace, indexes: IndexSpec[]): void => {
  const coll = ensureCollection(sql, ns);
  const existing = new Map(indexesOf(sql, coll).map((i) => [i.name, i]));
  for (const index of indexes) {
    const normalized: IndexSpec = {
      key: index.key,
      name: index.name,
      unique: index.unique ?? false,
      sparse: index.sparse ?? false,
      ...(index.expireAfterSeconds === undefined ? {} : { expireAfterSeconds: index.expireAfterSeconds }),
    };
    const current = existing.get(index.name);
    if (current) {
      if (JSON.stringify(current) !== JSON.stringify(normalized))
        throw new DataApiError("IndexConflict", `an index named ${index.name} exists with other options`);
      continue;
    }
    forgetCatalog(sql);
    sql.exec("INSERT INTO indexes (coll, name, spec) VALUES (?, ?, ?)", coll, index.name, JSON.stringify(normalized));
    forgetKinds(sql, coll, index.name);
    const all = normalized.expireAfterSeconds === undefined ? undefined : indexesOf(sql, coll);
    for (const row of scan(sql, coll)) {
      writeEntries(sql, coll, row.seq, row.doc, [normalized]);
      if (all) writeExpiry(sql, row.seq, row.doc, all);
    }
  }
};

/**
 * Drops one index by name: its spec, its entries (and with them its uniqueness). Dropping a TTL
 * index rewrites the collection's expiry rows from the TTL indexes left, or removes them when none
 * is: a document then expires as the remaining indexes say, or never. False when there was none.
 */
export const dropIndex = (sql: Sql, ns: Namespace, name: string): boolean => {
  const coll = collectionId(sql, ns);
  if (coll === undefined) return false;
  forgetCatalog(sql);
  const dropped = sql.exec<{ spec: string }>("DELETE FROM indexes WHERE coll = ? AND name = ? RETURNING spec", coll, name).toArray()[0];
  if (!dropped) return false;
  sql.exec("DELETE FROM index_entries WHERE coll = ? AND idx = ?", coll, name);
  forgetKinds(sql, coll, name);
  if ((JSON.parse(dropped.spec) as IndexSpec).expireAfterSeconds === undefined) return true;
  const remaining = indexesOf(sql, coll);
  if (ttlIndexesOf(remaining).length === 0) removeCollectionExpiries(sql, coll);
  else for (const row of scan(sql, coll)) writeExpiry(sql, row.seq, row.doc, remaining);
  return true;
};

export const listCollections = (sql: Sql, database: string, filter: Doc): { name: string }[] => {
  const names = sql
    .exec<{ name: string }>("SELECT name FROM collections WHERE db = ? ORDER BY name", database)
    .toArray()
    .map((r) => ({ name: r.name }));
  const query = evaluate(() => new Query(expression(filter), MINGO_OPTIONS));
  return names.filter((n) => query.test(n));
};
