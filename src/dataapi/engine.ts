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
