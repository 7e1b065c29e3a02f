import { BSON } from "bson";
import { Query } from "mingo";
import { type Document, type IndexDescription, type MongoClient, MongoServerError } from "mongodb";
import { isPlainObject } from "../src/dataapi/ejson";
import type {
  Doc,
  Engine,
  Fence,
  FindOneAndUpdateSpec,
  FindSpec,
  IndexSpec,
  Namespace,
  ReadFence,
  ReplaceSpec,
  UpdateResult,
  UpdateSpec,
} from "../src/dataapi/engine";
import { DataApiError } from "../src/dataapi/errors";
import { fencedTarget } from "../src/dataapi/fence";
import { Budget } from "./budget";
import { unstorableOnFerretDb } from "./ferretdb-values";
import { CODE, toDataApiError } from "./mongo-errors";
import { deleteManyInSteps, updateManyInSteps } from "./stepped-writes";
import type { TtlMonitor } from "./ttl-monitor";
import { WriteQueue } from "./write-queue";

export interface MongoEngineOptions {
  /** Every action answers within this bound (or the request's earlier deadline), and the database is told to stop by then too. */
  operationTimeoutMs: number;
  warn: (message: string) => void;
}

/**
 * Documents are read raw and decoded here with promoteValues off, so Int32, Int64 and Double
 * keep their types (the driver's default makes them all JS numbers). The driver's own
 * promoteValues option would decode the server's error replies that way too, leaving error
 * codes as Int32 objects that neither the driver's retry logic nor `toDataApiError` recognise.
 */
const RAW = { raw: true } as const;
const decoded = (bytes: unknown): Doc => BSON.deserialize(bytes as Uint8Array, { promoteValues: false }) as Doc;
const decodedOrNull = (bytes: unknown): Doc | null => (bytes ? decoded(bytes) : null);

/**
 * The document an upsert by `_id` alone inserts, when its update only sets, increments or sets on
 * insert plain top-level fields (what `upsertInTwoSteps` can build); otherwise undefined.
 */
const insertedBy = (filter: Doc, update: Doc | Doc[]): Doc | undefined => {
  const keys = Object.keys(filter);
  const id = filter._id;
  if (keys.length !== 1 || id === undefined || (isPlainObject(id) && Object.keys(id).some((k) => k.startsWith("$"))) || Array.isArray(update)) return undefined;
  const doc: Doc = { _id: id };
  for (const [operator, fields] of Object.entries(update)) {
    if (!["$set", "$inc", "$setOnInsert"].includes(operator) || !isPlainObject(fields)) return undefined;
    for (const [field, value] of Object.entries(fields)) {
      if (field === "_id" || field.includes(".") || field.startsWith("$") || Object.hasOwn(doc, field)) return undefined;
      doc[field] = value;
    }
  }
  return doc;
};

const hasCode = (error: unknown, code: number): boolean => error instanceof MongoServerError && error.code === code;

const updateResult = (r: { matchedCount: number; modifiedCount: number; upsertedId: unknown }): UpdateResult => ({
  matchedCount: r.matchedCount,
  modifiedCount: r.modifiedCount,
  ...(r.upsertedId == null ? {} : { upsertedId: r.upsertedId }),
});

const indexDescription = (index: IndexSpec, withTtl: boolean): IndexDescription => ({
  key: index.key,
  name: index.name,
  // Only true options are sent, so a spec reads the same however often it is created.
  ...(index.unique ? { unique: true } : {}),
  ...(index.sparse ? { sparse: true } : {}),
  ...(withTtl && index.expireAfterSeconds !== undefined ? { expireAfterSeconds: index.expireAfterSeconds } : {}),
});

/** What makes two indexes of one name different indexes (TTL is left to the server, see createIndexes). */
const shape = (index: { key: unknown; unique?: unknown; sparse?: unknown }): string =>
  JSON.stringify([Object.entries(index.key as Doc), index.unique === true, index.sparse === true]);

