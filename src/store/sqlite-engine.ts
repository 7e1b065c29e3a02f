import { ObjectId } from "bson";
import { Aggregator } from "mingo/aggregator";
import { Query } from "mingo/query";
import { updateOne as applyUpdate } from "mingo/updater";
import { isPlainObject } from "../dataapi/ejson";
import type { Doc, Engine, FindOneAndUpdateSpec, FindSpec, IndexSpec, Namespace, ReplaceSpec, UpdateResult, UpdateSpec } from "../dataapi/engine";
import { DataApiError } from "../dataapi/errors";
import { forMingo } from "./bson-numbers";
import {
  assertReplacementDocument,
  assertUpdateDocument,
  decodeDocument,
  encodeDocument,
  encodeKey,
  ensureId,
  equalityValue,
  getPath,
  inDocumentOrder,
  seedFromFilter,
} from "./documents";
import { evaluate, MINGO_OPTIONS } from "./mingo";
import { restoreTypes } from "./retype";
import {
  expiryTurn,
  needsBackfill,
  removeCollectionExpiries,
  removeExpiry,
  startBackfill,
  TTL_SCHEMA,
  type TurnBounds,
  type TurnResult,
  writeExpiry,
} from "./ttl";

/** The subset of Durable Object SQL storage the engine uses (also what a test double would need). */
export interface Sql {
  exec<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): SqlStorageCursor<T>;
}

interface Row {
  seq: number;
  doc: Doc;
}

