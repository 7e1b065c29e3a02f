import * as z from "../zod";
import { isPlainObject } from "./ejson";
import type { Doc, Engine, Namespace } from "./engine";
import { DataApiError } from "./errors";
import { MAX_BULK_DOCUMENTS, MAX_INDEXES_PER_REQUEST } from "./limits";

/**
 * Schemas are built on first use, not at import: building zod schemas is most of what evaluating
 * the Worker's module costs, and an isolate that never serves an action (the Worker's own, which
 * reaches the store over RPC) never needs these.
 */
const once = <T>(build: () => T): (() => T) => {
  let built: T | undefined;
  return () => {
    built ??= build();
    return built;
  };
};

const indexName = () => z.string().check(z.minLength(1), z.maxLength(128));

const parts = once(() => {
  const doc = z.custom<Doc>(isPlainObject, { message: "must be an object" });
  const sort = z.record(z.string(), z.union([z.literal(1), z.literal(-1)]));
  return {
    doc,
    sort,
    update: z.union([doc, z.array(doc)]),
    filter: z._default(doc, {}),
    upsert: z._default(z.boolean(), false),
    /** `_id_` belongs to the collection itself; `*` is MongoDB's "every index", which this one-name action never means. */
    droppableIndexName: indexName().check(
      z.refine((n) => n !== "_id_", "the _id_ index cannot be dropped"),
      z.refine((n) => n !== "*", "name one index: * (every index) is not accepted"),
    ),
    indexSpec: z.strictObject({
      key: z
        .record(z.string().check(z.minLength(1)), z.union([z.literal(1), z.literal(-1)]))
        .check(z.refine((k) => Object.keys(k).length > 0, "key must name a field")),
      name: indexName(),
      unique: z.optional(z.boolean()),
      sparse: z.optional(z.boolean()),
      expireAfterSeconds: z.optional(z.number().check(z.int(), z.gte(0))),
    }),
  };
});

/** A top-level field name: no operator, no path. */
const fieldName = () => z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "must be a plain field name"));

/** The hosted API's documented bounds for `find`. */
export const DEFAULT_FIND_LIMIT = 1000;
export const MAX_FIND_LIMIT = 50000;

type Action = {
  /** Built on first read. */
  readonly schema: z.ZodMiniType;
  /** listCollections and dbStats are the actions without a collection. */
  needsCollection?: false;
  run(engine: Engine, ns: Namespace, body: never): Promise<unknown>;
};

const action = <S extends z.ZodMiniType>(
  build: (p: ReturnType<typeof parts>) => S,
  run: (engine: Engine, ns: Namespace, body: z.infer<S>) => Promise<unknown>,
  needsCollection?: false,
): Action => {
  const schema = once(() => build(parts()));
  return {
    get schema() {
      return schema();
    },
    run: run as Action["run"],
    needsCollection,
  };
};

