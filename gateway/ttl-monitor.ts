import { toJsNumbers } from "../src/dataapi/ejson";
import type { Doc, Engine, IndexSpec, Namespace } from "../src/dataapi/engine";
import { DataApiError } from "../src/dataapi/errors";
import { expiryOf } from "../src/dataapi/expiry";

/**
 * TTL expiry done by the gateway, for servers that have no TTL monitor (FerretDB, the test
 * stand-in, answers NotImplemented to `expireAfterSeconds`). On MongoDB the server expires
 * documents itself and this stays idle: it is told about TTL indexes only after the server
 * refused one, and otherwise finds no remembered spec.
 *
 * The server keeps such an index without its expiry, so the specs are remembered in a collection
 * of their own (`<metaDatabase>.ttl_indexes`): the gateway keeps no state of its own, several may
 * run side by side, and a restarted one must go on expiring. Expiry is MongoDB's rule: a document
 * whose field holds a date (for an array, its earliest) older than `expireAfterSeconds` goes;
 * `{field: {$lt: cutoff}}` matches exactly those (only dates compare with a date), through the
 * ordinary index the server did create on the field. Work is bounded: batches of `_id`s, a few
 * batches a turn, and turns `gapMs` apart while more is expired, so the purge never crowds out
 * requests; otherwise one look every `intervalMs`, as MongoDB's monitor runs once a minute. A
 * collection whose last look found nothing expiring within `horizonMs`, and to which nothing was
 * written through this gateway since, is skipped until then: on a server without TTL each look
 * reads the whole collection, and most collections sit idle between looks. (A write through
 * another gateway is that gateway's to see; this one sees it within the horizon.)
 */
export interface TtlMonitorOptions {
  metaDatabase: string;
  intervalMs: number;
  /** `_id`s per find-then-delete. */
  batch: number;
  /** Documents deleted per turn at most (across collections). */
  maxDocuments: number;
  gapMs: number;
  /**
   * How far ahead a look sees: a collection in which nothing expires that soon, and to which
   * nothing was written through this gateway since, is not looked at again until then.
   */
  horizonMs: number;
  log: (fields: Record<string, unknown>) => void;
}

interface RememberedSpec extends Doc {
  database: string;
  collection: string;
  name: string;
  field: string;
  expireAfterSeconds: number;
}

export interface TurnResult {
  removed: number;
  more: boolean;
}

/** A collection's key in the monitor's own maps (a database name has no dot). */
const collectionKey = (ns: Namespace): string => `${ns.database}.${ns.collection}`;

export class TtlMonitor {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  /** Whether the last turn found remembered specs: then the server is one without TTL, whatever this process has seen. */
  hasSpecs = false;
  /** The last turn asked for (settled when none): turns run one after another. */
  private inFlight: Promise<unknown> = Promise.resolve();
  /** The batch in flight, from before it reads its spec again until it settles. */
  private working: Promise<unknown> | undefined;
  /** Writes begun and ended through this gateway, per collection that had a remembered spec at the last turn (see `writing`). */
  private readonly writes = new Map<string, number>();
  /** Per spec (by `_id`): a look found nothing that expires before `until`, when its collection's count in `writes` was `writes`. */
  private readonly quiet = new Map<string, { until: number; collection: string; field: string; writes: number }>();

  constructor(
    private readonly engine: Engine,
    private readonly options: TtlMonitorOptions,
  ) {}

  private get meta(): Namespace {
    return { database: this.options.metaDatabase, collection: "ttl_indexes" };
  }

  /** The engine answers with BSON number types (Int32, Double); the specs are compared and computed with as plain numbers. */
  private async specs(filter: Doc = {}): Promise<RememberedSpec[]> {
    return (await this.engine.find(this.meta, { filter })).map((spec) => toJsNumbers(spec) as RememberedSpec);
  }

  /** Refuses, as MongoDB would, an index whose name is remembered with another `expireAfterSeconds`. */
  async refuseConflicts(ns: Namespace, indexes: IndexSpec[]): Promise<Map<string, RememberedSpec>> {
    const known = new Map((await this.specs({ database: ns.database, collection: ns.collection })).map((s) => [s.name, s]));
    for (const index of indexes) {
      const current = known.get(index.name);
      if (current && current.expireAfterSeconds !== index.expireAfterSeconds) {
        throw new DataApiError("IndexConflict", `an index named ${index.name} exists with other options`);
      }
    }
    return known;
  }

