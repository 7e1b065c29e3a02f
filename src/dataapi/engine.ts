/**
 * The narrow interface every storage engine implements: the SQLite engine inside the Durable
 * Object and the MongoDB engine inside the Node gateway. The protocol handler validates and
 * decodes requests, so engines receive well-typed, EJSON-decoded values only.
 */
export type Doc = Record<string, unknown>;

/** Where an action runs, and until when its caller waits for it. */
export interface Namespace {
  database: string;
  collection: string;
  /**
   * The request's `deadline`, in milliseconds since the Unix epoch. The handler has checked that
   * it had not passed; an engine that queues or runs long work stops by then (the SQLite engine
   * runs each action at once, in one transaction, and needs no more than the handler's check).
   */
  deadline?: number;
  /** Checks a collection an action learns only as it runs (a fenced insert's target), as the request's own was checked. */
  admit?: (collection: string) => void;
}

/**
 * What fences an insert (`insertOneFenced`): a document of `collection` that must match `filter`
 * as the insert applies, and whose `target` field names the collection the document goes to. A
 * store that cannot check and insert atomically holds a lease in the guard's `lease` map for the
 * time of the insert instead, as any writer fenced by that document does.
 */
export interface Fence extends ReadFence {
  lease: string;
}

/** What points a read at its collection (`findFenced`): the first document of `collection` matching `filter` names it in its `target` field. */
export interface ReadFence {
  collection: string;
  filter: Doc;
  target: string;
}

export interface FindSpec {
  filter: Doc;
  projection?: Doc;
  sort?: Record<string, 1 | -1>;
  limit?: number;
  skip?: number;
}

export interface UpdateSpec {
  filter: Doc;
  /** Operator document (`{$set: …}`) or an aggregation pipeline of update stages. */
  update: Doc | Doc[];
  upsert: boolean;
  multi: boolean;
}

export interface ReplaceSpec {
  filter: Doc;
  replacement: Doc;
  upsert: boolean;
}

export interface FindOneAndUpdateSpec {
  filter: Doc;
  update: Doc | Doc[];
  upsert: boolean;
  returnNewDocument: boolean;
  projection?: Doc;
  sort?: Record<string, 1 | -1>;
}

export interface UpdateResult {
  matchedCount: number;
  modifiedCount: number;
  upsertedId?: unknown;
}

export interface IndexSpec {
  key: Record<string, 1 | -1>;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  expireAfterSeconds?: number;
}

export interface Engine {
  find(ns: Namespace, spec: FindSpec): Promise<Doc[]>;
  insertMany(ns: Namespace, documents: Doc[]): Promise<unknown[]>;
  /**
   * Inserts `document` into the collection the fence's guard document names, once that document
   * matches, with nothing between the check and the insert that could move the collection: the
   * new `_id`, or null when no document matched. The SQLite engine does both in one transaction;
   * the MongoDB engine holds a lease (`<fence.lease>.<id>: deadline`) on the guard around them.
   */
  insertFenced(ns: Namespace & { deadline: number }, fence: Fence, document: Doc): Promise<unknown | null>;
  /**
   * Finds in the collection the fence's guard document names, once that document matches: the
   * documents, or null when no document matched. A read needs no lease: one that meets a rename
   * between the two reads finds the old name empty, as any read that raced it could.
   */
  findFenced(ns: Namespace, fence: ReadFence, spec: FindSpec): Promise<Doc[] | null>;
  update(ns: Namespace, spec: UpdateSpec): Promise<UpdateResult>;
  replaceOne(ns: Namespace, spec: ReplaceSpec): Promise<UpdateResult>;
  findOneAndUpdate(ns: Namespace, spec: FindOneAndUpdateSpec): Promise<Doc | null>;
  delete(ns: Namespace, filter: Doc, multi: boolean): Promise<number>;
  aggregate(ns: Namespace, pipeline: Doc[]): Promise<Doc[]>;
  countDocuments(ns: Namespace, filter: Doc): Promise<number>;
  createCollection(ns: Namespace): Promise<void>;
  /** Resolves true when a collection was dropped, false when there was none. */
  dropCollection(ns: Namespace): Promise<boolean>;
  renameCollection(ns: Namespace, to: string, dropTarget: boolean): Promise<void>;
  createIndexes(ns: Namespace, indexes: IndexSpec[]): Promise<void>;
  /**
   * Drops one index by name with its entries, its uniqueness and its TTL expiry. Resolves true
   * when there was such an index, false when there was none (or no collection): repeating it is fine.
   * Never called with `_id_` (the protocol refuses it).
   */
  dropIndex(ns: Namespace, name: string): Promise<boolean>;
  listCollections(database: string, filter: Doc): Promise<{ name: string }[]>;
  /** The bytes the database takes in storage, data and indexes, or null when the store cannot tell. */
  storageBytes(database: string): Promise<number | null>;
  /** Cheap liveness check of the storage behind the engine. */
  ping(): Promise<void>;
}
