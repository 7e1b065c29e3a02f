import { DurableObject } from "cloudflare:workers";
import { type ActionAnswer, createDataApiHandler } from "../dataapi/handler";
import type { Env } from "../env";
import { ReadCache, readKey } from "./read-cache";
import { SqliteEngine } from "./sqlite-engine";
import type { TurnResult } from "./ttl";
import { TTL_TURN } from "./ttl-schedule";

/**
 * The embedded data store: one Durable Object per database, SQLite storage, speaking the same
 * Data API protocol as the MongoDB gateway. A Durable Object runs one request at a time, and each
 * action is one SQLite transaction, so every action is atomic and isolated.
 */
export class DataStore extends DurableObject<Env> {
  private readonly engine: SqliteEngine;
  private readonly handle: ReturnType<typeof createDataApiHandler>;
  private readonly reads = new ReadCache<ActionAnswer>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.engine = new SqliteEngine(ctx.storage.sql, (fn) => ctx.storage.transactionSync(fn));
    this.handle = createDataApiHandler({
      engine: this.engine,
      onInternalError: (error) => console.error(JSON.stringify({ msg: "data store error", error: String(error) })),
    });
  }

  /** The Data API over HTTP, for anything that speaks the protocol. */
  override async fetch(request: Request): Promise<Response> {
    const response = await this.handle(request);
    if (new URL(request.url).pathname.endsWith("/createIndexes")) await this.afterCreateIndexes();
    return response;
  }

  /**
   * The same actions over RPC, for the Worker: `name` and the body (canonical EJSON text, or a
   * structured-clone value) in, the status and body an HTTP request would get out, with no Request or Response
   * built on either side. A read asked again with no write since is answered as it was (./read-cache.ts).
   */
  async action(name: string, body: string | Record<string, unknown>): Promise<ActionAnswer> {
    const key = typeof body === "string" ? undefined : readKey(name, body);
    const { writes, textRead } = this.engine;
    const cached = key === undefined ? undefined : this.reads.get(key, writes);
    if (cached) return cached;
    const answer = await this.handle.action(name, body);
    if (key !== undefined && answer.status === 200 && this.engine.writes === writes) this.reads.set(key, answer, this.engine.textRead - textRead, writes);
    if (name === "createIndexes") await this.afterCreateIndexes();
    return answer;
  }

  private async afterCreateIndexes(): Promise<void> {
    if (this.engine.hasTtlIndexes()) await this.scheduleTtlTurn(TTL_TURN.idleMs);
  }

  /**
   * Bounded TTL turns (TTL_TURN) with a pause after each, so requests queued meanwhile are served
   * between them; then the next alarm: at once while expired documents remain, else in `idleMs`.
   */
  override async alarm(): Promise<void> {
    const until = Date.now() + TTL_TURN.alarmMs;
    for (;;) {
      const started = Date.now();
      const { more } = this.expireTurn(started);
      if (!more || Date.now() >= until) return this.nextAlarm(more);
      // Twice the turn's own time, so the purge takes at most a third of the object's time.
      await scheduler.wait(Math.max(TTL_TURN.gapMs, TTL_TURN.gapFactor * (Date.now() - started)));
    }
  }

  private async nextAlarm(more: boolean): Promise<void> {
    if (more || this.engine.hasTtlIndexes()) await this.ctx.storage.setAlarm(Date.now() + (more ? 0 : TTL_TURN.idleMs));
  }

  /** One turn; the object serves nothing else while it runs. */
  protected expireTurn(now: number): TurnResult {
    return this.engine.expireTurn(now, Date.now, TTL_TURN);
  }

  private async scheduleTtlTurn(inMs: number): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + inMs);
  }
}