  /**
   * After the server created `indexes` without their expiry: remembers each TTL spec not yet
   * remembered, and asks for a turn at once if there was one.
   */
  async remember(ns: Namespace, indexes: IndexSpec[]): Promise<void> {
    const known = await this.refuseConflicts(ns, indexes);
    let added = false;
    for (const index of indexes) {
      const field = Object.keys(index.key)[0];
      if (index.expireAfterSeconds === undefined || field === undefined || known.has(index.name)) continue;
      const spec: RememberedSpec = { database: ns.database, collection: ns.collection, name: index.name, field, expireAfterSeconds: index.expireAfterSeconds };
      const where = { database: spec.database, collection: spec.collection, name: spec.name };
      await this.engine.update(this.meta, { filter: where, update: { $set: spec }, upsert: true, multi: false });
      this.hasSpecs = true;
      added = true;
    }
    // Every isolate of the service sends its indexes when it starts: only a new spec is worth a turn out of time.
    if (added) this.soon(0);
  }

  /** The specs follow their collection: a rename moves them, a drop forgets them. */
  async renamed(ns: Namespace, to: string, droppedTarget: boolean): Promise<void> {
    if (droppedTarget) await this.dropped({ database: ns.database, collection: to });
    const where = { database: ns.database, collection: ns.collection };
    await this.engine.update(this.meta, { filter: where, update: { $set: { collection: to } }, upsert: false, multi: true });
  }

  async dropped(ns: Namespace): Promise<void> {
    await this.engine.delete(this.meta, { database: ns.database, collection: ns.collection }, true);
  }

  /** Forgets the spec of a dropped index (none remembered is fine). */
  async forget(ns: Namespace, name: string): Promise<void> {
    const forgotten = await this.engine.delete(this.meta, { database: ns.database, collection: ns.collection, name }, true);
    // Dropping an index that had no remembered expiry (most drops: the layout migration's, every
    // isolate start) waits for nothing: no batch can be working on a spec that was not there.
    if (forgotten > 0) await this.working?.catch(() => undefined);
  }

  /**
   * Runs a write to `ns`: the next turn looks at its specs again, however quiet the last look found
   * them. Counted when the write begins and again once it has ended, so that a look that read the
   * count in between, while the write was on its way to the server, never counts as quiet.
   */
  async writing<T>(ns: Namespace, write: () => Promise<T>): Promise<T> {
    this.touched(ns);
    try {
      return await write();
    } finally {
      this.touched(ns);
    }
  }

  private touched(ns: Namespace): void {
    const key = collectionKey(ns);
    const count = this.writes.get(key);
    if (count !== undefined) this.writes.set(key, count + 1);
  }

  /** Counts writes to the collections of these specs from now on, and forgets what it knew of any other. */
  private watch(specs: RememberedSpec[]): void {
    const keys = new Set(specs.map(collectionKey));
    for (const key of this.writes.keys()) if (!keys.has(key)) this.writes.delete(key);
    for (const key of keys) if (!this.writes.has(key)) this.writes.set(key, 0);
    const ids = new Set(specs.map((spec) => String(spec._id)));
    for (const id of this.quiet.keys()) if (!ids.has(id)) this.quiet.delete(id);
  }

  /** Whether the last look at this spec found nothing to expire until later, and nothing was written there since. */
  private isQuiet(spec: RememberedSpec, now: Date): boolean {
    const quiet = this.quiet.get(String(spec._id));
    return (
      quiet !== undefined &&
      quiet.until > now.getTime() &&
      quiet.collection === collectionKey(spec) &&
      quiet.field === spec.field &&
      quiet.writes === this.writes.get(quiet.collection)
    );
  }

  /**
   * One bounded turn over every remembered spec, after the turns before it: a new spec asks for
   * a turn at once (`remember`), possibly while one runs, and two side by side could each work
   * on one spec, so `working` would name only one of them.
   */
  turn(now: Date): Promise<TurnResult> {
    const result = this.inFlight.then(() => this.runTurn(now));
    this.inFlight = result.catch(() => undefined);
    return result;
  }