/** A row that matched a filter, with the form of its document mingo compared (see `forMingo`). */
interface Match extends Row {
  view: Doc;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS collections (id INTEGER PRIMARY KEY AUTOINCREMENT, db TEXT NOT NULL, name TEXT NOT NULL, UNIQUE (db, name));
CREATE TABLE IF NOT EXISTS documents (seq INTEGER PRIMARY KEY AUTOINCREMENT, coll INTEGER NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (coll, id));
CREATE TABLE IF NOT EXISTS indexes (coll INTEGER NOT NULL, name TEXT NOT NULL, spec TEXT NOT NULL, PRIMARY KEY (coll, name));
CREATE TABLE IF NOT EXISTS index_entries (coll INTEGER NOT NULL, idx TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, uniq INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS index_entries_unique ON index_entries (coll, idx, key) WHERE uniq = 1;
CREATE INDEX IF NOT EXISTS index_entries_key ON index_entries (coll, idx, key);
CREATE INDEX IF NOT EXISTS index_entries_seq ON index_entries (seq);
`;

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

const isUniqueViolation = (error: unknown): boolean => error instanceof Error && error.message.includes("UNIQUE constraint failed");

/** A caller's filter, update or pipeline as mingo evaluates it: JS numbers and JS regexes. */
const expression = <T>(value: T): T => forMingo(value, true);

/** A projection of a stored document: typed as stored, in its field order (see `inDocumentOrder`). */
const project = (doc: Doc, view: Doc, projection: Doc | undefined): Doc => {
  if (!projection || Object.keys(projection).length === 0) return doc;
  const [out] = evaluate(() => new Query({}, MINGO_OPTIONS).find([view], expression(projection)).all()) as Doc[];
  return inDocumentOrder(restoreTypes(out ?? {}, { before: doc }), doc);
};

const withoutSetOnInsert = (update: Doc | Doc[]): Doc | Doc[] => {
  if (Array.isArray(update) || !("$setOnInsert" in update)) return update;
  const { $setOnInsert: _ignored, ...rest } = update;
  return rest;
};

/**
 * MongoDB semantics on Durable Object SQLite. Documents are stored as EJSON text; filters,
 * projections, sorts and update operators are evaluated by mingo; `_id` and unique indexes are
 * real SQLite unique constraints, so uniqueness never depends on a read-then-write check. Every
 * action runs inside one SQLite transaction: it applies whole or not at all.
 */
export class SqliteEngine implements Engine {
  constructor(
    private readonly sql: Sql,
    private readonly transaction: <T>(fn: () => T) => T,
  ) {
    const backfill = needsBackfill(sql);
    for (const statement of [...SCHEMA.split(";"), ...TTL_SCHEMA].map((s) => s.trim()).filter(Boolean)) sql.exec(statement);
    if (backfill) startBackfill(sql);
  }

  // --- collections -----------------------------------------------------------------------

  private collectionId(ns: Namespace): number | undefined {
    return this.sql.exec<{ id: number }>("SELECT id FROM collections WHERE db = ? AND name = ?", ns.database, ns.collection).toArray()[0]?.id;
  }

  private ensureCollection(ns: Namespace): number {
    const existing = this.collectionId(ns);
    if (existing !== undefined) return existing;
    return this.sql.exec<{ id: number }>("INSERT INTO collections (db, name) VALUES (?, ?) RETURNING id", ns.database, ns.collection).one().id;
  }

  private indexes(coll: number): IndexSpec[] {
    return this.sql
      .exec<{ spec: string }>("SELECT spec FROM indexes WHERE coll = ? ORDER BY name", coll)
      .toArray()
      .map((r) => JSON.parse(r.spec) as IndexSpec);
  }

  // --- reading ---------------------------------------------------------------------------

  private *scan(coll: number): Generator<Row> {
    for (const row of this.sql.exec<{ seq: number; body: string }>("SELECT seq, body FROM documents WHERE coll = ? ORDER BY seq", coll)) {
      yield { seq: row.seq, doc: decodeDocument(row.body) };
    }
  }

  private rowsBySeq(coll: number, seqs: number[]): Row[] {
    const rows: Row[] = [];
    for (const seq of seqs) {
      const row = this.sql.exec<{ body: string }>("SELECT body FROM documents WHERE coll = ? AND seq = ?", coll, seq).toArray()[0];
      if (row) rows.push({ seq, doc: decodeDocument(row.body) });
    }
    return rows;
  }

  /**
   * The documents that may match a filter, narrowed by `_id` or by an index when the filter
   * asks for plain equality on every field of one; otherwise the whole collection in natural order.
   * Callers still test every candidate against the full filter.
   */
  private candidates(coll: number, filter: Doc): Iterable<Row> {
    const id = equalityValue(filter, "_id");
    if (id) {
      const row = this.sql
        .exec<{ seq: number; body: string }>("SELECT seq, body FROM documents WHERE coll = ? AND id = ?", coll, encodeKey(id.value))
        .toArray()[0];
      return row ? [{ seq: row.seq, doc: decodeDocument(row.body) }] : [];
    }
    for (const index of this.indexes(coll)) {
      const fields = Object.keys(index.key);
      const values = fields.map((f) => equalityValue(filter, f));
      if (values.some((v) => v === undefined || Array.isArray(v.value))) continue;
      // A sparse index has no entry for documents that lack the field: it cannot answer for null.
      if (index.sparse && values.some((v) => v?.value === null)) continue;
      const key = encodeKey(values.map((v) => v?.value ?? null));
      const seqs = this.sql
        .exec<{ seq: number }>("SELECT DISTINCT seq FROM index_entries WHERE coll = ? AND idx = ? AND key = ? ORDER BY seq", coll, index.name, key)
        .toArray()
        .map((r) => r.seq);
      return this.rowsBySeq(coll, seqs);
    }
    return this.scan(coll);
  }

  private matching(ns: Namespace, filter: Doc, limit = Number.POSITIVE_INFINITY, source?: (coll: number, filter: Doc) => Iterable<Row> | undefined): Match[] {
    const coll = this.collectionId(ns);
    if (coll === undefined || limit <= 0) return [];
    const query = evaluate(() => new Query(expression(filter), MINGO_OPTIONS));
    const rows: Match[] = [];
    // Candidates are found by the typed filter (index keys compare numbers by value), tested on views.
    for (const row of source?.(coll, filter) ?? this.candidates(coll, filter)) {
      const view = forMingo(row.doc);
      if (!evaluate(() => query.test(view))) continue;
      rows.push({ ...row, view });
      if (rows.length >= limit) break;
    }
    return rows;
  }

  /**
   * Documents in `_id` order straight from SQLite, for a sort on `_id` alone (how cursor pages
   * are read), with `_id` range conditions pushed into the query. Only when every `_id` in the
   * collection is an ObjectId: their stored keys then sort as the ObjectIds do; otherwise
   * BSON's cross-type order applies and the general path sorts.
   */
  private byId(ns: Namespace, direction: 1 | -1): ((coll: number, filter: Doc) => Iterable<Row>) | undefined {
    const coll = this.collectionId(ns);
    if (coll === undefined) return undefined;
    // Every other key sorts below or above the ObjectId prefix's range, so two probes of the
    // (coll, id) index answer what a scan of all keys would.
    const outside = (op: "<" | ">=", key: string) =>
      this.sql.exec(`SELECT 1 FROM documents WHERE coll = ? AND id ${op} ? LIMIT 1`, coll, key).toArray().length > 0;
    if (outside("<", OBJECT_ID_KEY_PREFIX) || outside(">=", OBJECT_ID_KEY_RANGE_END)) return undefined;
    const decode = this.decodeRows.bind(this);
    return (id, filter) => {
      const bounds = idBounds(filter._id);
      const where = bounds.map((b) => `AND id ${b.op} ?`).join(" ");
      const order = direction === 1 ? "ASC" : "DESC";
      return decode(
        this.sql.exec<{ seq: number; body: string }>(
          `SELECT seq, body FROM documents WHERE coll = ? ${where} ORDER BY id ${order}`,
          id,
          ...bounds.map((b) => b.key),
        ),
      );
    };
  }

  private *decodeRows(rows: Iterable<{ seq: number; body: string }>): Generator<Row> {
    for (const row of rows) yield { seq: row.seq, doc: decodeDocument(row.body) };
  }

  private select(ns: Namespace, spec: FindSpec): Doc[] {
    const skip = spec.skip ?? 0;
    const limit = spec.limit ?? Number.POSITIVE_INFINITY;
    const sortKeys = Object.keys(spec.sort ?? {});
    const idOrder = sortKeys.length === 1 && sortKeys[0] === "_id" ? spec.sort?._id : undefined;
    const source = idOrder ? this.byId(ns, idOrder) : undefined;
    // Without a sort, or in _id order from SQLite, the scan stops as soon as the page is full.
    const early = sortKeys.length === 0 || source !== undefined;
    let rows = this.matching(ns, spec.filter, early ? skip + limit : Number.POSITIVE_INFINITY, source);
    if (sortKeys.length > 0) {
      // mingo sorts the views it is given (the same objects, reordered); each leads back to its row.
      const byView = new Map(rows.map((r) => [r.view, r]));
      const sorted = evaluate(() =>
        new Query({}, MINGO_OPTIONS)
          .find(rows.map((r) => r.view))
          .sort(spec.sort as Record<string, 1 | -1>)
          .all(),
      );
      rows = sorted.map((view) => byView.get(view as Doc) as Match);
    }
    return rows.slice(skip, Number.isFinite(limit) ? skip + limit : undefined).map((r) => project(r.doc, r.view, spec.projection));
  }

  // --- writing ---------------------------------------------------------------------------

  private indexEntries(index: IndexSpec, doc: Doc): string[] {
    const fields = Object.keys(index.key);
    const values = fields.map((f) => getPath(doc, f));
    if (index.sparse && values.every((v) => v === undefined)) return [];
    if (fields.length === 1 && Array.isArray(values[0])) {
      // Multikey: one entry per distinct element, as MongoDB indexes arrays.
      return [...new Set(values[0].map((v) => encodeKey([v ?? null])))];
    }
    return [encodeKey(values.map((v) => v ?? null))];
  }

  private writeEntries(coll: number, seq: number, doc: Doc, indexes: IndexSpec[]): void {
    for (const index of indexes) {
      for (const key of this.indexEntries(index, doc)) {
        try {
          this.sql.exec("INSERT INTO index_entries (coll, idx, key, seq, uniq) VALUES (?, ?, ?, ?, ?)", coll, index.name, key, seq, index.unique ? 1 : 0);
        } catch (error) {
          if (isUniqueViolation(error)) throw new DataApiError("DuplicateKey", `duplicate key error: index ${index.name} dup key ${key}`);
          throw error;
        }
      }
    }
  }

  private insertDoc(coll: number, input: Doc, indexes: IndexSpec[]): unknown {
    const doc = ensureId(input);
    let seq: number;
    try {
      seq = this.sql
        .exec<{ seq: number }>("INSERT INTO documents (coll, id, body) VALUES (?, ?, ?) RETURNING seq", coll, encodeKey(doc._id), encodeDocument(doc))
        .one().seq;
    } catch (error) {
      if (isUniqueViolation(error)) throw new DataApiError("DuplicateKey", `duplicate key error: index _id_ dup key ${encodeKey(doc._id)}`);
      throw error;
    }
    this.writeEntries(coll, seq, doc, indexes);
    writeExpiry(this.sql, seq, doc, indexes);
    return doc._id;
  }

  private rewriteDoc(coll: number, row: Row, next: Doc, indexes: IndexSpec[]): void {
    if (encodeKey(next._id) !== encodeKey(row.doc._id)) throw new DataApiError("InvalidParameter", "the _id field cannot be changed");
    this.sql.exec("UPDATE documents SET body = ? WHERE seq = ?", encodeDocument(next), row.seq);
    this.sql.exec("DELETE FROM index_entries WHERE seq = ?", row.seq);
    this.writeEntries(coll, row.seq, next, indexes);
    writeExpiry(this.sql, row.seq, next, indexes);
  }

  private removeDoc(seq: number): void {
    removeExpiry(this.sql, seq);
    this.sql.exec("DELETE FROM index_entries WHERE seq = ?", seq);
    this.sql.exec("DELETE FROM documents WHERE seq = ?", seq);
  }

  /** Applies an update to one document; returns the new document, or null when nothing changed. */
  private applied(doc: Doc, update: Doc | Doc[]): Doc | null {
    const given = withoutSetOnInsert(update);
    const docs = [forMingo(doc)];
    evaluate(() => applyUpdate(docs, {}, expression(given) as Doc, { cloneMode: "copy" }, MINGO_OPTIONS));
    const after = restoreTypes(docs[0] as Doc, { before: doc, update: given });
    return encodeDocument(after) === encodeDocument(doc) ? null : after;
  }

  private upserted(filter: Doc, update: Doc | Doc[]): Doc {
    const seed = seedFromFilter(filter);
    const onInsert = !Array.isArray(update) && update.$setOnInsert ? { $set: update.$setOnInsert } : undefined;
    const withInsert = onInsert ? (this.applied(seed, onInsert) ?? seed) : seed;
    return ensureId(this.applied(withInsert, update) ?? withInsert);
  }

  /** Updates the matching rows; `last` holds the pre- and post-image of the last one (no pre-image for an upsert). */
  private updateRows(ns: Namespace, spec: UpdateSpec): { result: UpdateResult; last?: { before: Doc | null; after: Doc } } {
    assertUpdateDocument(spec.update);
    const coll = this.ensureCollection(ns);
    const indexes = this.indexes(coll);
    const rows = this.matching(ns, spec.filter, spec.multi ? Number.POSITIVE_INFINITY : 1);
    if (rows.length === 0 && spec.upsert) {
      const doc = this.upserted(spec.filter, spec.update);
      const upsertedId = this.insertDoc(coll, doc, indexes);
      return { result: { matchedCount: 0, modifiedCount: 0, upsertedId }, last: { before: null, after: doc } };
    }
    let modifiedCount = 0;
    let last: { before: Doc | null; after: Doc } | undefined;
    for (const row of rows) {
      const before = decodeDocument(encodeDocument(row.doc));
      const next = this.applied(row.doc, spec.update);
      if (next) {
        this.rewriteDoc(coll, row, next, indexes);
        modifiedCount++;
      }
      last = { before, after: next ?? before };
    }
    return { result: { matchedCount: rows.length, modifiedCount }, last };
  }

  // --- Engine ----------------------------------------------------------------------------

  async find(ns: Namespace, spec: FindSpec): Promise<Doc[]> {
    return this.select(ns, spec);
  }

  async insertMany(ns: Namespace, documents: Doc[]): Promise<unknown[]> {
    return this.transaction(() => {
      const coll = this.ensureCollection(ns);
      const indexes = this.indexes(coll);
      return documents.map((doc) => this.insertDoc(coll, doc, indexes));
    });
  }

  async update(ns: Namespace, spec: UpdateSpec): Promise<UpdateResult> {
    return this.transaction(() => this.updateRows(ns, spec).result);
  }

  async replaceOne(ns: Namespace, spec: ReplaceSpec): Promise<UpdateResult> {
    assertReplacementDocument(spec.replacement);
    return this.transaction(() => {
      const coll = this.ensureCollection(ns);
      const indexes = this.indexes(coll);
      const [row] = this.matching(ns, spec.filter, 1);
      if (!row) {
        if (!spec.upsert) return { matchedCount: 0, modifiedCount: 0 };
        const seed = seedFromFilter(spec.filter);
        const upsertedId = this.insertDoc(coll, { ...(seed._id === undefined ? {} : { _id: seed._id }), ...spec.replacement }, indexes);
        return { matchedCount: 0, modifiedCount: 0, upsertedId };
      }
      const next = { _id: row.doc._id, ...spec.replacement };
      if (spec.replacement._id !== undefined && encodeKey(spec.replacement._id) !== encodeKey(row.doc._id)) {
        throw new DataApiError("InvalidParameter", "the _id field cannot be changed");
      }
      const changed = encodeDocument(next) !== encodeDocument(row.doc);
      if (changed) this.rewriteDoc(coll, row, next, indexes);
      return { matchedCount: 1, modifiedCount: changed ? 1 : 0 };
    });
  }

  async findOneAndUpdate(ns: Namespace, spec: FindOneAndUpdateSpec): Promise<Doc | null> {
    return this.transaction(() => {
      let filter = spec.filter;
      if (spec.sort && Object.keys(spec.sort).length > 0) {
        // Pin the first document in sort order by its _id, then update exactly that one.
        const [first] = this.select(ns, { filter, sort: spec.sort, limit: 1, projection: { _id: 1 } });
        filter = first ? { _id: first._id } : filter;
      }
      const { last } = this.updateRows(ns, { filter, update: spec.update, upsert: spec.upsert, multi: false });
      if (!last) return null;
      const chosen = spec.returnNewDocument ? last.after : last.before;
      return chosen && project(chosen, forMingo(chosen), spec.projection);
    });
  }

  async delete(ns: Namespace, filter: Doc, multi: boolean): Promise<number> {
    return this.transaction(() => {
      const rows = this.matching(ns, filter, multi ? Number.POSITIVE_INFINITY : 1);
      for (const row of rows) this.removeDoc(row.seq);
      return rows.length;
    });
  }

  async aggregate(ns: Namespace, pipeline: Doc[]): Promise<Doc[]> {
    // Stages that reach other collections were refused by the protocol handler.
    const first = pipeline[0];
    // A leading $match narrows the input through the same index-aware path as find.
    const input = first && "$match" in first ? this.matching(ns, first.$match as Doc) : this.matching(ns, {});
    const out = evaluate(() => new Aggregator(expression(pipeline), MINGO_OPTIONS).run(input.map((r) => r.view)) as Doc[]);
    // A result that kept its _id gets its numbers' types from the document it came from.
    const byId = new Map(input.map((r) => [encodeKey(r.doc._id), r.doc]));
    return out.map((doc) => restoreTypes(doc, { before: isPlainObject(doc) ? byId.get(encodeKey(doc._id)) : undefined, update: pipeline }));
  }

  async countDocuments(ns: Namespace, filter: Doc): Promise<number> {
    return this.matching(ns, filter).length;
  }

  async createCollection(ns: Namespace): Promise<void> {
    this.transaction(() => this.ensureCollection(ns));
  }

  private drop(coll: number): void {
    this.sql.exec("DELETE FROM index_entries WHERE coll = ?", coll);
    this.sql.exec("DELETE FROM indexes WHERE coll = ?", coll);
    removeCollectionExpiries(this.sql, coll);
    this.sql.exec("DELETE FROM documents WHERE coll = ?", coll);
    this.sql.exec("DELETE FROM collections WHERE id = ?", coll);
  }

  async dropCollection(ns: Namespace): Promise<boolean> {
    return this.transaction(() => {
      const coll = this.collectionId(ns);
      if (coll === undefined) return false;
      this.drop(coll);
      return true;
    });
  }

  async renameCollection(ns: Namespace, to: string, dropTarget: boolean): Promise<void> {
    this.transaction(() => {
      const coll = this.collectionId(ns);
      if (coll === undefined) throw new DataApiError("NamespaceNotFound", `source namespace ${ns.database}.${ns.collection} does not exist`);
      if (to === ns.collection) return;
      const target = this.collectionId({ database: ns.database, collection: to });
      if (target !== undefined) {
        if (!dropTarget) throw new DataApiError("NamespaceExists", `target namespace ${ns.database}.${to} exists`);
        this.drop(target);
      }
      // Documents and index entries hang off the collection's id: a rename moves no data.
      this.sql.exec("UPDATE collections SET name = ? WHERE id = ?", to, coll);
    });
  }

  async createIndexes(ns: Namespace, indexes: IndexSpec[]): Promise<void> {
    this.transaction(() => {
      const coll = this.ensureCollection(ns);
      const existing = new Map(this.indexes(coll).map((i) => [i.name, i]));
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
        this.sql.exec("INSERT INTO indexes (coll, name, spec) VALUES (?, ?, ?)", coll, index.name, JSON.stringify(normalized));
        const all = normalized.expireAfterSeconds === undefined ? undefined : this.indexes(coll);
        for (const row of this.scan(coll)) {
          this.writeEntries(coll, row.seq, row.doc, [normalized]);
          if (all) writeExpiry(this.sql, row.seq, row.doc, all);
        }
      }
    });
  }

  async listCollections(database: string, filter: Doc): Promise<{ name: string }[]> {
    const names = this.sql
      .exec<{ name: string }>("SELECT name FROM collections WHERE db = ? ORDER BY name", database)
      .toArray()
      .map((r) => ({ name: r.name }));
    const query = evaluate(() => new Query(expression(filter), MINGO_OPTIONS));
    return names.filter((n) => query.test(n));
  }

  async ping(): Promise<void> {
    this.sql.exec("SELECT 1").toArray();
  }

  /**
   * One bounded step of TTL expiry (see ./ttl.ts): deletes documents that expired before `now`,
   * found through the expiry index, within `bounds`; `more` says whether another step is due.
   */
  expireTurn(now: number, clock: () => number, bounds: TurnBounds): TurnResult {
    return expiryTurn(this.sql, this.transaction, (coll) => this.indexes(coll), now, clock, bounds);
  }

  /** Whether any index asks for TTL expiry, so the host knows whether to schedule purges. */
  hasTtlIndexes(): boolean {
    return this.sql
      .exec<{ spec: string }>("SELECT spec FROM indexes")
      .toArray()
      .some((r) => (JSON.parse(r.spec) as IndexSpec).expireAfterSeconds !== undefined);
  }
}
