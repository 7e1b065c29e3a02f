import { DurableObject } from "cloudflare:workers";
import { createDataApiHandler } from "../dataapi/handler";
import type { Env } from "../env";
import { SqliteEngine } from "./sqlite-engine";
import { TTL_TURN } from "./ttl-schedule";

/**
 * The embedded data store: one Durable Object per database, SQLite storage, speaking the same
 * Data API protocol as the MongoDB gateway. A Durable Object runs one request at a time, and each
 * action is one SQLite transaction, so every action is atomic and isolated.
 */
export class DataStore extends DurableObject<Env> {
  private readonly engine: SqliteEngine;
  private readonly handle: (request: Request) => Promise<Response>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.engine = new SqliteEngine(ctx.storage.sql, (fn) => ctx.storage.transactionSync(fn));
    this.handle = createDataApiHandler({
      engine: this.engine,
      onInternalError: (error) => console.error(JSON.stringify({ msg: "data store error", error: String(error) })),
    });
  }

  override async fetch(request: Request): Promise<Response> {
    const response = await this.handle(request);
    if (new URL(request.url).pathname.endsWith("/createIndexes") && this.engine.hasTtlIndexes()) await this.scheduleTtlTurn(TTL_TURN.idleMs);
    return response;
  }

  /**
   * One bounded TTL turn (TTL_TURN): while expired documents remain the next turn follows after
   * `busyGapMs`, so requests queued meanwhile are served between turns; otherwise in `idleMs`.
   */
  override async alarm(): Promise<void> {
    const turn = this.engine.expireTurn(Date.now(), Date.now, TTL_TURN);
    if (turn.more || this.engine.hasTtlIndexes()) await this.ctx.storage.setAlarm(Date.now() + (turn.more ? TTL_TURN.busyGapMs : TTL_TURN.idleMs));
  }

  private async scheduleTtlTurn(inMs: number): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + inMs);
  }
}