  /**
   * The turn reads the specs once, at its start, and each spec again by `_id` (which FerretDB
   * answers from SQLite's key) before a batch deletes: a batch that finds expired documents after
   * an index was dropped finds its spec gone and deletes nothing. A batch whose read may have come
   * before the drop is the one in flight when the drop is acknowledged, and `forget` waits for it:
   * so a document written after the drop is answered is never purged by that spec, and the drop
   * waits for one batch at most (whichever spec that batch works on: matching it by name could miss
   * one across a rename), never for a turn over every database's specs. A rename or a collection
   * drop waits for nothing: a batch in flight holds the old name, which holds nothing until a
   * collection of that name is made again, and a spec read again under another name deletes nothing.
   */
  private async runTurn(now: Date): Promise<TurnResult> {
    let removed = 0;
    const specs = await this.specs();
    this.hasSpecs = specs.length > 0;
    this.watch(specs);
    for (let spec of specs) {
      if (this.isQuiet(spec, now)) continue;
      while (removed < this.options.maxDocuments) {
        const batch = this.batch(spec, now, Math.min(this.options.batch, this.options.maxDocuments - removed));
        this.working = batch;
        const outcome = await batch.finally(() => {
          if (this.working === batch) this.working = undefined;
        });
        removed += outcome.removed;
        if (!outcome.spec) break;
        spec = outcome.spec;
        if (!outcome.more) break;
      }
      if (removed >= this.options.maxDocuments) return { removed, more: true };
    }
    return { removed, more: false };
  }

  /**
   * One find-then-delete. The find asks, by `known` (the spec as last read), for the documents that
   * expire within the horizon, earliest first: those already expired go, and when none did, the
   * spec is quiet until the earliest of the rest expires (or the horizon ends, with none). Only if
   * there are documents to delete is the spec read again as it stands now, which must still name
   * the same collection and field for the delete to go ahead; most batches find nothing, and then
   * cost one query. `more` when the batch came back full of expired documents; `spec` the spec as
   * read now (none: it is gone).
   */
  private async batch(known: RememberedSpec, now: Date, limit: number): Promise<TurnResult & { spec?: RememberedSpec }> {
    const ns = (spec: RememberedSpec) => ({ database: spec.database, collection: spec.collection });
    const cutoffOf = (spec: RememberedSpec) => now.getTime() - spec.expireAfterSeconds * 1000;
    const expiry = (spec: RememberedSpec) => ({ [spec.field]: { $lt: new Date(cutoffOf(spec)) } });
    const cutoff = cutoffOf(known);
    const index = [{ key: { [known.field]: 1 as const }, name: known.name, expireAfterSeconds: known.expireAfterSeconds }];
    const writes = this.writes.get(collectionKey(known));
    const soon = await this.engine.find(ns(known), {
      filter: { [known.field]: { $lt: new Date(cutoff + this.options.horizonMs) } },
      projection: { _id: 1, [known.field]: 1 },
      sort: { [known.field]: 1 },
      limit,
    });
    // When each expires, by MongoDB's rule as the embedded store applies it (a dotted field is a path into the document).
    const expiring = soon.map((doc) => ({ _id: doc._id, at: expiryOf(doc, index) }));
    let ids = expiring.filter(({ at }) => at !== undefined && at < now.getTime()).map((doc) => doc._id);
    if (soon.length === limit && ids.length < limit) {
      // A full batch that reaches past the cutoff: asked again for the expired alone, so that no
      // order the server gives arrays or odd values can leave an expired document behind.
      ids = (await this.engine.find(ns(known), { filter: expiry(known), projection: { _id: 1 }, limit })).map((doc) => doc._id);
    } else if (ids.length === 0 && writes !== undefined) {
      const until = Math.min(now.getTime() + this.options.horizonMs, ...expiring.flatMap(({ at }) => at ?? []));
      this.quiet.set(String(known._id), { until, collection: collectionKey(known), field: known.field, writes });
    }
    if (ids.length === 0) return { removed: 0, more: false, spec: known };
    const [spec] = await this.specs({ _id: known._id });
    if (!spec || spec.database !== known.database || spec.collection !== known.collection || spec.field !== known.field)
      return { removed: 0, more: Boolean(spec), spec };
    // The condition again, by the spec as it stands: a document renewed since the find is live and stays.
    const removed = await this.engine.delete(ns(spec), { _id: { $in: ids }, ...expiry(spec) }, true);
    return { removed, more: ids.length === limit, spec };
  }

  start(): void {
    this.stopped = false;
    this.soon(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private soon(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    // A pending purge never keeps a stopping process alive.
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    let next = this.options.intervalMs;
    try {
      const { removed, more } = await this.turn(new Date());
      if (removed > 0) this.options.log({ msg: "ttl purge", removed, more });
      if (more) next = this.options.gapMs;
    } catch (error) {
      this.options.log({ level: "warn", msg: "ttl purge failed; retrying later", error: String(error) });
    }
    this.soon(next);
  }
}