/**
 * The Engine on MongoDB through the official driver. The handler has validated the request and
 * decoded EJSON into bson classes, which the driver takes as they are. Server features that
 * FerretDB (the test stand-in) lacks are emulated here, each after the server said so once.
 */
export class MongoEngine implements Engine {
  /** FerretDB answers NotImplemented for these; real MongoDB keeps them true. */
  private ttlIndexes = true;
  private dropTargetOnRename = true;
  private findAndModifyProjection = true;
  /** Resolves true on FerretDB: its writes are read-then-write without isolation (see `write`), and some values break it. */
  private ferretDb: Promise<boolean> | undefined;
  private readonly writeQueue = new WriteQueue();
  /** dbStats per database, kept a minute: FerretDB sums it collection by collection, seconds with thousands of tenants. */
  private readonly sizes = new Map<string, { at: number; bytes: Promise<number | null> }>();
  /** Expires documents where the server cannot (see ttl-monitor.ts). */
  private ttlMonitor: TtlMonitor | undefined;

  constructor(
    private readonly client: MongoClient,
    private readonly options: MongoEngineOptions,
  ) {}

  expireWith(monitor: TtlMonitor): void {
    this.ttlMonitor = monitor;
  }

  /** The gateway's TTL monitor, once the server is known to have none of its own. */
  private get ttlFallback(): TtlMonitor | undefined {
    return this.ttlIndexes && !this.ttlMonitor?.hasSpecs ? undefined : this.ttlMonitor;
  }

  private collection(ns: Namespace) {
    return this.client.db(ns.database).collection<Doc>(ns.collection);
  }

