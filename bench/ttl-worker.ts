// The service for `npm run bench:ttl` only: the real Worker and Durable Object store, plus a
// window under /__bench/ onto the master database's store. Through it the benchmark fills the
// audit log with the Data API protocol, holds the TTL purge back while it measures the baseline,
// lets it go, and reads how long each purge turn held the object (the store itself keeps no such
// record: it would cost every deployed turn a write).
import service from "../src/index";
import { DataStore as ServiceStore } from "../src/store/data-store";
import type { TurnResult } from "../src/store/ttl";

interface BenchEnv {
  DATA_STORE: DurableObjectNamespace;
  DATABASE?: string;
}

interface Fill {
  collection: string;
  count: number;
  fromMs: number;
  stepMs: number;
  orgId: string;
  expireAfterMs: number;
}

interface Turns {
  count: number;
  /** Every turn's wall time in ms, for the percentiles. */
  durations: number[];
  longestMs: number;
  firstStart: number;
  lastEnd: number;
}

export class DataStore extends ServiceStore {
  private purging = false;
  private readonly turns: Turns = { count: 0, durations: [], longestMs: 0, firstStart: 0, lastEnd: 0 };

  override async fetch(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === "/__bench/purge") {
      this.purging = true;
      await this.ctx.storage.setAlarm(Date.now());
      return Response.json({ ok: 1 });
    }
    if (path === "/__bench/turns") return Response.json({ ...this.turns, alarm: await this.ctx.storage.getAlarm() });
    if (path === "/__bench/fill") return Response.json(this.fill((await request.json()) as Fill));
    if (path === "/__bench/expired") {
      // A count over the expiry index's range: cheap, and it reads no document.
      const sql = "SELECT count(*) AS n FROM expiries WHERE at < ?";
      return Response.json({ count: this.ctx.storage.sql.exec<{ n: number }>(sql, Date.now()).one().n });
    }
    return super.fetch(request);
  }

  /**
   * Writes `count` audit entries straight into the store's tables, exactly as the engine stores
   * them (EJSON body, `_id` key, the `at_ttl` and `org_id` index entries, the expiry row), `at`
   * from `fromMs` in steps of `stepMs` (whole seconds, as the relaxed EJSON text carries them).
   * Through the protocol, 400,000 inserts take minutes on two cores; here seconds. The benchmark
   * checks the result through the protocol afterwards.
   */
  private fill({ collection, count, fromMs, stepMs, orgId, expireAfterMs }: Fill): { seq: number } {
    const sql = this.ctx.storage.sql;
    const coll = sql.exec<{ id: number }>("SELECT id FROM collections WHERE name = ?", collection).one().id;
    const before = sql.exec<{ seq: number }>("SELECT coalesce(max(seq), 0) AS seq FROM documents").one().seq;
    const base = sql.exec<{ n: number }>("SELECT count(*) AS n FROM documents WHERE coll = ?", coll).one().n;
    this.ctx.storage.transactionSync(() => {
      sql.exec(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?2)
         INSERT INTO documents (coll, id, body)
         SELECT ?1, '{"v":{"$oid":"' || printf('%024x', ?3 + i) || '"}}',
           '{"_id":{"$oid":"' || printf('%024x', ?3 + i) || '"},"at":{"$date":"' || strftime('%Y-%m-%dT%H:%M:%SZ', (?4 + i * ?5) / 1000, 'unixepoch')
           || '"},"action":"admin.login","outcome":"success","status":200,"request_id":"' || lower(hex(randomblob(16)))
           || '","client_ip":"198.51.100.7","org_id":"' || ?6 || '","email":"admin@ttlbench.example"}'
         FROM n`,
        coll,
        count,
        base,
        fromMs,
        stepMs,
        orgId,
      );
      // Rows of one INSERT … SELECT take consecutive seqs, so a seq tells its `at`.
      const at = "(?2 + (seq - ?3 - 1) * ?4)";
      sql.exec(
        `INSERT INTO index_entries (coll, idx, key, seq, uniq) SELECT ?1, 'at_ttl', '{"v":[{"$date":{"$numberLong":"' || ${at} || '"}}]}', seq, 0 FROM documents WHERE seq > ?3`,
        coll,
        fromMs,
        before,
        stepMs,
      );
      sql.exec(
        `INSERT INTO index_entries (coll, idx, key, seq, uniq) SELECT ?1, 'org_id', '{"v":["' || ?2 || '"]}', seq, 0 FROM documents WHERE seq > ?3`,
        coll,
        orgId,
        before,
      );
      sql.exec(`INSERT INTO expiries (seq, at) SELECT seq, ${at} + ?5 FROM documents WHERE seq > ?3`, coll, fromMs, before, stepMs, expireAfterMs);
    });
    return { seq: sql.exec<{ seq: number }>("SELECT max(seq) AS seq FROM documents").one().seq };
  }

  override async alarm(): Promise<void> {
    // Held back until the benchmark says go: the baseline must run beside no purge at all.
    if (!this.purging) return void (await this.ctx.storage.setAlarm(Date.now() + 60_000));
    await super.alarm();
  }

  /** A turn is synchronous: its wall time is how long the object served nothing else. */
  protected override expireTurn(now: number): TurnResult {
    const start = Date.now();
    const result = super.expireTurn(now);
    const end = Date.now();
    if (this.turns.count === 0) this.turns.firstStart = start;
    this.turns.count++;
    this.turns.durations.push(end - start);
    this.turns.longestMs = Math.max(this.turns.longestMs, end - start);
    this.turns.lastEnd = end;
    return result;
  }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (!url.pathname.startsWith("/__bench/")) return service.fetch(request as Parameters<typeof service.fetch>[0], env as never, ctx);
    const stub = env.DATA_STORE.get(env.DATA_STORE.idFromName(env.DATABASE ?? "master_db"));
    // `/__bench/action/<name>` is the store's own `/action/<name>`.
    const inner = url.pathname.startsWith("/__bench/action/")
      ? `https://data-store.internal${url.pathname.slice("/__bench".length)}`
      : `https://data-store.internal${url.pathname}`;
    return stub.fetch(new Request(inner, request));
  },
} satisfies ExportedHandler<BenchEnv>;
