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
} from "../dataapi/engine";
import { fencedTarget } from "../dataapi/fence";
import { ensureCollection, forgetCatalog, hasTtlIndexes, indexesOf } from "./catalog";
import { createIndexes, dropCollection, dropIndex, listCollections, renameCollection } from "./collections";
import { assertReplacementDocument } from "./documents";
import { aggregate, matching, selectMeasured } from "./reads";
import { applySchema } from "./schema";
import type { Sql } from "./sql";
import { expiryTurn, type TurnBounds, type TurnResult } from "./ttl";
import { deleteMatching, findOneAndUpdate, insertMany, replaceOne, update } from "./writes";

export type { Sql } from "./sql";

/**
 * MongoDB semantics on Durable Object SQLite. Documents are stored as EJSON text; filters,
 * projections, sorts and update operators are evaluated by mingo; `_id` and unique indexes are
 * real SQLite unique constraints, so uniqueness never depends on a read-then-write check. Every
 * action runs inside one SQLite transaction: it applies whole or not at all.
 *
 * The work lives beside it, one concept a file: `schema.ts` (the tables), `catalog.ts`
 * (collections and their index specs), `query-plan.ts` (which rows a filter may match),
 * `reads.ts`, `writes.ts`, `collections.ts` (create, drop, rename, create and drop indexes) and `ttl.ts`.
 */
export class SqliteEngine implements Engine {
  private readonly transaction: <T>(fn: () => T) => T;
  private writeCount = 0;
  private textCount = 0;

  constructor(
    private readonly sql: Sql,
    transaction: <T>(fn: () => T) => T,
  ) {
    applySchema(sql);
    // Every write runs in here. Counted after it too: a write that failed partway was rolled back,
    // and nothing read meanwhile may pass for current.
    this.transaction = (fn) => {
      this.writeCount++;
      try {
        return transaction(fn);
      } catch (error) {
        // A failed transaction rolls back whatever catalog change it made, which it may have read back.
        forgetCatalog(sql);
        throw error;
      } finally {
        this.writeCount++;
      }
    };
  }

  /** Write transactions begun and ended so far: what was read at one count is current until it moves (see ./read-cache.ts). */
  get writes(): number {
    return this.writeCount;
  }

  /** The stored text reads have read so far: how much a read's answer was read from. */
  get textRead(): number {
    return this.textCount;
  }

  async find(ns: Namespace, spec: FindSpec): Promise<Doc[]> {
    return this.select(ns, spec);
  }

  private select(ns: Namespace, spec: FindSpec): Doc[] {
    const { docs, textLength } = selectMeasured(this.sql, ns, spec);
    this.textCount += textLength;
    return docs;
  }

  async insertMany(ns: Namespace, documents: Doc[]): Promise<unknown[]> {
    return this.transaction(() => insertMany(this.sql, ns, documents));
  }

  /**
   * The check and the insert in one transaction of this object, which runs one action at a time:
   * no rename or delete of the guard's organization can come between them, so no lease is needed.
   */
  async insertFenced(ns: Namespace, fence: Fence, document: Doc): Promise<unknown | null> {
    return this.transaction(() => {
      const target = this.fencedTarget(ns, fence);
      return target === null ? null : insertMany(this.sql, { ...ns, collection: target }, [document])[0];
    });
  }

  /** Both reads at once in this object: no rename can come between them here. */
  async findFenced(ns: Namespace, fence: ReadFence, spec: FindSpec): Promise<Doc[] | null> {
    const target = this.fencedTarget(ns, fence);
    return target === null ? null : this.select({ ...ns, collection: target }, spec);
  }

  /** The collection the fence's guard names; null when no guard matches. */
  private fencedTarget(ns: Namespace, fence: ReadFence): string | null {
    const [guard] = this.select({ ...ns, collection: fence.collection }, { filter: fence.filter, projection: { [fence.target]: 1 }, limit: 1 });
    return fencedTarget(ns, fence, guard);
  }

  async update(ns: Namespace, spec: UpdateSpec): Promise<UpdateResult> {
    return this.transaction(() => update(this.sql, ns, spec));
  }

  async replaceOne(ns: Namespace, spec: ReplaceSpec): Promise<UpdateResult> {
    assertReplacementDocument(spec.replacement);
    return this.transaction(() => replaceOne(this.sql, ns, spec));
  }

  async findOneAndUpdate(ns: Namespace, spec: FindOneAndUpdateSpec): Promise<Doc | null> {
    return this.transaction(() => findOneAndUpdate(this.sql, ns, spec));
  }

  async delete(ns: Namespace, filter: Doc, multi: boolean): Promise<number> {
    return this.transaction(() => deleteMatching(this.sql, ns, filter, multi));
  }

  async aggregate(ns: Namespace, pipeline: Doc[]): Promise<Doc[]> {
    return aggregate(this.sql, ns, pipeline);
  }

  async countDocuments(ns: Namespace, filter: Doc): Promise<number> {
    return matching(this.sql, ns, filter).length;
  }

  /** The Durable Object's whole SQLite file: one object holds one database (and nothing else). */
  async storageBytes(_database: string): Promise<number | null> {
    return this.sql.databaseSize ?? null;
  }

  async createCollection(ns: Namespace): Promise<void> {
    this.transaction(() => ensureCollection(this.sql, ns));
  }

  async dropCollection(ns: Namespace): Promise<boolean> {
    return this.transaction(() => dropCollection(this.sql, ns));
  }

  async renameCollection(ns: Namespace, to: string, dropTarget: boolean): Promise<void> {
    this.transaction(() => renameCollection(this.sql, ns, to, dropTarget));
  }

  async createIndexes(ns: Namespace, indexes: IndexSpec[]): Promise<void> {
    this.transaction(() => createIndexes(this.sql, ns, indexes));
  }

  async dropIndex(ns: Namespace, name: string): Promise<boolean> {
    return this.transaction(() => dropIndex(this.sql, ns, name));
  }

  async listCollections(database: string, filter: Doc): Promise<{ name: string }[]> {
    return listCollections(this.sql, database, filter);
  }

  async ping(): Promise<void> {
    this.sql.exec("SELECT 1").toArray();
  }

  /**
   * One bounded step of TTL expiry (see ./ttl.ts): deletes documents that expired before `now`,
   * found through the expiry index, within `bounds`; `more` says whether another step is due.
   */
  expireTurn(now: number, clock: () => number, bounds: TurnBounds): TurnResult {
    return expiryTurn(this.sql, this.transaction, (coll) => indexesOf(this.sql, coll), now, clock, bounds);
  }

  /** Whether any index asks for TTL expiry, so the host knows whether to schedule purges. */
  hasTtlIndexes(): boolean {
    return hasTtlIndexes(this.sql);
  }
}