  /**
   * Runs one action within its budget and maps whatever the driver throws to protocol errors.
   * The commands carry the budget as maxTimeMS; the timer answers even when the server does not
   * stop (FerretDB ignores maxTimeMS on writes, and a network stall has no server to stop it).
   */
  private async run<T>(ns: Pick<Namespace, "deadline"> | undefined, work: (budget: Budget) => Promise<T>): Promise<T> {
    const budget = new Budget(this.options.operationTimeoutMs, ns?.deadline);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(budget.spent()), budget.left());
    });
    try {
      return await Promise.race([work(budget), late]);
    } catch (error) {
      throw budget.isTimeout(error) ? budget.spent() : toDataApiError(error);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * MongoDB applies each single-document write atomically, and the service counts on it (guarded
   * status changes, the failed-login counter). FerretDB's SQLite backend reads, then writes,
   * without isolation, so two concurrent `$inc`s can both read the same value. On FerretDB the
   * gateway therefore runs its own writes to one database one at a time, which restores the
   * guarantee behind a single gateway (how the tests run it). Not one collection at a time: a
   * database is one SQLite file with one writer at a time, and writers that collide wait in
   * SQLite's busy handler (sleeps of up to 100 ms each) instead of taking turns here. Writes to
   * different databases run side by side. On MongoDB writes run concurrently, as they should.
   */
  private async write<T>(ns: Namespace, budget: Budget, work: () => Promise<T>): Promise<T> {
    const run = async () => {
      const serial = await this.isFerretDb();
      // Checked when the write's turn comes: one whose caller gave up while it waited is never applied.
      const start = () => (budget.left() === 0 ? Promise.reject(budget.spent()) : work());
      return serial ? this.writeQueue.run(ns.database, start) : start();
    };
    // The gateway's TTL expiry looks at this collection again (see `TtlMonitor.writing`).
    return this.ttlMonitor ? this.ttlMonitor.writing(ns, run) : run();
  }

  private isFerretDb(): Promise<boolean> {
    this.ferretDb ??= this.client
      .db("admin")
      .command({ buildInfo: 1 })
      .then((info) => {
        if (info.ferretdbVersion === undefined) return false;
        this.options.warn(`FerretDB (version ${info.ferretdbVersion}): writes are serialised in this gateway for single-document atomicity`);
        return true;
      });
    // An unreachable server is not a verdict: ask again next time.
    return this.ferretDb.catch((error) => {
      this.ferretDb = undefined;
      throw error;
    });
  }

  /** Values FerretDB cannot take are the caller's 400, found before they reach it (see `unstorableOnFerretDb`). */
  private async refuseUnstorable(...values: unknown[]): Promise<void> {
    if (!(await this.isFerretDb())) return;
    const problem = values.map((v) => unstorableOnFerretDb(v)).find(Boolean);
    if (problem) throw new DataApiError("InvalidParameter", problem);
  }

  private async exists(ns: Namespace, budget: Budget): Promise<boolean> {
    const found = await this.client
      .db(ns.database)
      .listCollections({ name: ns.collection }, { nameOnly: true, ...budget.maxTime() })
      .toArray();
    return found.length > 0;
  }

  find(ns: Namespace, spec: FindSpec): Promise<Doc[]> {
    const { filter, ...options } = spec;
    return this.run(ns, async (budget) => {
      await this.refuseUnstorable(filter);
      // findOne asks for a single batch, so no cursor is left open on the server.
      if (spec.limit === 1) {
        const doc = decodedOrNull(await this.collection(ns).findOne(filter, { ...options, ...budget.maxTime(), ...RAW }));
        return doc ? [doc] : [];
      }
      return (
        await this.collection(ns)
          .find(filter, { ...options, ...budget.maxTime(), ...RAW })
          .toArray()
      ).map(decoded);
    });
  }

  insertMany(ns: Namespace, documents: Doc[]): Promise<unknown[]> {
    return this.run(ns, async (budget) => {
      await this.refuseUnstorable(documents);
      // The driver gives each document without one an ObjectId `_id`, as mongod would.
      const result = await this.write(ns, budget, () => this.collection(ns).insertMany(documents, { ordered: true, ...budget.maxTime() }));
      return documents.map((_, i) => result.insertedIds[i]);
    });
  }

  /**
   * MongoDB checks one document and inserts into another only in a transaction (FerretDB has
   * none), so a lease in the guard's `lease` map (`<lease>.<id>: deadline`), set by the same update
   * that checks the filter, holds off whatever waits for that map to empty (a rename or delete of
   * an organization, src/domain/kernel/leases.ts) until the insert applied. It is given back
   * before the answer, whatever happened; one never given back (the gateway died) expires at the
   * deadline, after which no insert of this call can begin.
   */
  async insertFenced(ns: Namespace & { deadline: number }, fence: Fence, document: Doc): Promise<unknown | null> {
    const guardNs = { ...ns, collection: fence.collection };
    const held = `${fence.lease}.${crypto.randomUUID().replaceAll("-", "")}`;
    const guard = await this.findOneAndUpdate(guardNs, {
      filter: fence.filter,
      update: { $set: { [held]: new Date(ns.deadline) } },
      upsert: false,
      returnNewDocument: true,
      projection: { [fence.target]: 1 },
    });
    if (!guard) return null;
    try {
      const target = fencedTarget(ns, fence, guard) as string;
      return (await this.insertMany({ ...ns, collection: target }, [document]))[0];
    } finally {
      // Without the deadline: the lease goes even when the insert ran out of time.
      const { deadline: _, ...untimed } = guardNs;
      await this.update(untimed, { filter: { _id: guard._id }, update: { $unset: { [held]: "" } }, upsert: false, multi: false });
    }
  }

  /** Two reads: one that meets a rename between them finds the old name empty, as any read racing it could. */
  async findFenced(ns: Namespace, fence: ReadFence, spec: FindSpec): Promise<Doc[] | null> {
    const [guard] = await this.find({ ...ns, collection: fence.collection }, { filter: fence.filter, projection: { [fence.target]: 1 }, limit: 1 });
    const target = fencedTarget(ns, fence, guard);
    return target === null ? null : this.find({ ...ns, collection: target }, spec);
  }

  update(ns: Namespace, spec: UpdateSpec): Promise<UpdateResult> {
    return this.run(ns, async (budget) => {
      await this.refuseUnstorable(spec.filter, spec.update);
      const coll = this.collection(ns);
      if (spec.multi && (await this.isFerretDb())) return updateResult(await updateManyInSteps(coll, spec, budget, (work) => this.write(ns, budget, work)));
      return updateResult(
        await this.write(ns, budget, () => {
          const options = { upsert: spec.upsert, ...budget.maxTime() };
          return spec.multi ? coll.updateMany(spec.filter, spec.update, options) : coll.updateOne(spec.filter, spec.update, options);
        }),
      );
    });
  }

  replaceOne(ns: Namespace, spec: ReplaceSpec): Promise<UpdateResult> {
    return this.run(ns, async (budget) => {
      await this.refuseUnstorable(spec.filter, spec.replacement);
      return updateResult(
        await this.write(ns, budget, () => this.collection(ns).replaceOne(spec.filter, spec.replacement, { upsert: spec.upsert, ...budget.maxTime() })),
      );
    });
  }

  findOneAndUpdate(ns: Namespace, spec: FindOneAndUpdateSpec): Promise<Doc | null> {
    return this.run(ns, async (budget) => {
      await this.refuseUnstorable(spec.filter, spec.update);
      const seed = spec.upsert && !spec.returnNewDocument && !spec.sort && !spec.projection ? insertedBy(spec.filter, spec.update) : undefined;
      if (seed && (await this.isFerretDb())) return decodedOrNull(await this.write(ns, budget, () => this.upsertInTwoSteps(ns, spec, seed, budget)));
      const { projection } = spec;
      const send = async (withProjection: boolean) =>
        decodedOrNull(
          await this.write(ns, budget, () =>
            this.collection(ns).findOneAndUpdate(spec.filter, spec.update, {
              ...budget.maxTime(),
              upsert: spec.upsert,
              returnDocument: spec.returnNewDocument ? "after" : "before",
              ...(spec.sort ? { sort: spec.sort } : {}),
              ...(withProjection && projection ? { projection } : {}),
              includeResultMetadata: false,
              ...RAW,
            }),
          ),
        );
      if (!projection || this.findAndModifyProjection) {
        try {
          return await send(true);
        } catch (error) {
          // NotImplemented is refused before anything is written, so sending again is safe.
          if (!projection || !hasCode(error, CODE.NotImplemented)) throw error;
          this.findAndModifyProjection = false;
          this.options.warn("this server cannot project findAndModify results; the gateway projects them itself");
        }
      }
      const doc = await send(false);
      return doc && (new Query({}, { scriptEnabled: false }).find([doc], projection).all()[0] as Doc);
    });
  }

  /**
   * FerretDB's upserting findAndModify costs measurably less when it inserts than when it updates,
   * so its time would tell whether the document existed (the login counter's upsert: whether an
   * e-mail has an account). There the gateway updates without upsert and, when nothing matched,
   * inserts the document the upsert would have made: about one update's cost either way. Both
   * steps are one turn of the write queue, so no other write of the gateway comes in between.
   */
  private async upsertInTwoSteps(ns: Namespace, spec: FindOneAndUpdateSpec, seed: Doc, budget: Budget): Promise<unknown> {
    const coll = this.collection(ns);
    const before = await coll.findOneAndUpdate(spec.filter, spec.update, {
      ...budget.maxTime(),
      upsert: false,
      returnDocument: "before",
      includeResultMetadata: false,
      ...RAW,
    });
    if (!before) await coll.insertOne(seed, budget.maxTime());
    return before;
  }

  delete(ns: Namespace, filter: Doc, multi: boolean): Promise<number> {
    return this.run(ns, async (budget) => {
      await this.refuseUnstorable(filter);
      const coll = this.collection(ns);
      if (multi && (await this.isFerretDb())) return deleteManyInSteps(coll, filter, budget, (work) => this.write(ns, budget, work));
      return (await this.write(ns, budget, () => (multi ? coll.deleteMany(filter, budget.maxTime()) : coll.deleteOne(filter, budget.maxTime())))).deletedCount;
    });
  }

  aggregate(ns: Namespace, pipeline: Doc[]): Promise<Doc[]> {
    // Stages that reach other collections were refused by the protocol handler.
    return this.run(ns, async (budget) => {
      await this.refuseUnstorable(pipeline);
      return (
        await this.collection(ns)
          .aggregate(pipeline, { ...budget.maxTime(), ...RAW })
          .toArray()
      ).map(decoded);
    });
  }

  countDocuments(ns: Namespace, filter: Doc): Promise<number> {
    return this.run(ns, async (budget) => {
      await this.refuseUnstorable(filter);
      return this.collection(ns).countDocuments(filter, budget.maxTime());
    });
  }

  createCollection(ns: Namespace): Promise<void> {
    return this.run(ns, async (budget) => {
      try {
        await this.client.db(ns.database).command({ create: ns.collection, ...budget.maxTime() });
      } catch (error) {
        // The protocol makes create idempotent; the server's NamespaceExists means "already done".
        if (!hasCode(error, CODE.NamespaceExists)) throw error;
      }
    });
  }

  dropCollection(ns: Namespace): Promise<boolean> {
    return this.run(ns, async (budget) => {
      const dropped = await this.drop(ns, budget);
      if (dropped) await this.ttlFallback?.dropped(ns);
      return dropped;
    });
  }

  private async drop(ns: Namespace, budget: Budget): Promise<boolean> {
    // MongoDB 7+ and FerretDB both answer ok for a missing collection, so ask first. Two
    // concurrent drops may both report true; the end state is the same.
    if (!(await this.exists(ns, budget))) return false;
    try {
      await this.client.db(ns.database).command({ drop: ns.collection, ...budget.maxTime() });
    } catch (error) {
      if (hasCode(error, CODE.NamespaceNotFound)) return false;
      throw error;
    }
    return true;
  }

  renameCollection(ns: Namespace, to: string, dropTarget: boolean): Promise<void> {
    return this.run(ns, async (budget) => {
      if (to === ns.collection) {
        // The server calls renaming onto itself an illegal operation; the protocol (like the embedded store) a no-op.
        if (!(await this.exists(ns, budget))) throw new DataApiError("NamespaceNotFound", "source namespace does not exist");
        return;
      }
      const admin = this.client.db("admin");
      const command = { renameCollection: `${ns.database}.${ns.collection}`, to: `${ns.database}.${to}` };
      if (dropTarget && this.dropTargetOnRename) {
        try {
          await admin.command({ ...command, dropTarget: true, ...budget.maxTime() });
          await this.ttlFallback?.renamed(ns, to, true);
          return;
        } catch (error) {
          if (!hasCode(error, CODE.NotImplemented)) throw error;
          this.dropTargetOnRename = false;
          this.options.warn("this server cannot rename with dropTarget; the gateway drops the target first (not atomic)");
        }
      }
      if (dropTarget) {
        // Only when the source exists, so a failed rename never costs the target its data.
        if (!(await this.exists(ns, budget))) throw new DataApiError("NamespaceNotFound", "source namespace does not exist");
        await this.drop({ database: ns.database, collection: to }, budget);
      }
      await admin.command({ ...command, ...budget.maxTime() });
      await this.ttlFallback?.renamed(ns, to, false);
    });
  }

  createIndexes(ns: Namespace, indexes: IndexSpec[]): Promise<void> {
    return this.run(ns, async (budget) => {
      // Where the server drops the expiry, the gateway remembers it and expires documents itself.
      if (!this.ttlIndexes) await this.ttlMonitor?.refuseConflicts(ns, indexes);
      await this.sendIndexes(ns, indexes, budget);
      if (!this.ttlIndexes) await this.ttlMonitor?.remember(ns, indexes);
    });
  }

  private async sendIndexes(ns: Namespace, indexes: IndexSpec[], budget: Budget): Promise<void> {
    const coll = this.collection(ns);
    const existing = new Map<string, Document>();
    try {
      for (const index of await coll.listIndexes(budget.maxTime()).toArray()) existing.set(index.name, index);
    } catch (error) {
      if (!hasCode(error, CODE.NamespaceNotFound)) throw error;
    }
    // MongoDB refuses a same-named index with other options; FerretDB silently keeps the old one.
    // FerretDB lists a sparse index without `sparse` (its unique indexes skip a missing field anyway).
    const lenient = await this.isFerretDb();
    for (const index of indexes) {
      const current = existing.get(index.name) as IndexSpec | undefined;
      if (current && shape(lenient ? { ...current, sparse: index.sparse } : current) !== shape(index)) {
        throw new DataApiError("IndexConflict", `an index named ${index.name} exists with other options`);
      }
    }
    // Indexes already there as asked are not sent again: that saves a write per Worker isolate,
    // and FerretDB 1.24 panics (dropping the connection) on a createIndexes whose indexes all exist.
    // A TTL that differs goes to the server, which refuses it as MongoDB does (IndexOptionsConflict).
    const missing = (withTtl: boolean) =>
      indexes.filter((i) => {
        const current = existing.get(i.name);
        return !current || (withTtl && current.expireAfterSeconds !== i.expireAfterSeconds);
      });
    const wanted = missing(this.ttlIndexes);
    if (wanted.length === 0) return;
    const wantsTtl = this.ttlIndexes && wanted.some((i) => i.expireAfterSeconds !== undefined);
    try {
      await coll.createIndexes(
        wanted.map((i) => indexDescription(i, this.ttlIndexes)),
        budget.maxTime(),
      );
      return;
    } catch (error) {
      if (!wantsTtl || !hasCode(error, CODE.NotImplemented)) throw error;
      this.ttlIndexes = false;
      this.options.warn("this server has no TTL indexes; they are created without expiry, and the gateway expires documents itself");
    }
    const rest = missing(false);
    if (rest.length > 0)
      await coll.createIndexes(
        rest.map((i) => indexDescription(i, false)),
        budget.maxTime(),
      );
  }

  dropIndex(ns: Namespace, name: string): Promise<boolean> {
    return this.run(ns, async (budget) => {
      // The remembered TTL spec goes first, so expiry stops even if the drop below never happens;
      // asked of the monitor whatever this process has seen, since a fresh gateway may not know yet that the server lacks TTL.
      await this.ttlMonitor?.forget(ns, name);
      try {
        await this.collection(ns).dropIndex(name, budget.maxTime());
        return true;
      } catch (error) {
        // Both MongoDB and FerretDB: 26 for a missing collection, 27 for a missing index; the protocol answers false.
        if (hasCode(error, CODE.NamespaceNotFound) || hasCode(error, CODE.IndexNotFound)) return false;
        throw error;
      }
    });
  }

  listCollections(database: string, filter: Doc): Promise<{ name: string }[]> {
    return this.run(undefined, async (budget) => {
      const found = await this.client
        .db(database)
        .listCollections(filter, { nameOnly: true, ...budget.maxTime() })
        .toArray();
      return found
        .map((c) => ({ name: c.name }))
        .filter((c) => !c.name.startsWith("system."))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    });
  }

  /** dbStats: data and indexes as stored (`storageSize` + `indexSize`), or null when the server leaves them out; at most once a minute. */
  storageBytes(database: string): Promise<number | null> {
    const kept = this.sizes.get(database);
    if (kept && Date.now() - kept.at < 60_000) return kept.bytes;
    const bytes = this.measureBytes(database);
    this.sizes.set(database, { at: Date.now(), bytes });
    bytes.catch(() => this.sizes.delete(database));
    return bytes;
  }

  private measureBytes(database: string): Promise<number | null> {
    return this.run(undefined, async (budget) => {
      const stats = await this.client.db(database).command({ dbStats: 1, ...budget.maxTime() });
      const storage = Number(stats.storageSize);
      const indexes = Number(stats.indexSize ?? 0);
      return Number.isFinite(storage) ? storage + (Number.isFinite(indexes) ? indexes : 0) : null;
    });
  }

  ping(): Promise<void> {
    return this.run(undefined, async (budget) => {
      await this.client.db("admin").command({ ping: 1, ...budget.maxTime() });
    });
  }
}