/** Every action of the protocol: the Data API v1 set plus the collection management this project adds. */
export const ACTIONS: Record<string, Action> = {
  findOne: action(
    (p) => z.object({ filter: p.filter, projection: z.optional(p.doc), sort: z.optional(p.sort) }),
    async (e, ns, b) => ({ document: (await e.find(ns, { ...b, limit: 1 }))[0] ?? null }),
  ),
  find: action(
    (p) =>
      z.object({
        filter: p.filter,
        projection: z.optional(p.doc),
        sort: z.optional(p.sort),
        limit: z._default(z.number().check(z.int(), z.gte(1), z.lte(MAX_FIND_LIMIT)), DEFAULT_FIND_LIMIT),
        skip: z.optional(z.number().check(z.int(), z.gte(0))),
      }),
    async (e, ns, b) => ({ documents: await e.find(ns, b) }),
  ),
  insertOne: action(
    (p) => z.object({ document: p.doc }),
    async (e, ns, b) => ({ insertedId: (await e.insertMany(ns, [b.document]))[0] }),
  ),
  insertOneFenced: action(
    (p) =>
      z.object({
        document: p.doc,
        fence: z.strictObject({ collection: z.string(), filter: p.doc, target: fieldName(), lease: fieldName() }),
      }),
    async (e, ns, b) => {
      // Required of every store alike, though only a store that leases needs it: how long a lease may last.
      if (ns.deadline === undefined) throw new DataApiError("InvalidParameter", "insertOneFenced needs a deadline");
      return { insertedId: await e.insertFenced({ ...ns, deadline: ns.deadline }, b.fence, b.document) };
    },
    false,
  ),
  findFenced: action(
    (p) =>
      z.object({
        fence: z.strictObject({ collection: z.string(), filter: p.doc, target: fieldName() }),
        filter: p.filter,
        projection: z.optional(p.doc),
        sort: z.optional(p.sort),
        limit: z._default(z.number().check(z.int(), z.gte(1), z.lte(MAX_FIND_LIMIT)), DEFAULT_FIND_LIMIT),
      }),
    async (e, ns, { fence, ...spec }) => ({ documents: await e.findFenced(ns, fence, spec) }),
    false,
  ),
  insertMany: action(
    (p) =>
      z.object({
        documents: z.array(p.doc).check(z.minLength(1), z.maxLength(MAX_BULK_DOCUMENTS, `at most ${MAX_BULK_DOCUMENTS} documents per request`)),
      }),
    async (e, ns, b) => ({ insertedIds: await e.insertMany(ns, b.documents) }),
  ),
  updateOne: action(
    (p) => z.object({ filter: p.filter, update: p.update, upsert: p.upsert }),
    (e, ns, b) => e.update(ns, { ...b, multi: false }),
  ),
  updateMany: action(
    (p) => z.object({ filter: p.filter, update: p.update, upsert: p.upsert }),
    (e, ns, b) => e.update(ns, { ...b, multi: true }),
  ),
  replaceOne: action(
    (p) => z.object({ filter: p.filter, replacement: p.doc, upsert: p.upsert }),
    (e, ns, b) => e.replaceOne(ns, b),
  ),
  deleteOne: action(
    (p) => z.object({ filter: p.filter }),
    async (e, ns, b) => ({ deletedCount: await e.delete(ns, b.filter, false) }),
  ),
  deleteMany: action(
    (p) => z.object({ filter: p.filter }),
    async (e, ns, b) => ({ deletedCount: await e.delete(ns, b.filter, true) }),
  ),
  aggregate: action(
    (p) => z.object({ pipeline: z.array(p.doc) }),
    async (e, ns, b) => ({ documents: await e.aggregate(ns, b.pipeline) }),
  ),
  findOneAndUpdate: action(
    (p) =>
      z.object({
        filter: p.filter,
        update: p.update,
        upsert: p.upsert,
        returnNewDocument: z._default(z.boolean(), false),
        projection: z.optional(p.doc),
        sort: z.optional(p.sort),
      }),
    async (e, ns, b) => ({ document: await e.findOneAndUpdate(ns, b) }),
  ),
  countDocuments: action(
    (p) => z.object({ filter: p.filter }),
    async (e, ns, b) => ({ count: await e.countDocuments(ns, b.filter) }),
  ),
  createCollection: action(
    () => z.object({}),
    async (e, ns) => {
      await e.createCollection(ns);
      return { ok: 1 };
    },
  ),
  dropCollection: action(
    () => z.object({}),
    async (e, ns) => ({ ok: 1, dropped: await e.dropCollection(ns) }),
  ),
  renameCollection: action(
    () => z.object({ to: z.string().check(z.minLength(1)), dropTarget: z._default(z.boolean(), false) }),
    async (e, ns, b) => {
      await e.renameCollection(ns, b.to, b.dropTarget);
      return { ok: 1 };
    },
  ),
  createIndexes: action(
    (p) =>
      z.object({
        indexes: z.array(p.indexSpec).check(z.minLength(1), z.maxLength(MAX_INDEXES_PER_REQUEST, `at most ${MAX_INDEXES_PER_REQUEST} indexes per request`)),
      }),
    async (e, ns, b) => {
      await e.createIndexes(ns, b.indexes);
      return { ok: 1 };
    },
  ),
  /** One index by name, as MongoDB's dropIndex: `{"dropped": bool}`, a missing index or collection is false. */
  dropIndexes: action(
    (p) => z.object({ name: p.droppableIndexName }),
    async (e, ns, b) => ({ dropped: await e.dropIndex(ns, b.name) }),
  ),
  listCollections: action(
    (p) => z.object({ filter: p.filter }),
    async (e, ns, b) => ({ collections: await e.listCollections(ns.database, b.filter) }),
    false,
  ),
  dbStats: action(
    () => z.object({}),
    async (e, ns) => ({ storageBytes: await e.storageBytes(ns.database) }),
    false,
  ),
};
