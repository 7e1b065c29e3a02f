import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DataClient } from "../../src/data/client";
import { type Sql, SqliteEngine } from "../../src/store/sqlite-engine";
import { TTL_TURN } from "../../src/store/ttl-schedule";

/** TTL expiry on the embedded store: what the alarm deletes, how much per turn, and what a crash leaves. */
let counter = 0;
const fresh = () => {
  const database = `ttl_${Date.now().toString(36)}_${counter++}`;
  const stub = env.DATA_STORE.get(env.DATA_STORE.idFromName(database));
  const client = new DataClient({ fetch: (r) => stub.fetch(r), baseUrl: "https://data-store.internal", dataSource: "t", database, retries: 0 });
  return { database, stub, client, events: client.collection("events") };
};

const HOUR = 3_600_000;
const ttlIndex = { key: { at: 1 as const }, name: "at_ttl", expireAfterSeconds: 3600 };
const ago = (ms: number) => new Date(Date.now() - ms);

const insert = async (client: DataClient, documents: Record<string, unknown>[]) => {
  for (let i = 0; i < documents.length; i += 1000) await client.call("insertMany", { documents: documents.slice(i, i + 1000) }, "events");
};

const tableCounts = (stub: DurableObjectStub) =>
  runInDurableObject(stub, (_i, state) => {
    const count = (table: string) => state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n;
    return { documents: count("documents"), entries: count("index_entries"), expiries: count("expiries") };
  });

/** Runs alarm turns until none is due soon; returns how many ran. */
const drain = async (stub: DurableObjectStub, max = 100): Promise<number> => {
  for (let turns = 1; turns <= max; turns++) {
    await runDurableObjectAlarm(stub);
    const next = await runInDurableObject(stub, (_i, state) => state.storage.getAlarm());
    if (next === null || next > Date.now() + TTL_TURN.idleMs / 2) return turns;
  }
  throw new Error("the purge did not settle");
};

describe("TTL expiry on the embedded store", () => {
  it("deletes documents past their TTL when the alarm runs, and keeps live ones and those that cannot expire", async () => {
    const { stub, client, events } = fresh();
    await events.createIndexes([ttlIndex, { key: { kind: 1 }, name: "kind" }]);
    await insert(client, [
      { kind: "old", at: ago(2 * HOUR) },
      { kind: "old", at: [ago(HOUR / 2), ago(3 * HOUR)] }, // the earliest date counts
      { kind: "live", at: ago(HOUR / 2) },
      { kind: "live", at: [ago(HOUR / 2), new Date()] },
      { kind: "never", at: "2001-01-01T00:00:00Z" }, // not a date
      { kind: "never" }, // no field
      { kind: "never", at: { when: ago(5 * HOUR) } },
    ]);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await events.find({}, { sort: { kind: 1 } })).map((d) => d.kind)).toEqual(["live", "live", "never", "never", "never"]);
    // The purge took the index entries and expiry rows along: no orphans.
    // Index entries: `kind` one each; `at` one each, two for the array of two dates.
    expect(await tableCounts(stub)).toEqual({ documents: 5, entries: 11, expiries: 2 });
    expect(await events.countDocuments({ kind: "old" })).toBe(0);
  });

  it("follows every write of the TTL field: update, replace, delete, drop", async () => {
    const { stub, client, events } = fresh();
    await events.createIndexes([ttlIndex]);
    await insert(client, [
      { _id: "renewed", at: ago(2 * HOUR) },
      { _id: "aged", at: new Date() },
      { _id: "replaced", at: ago(2 * HOUR) },
      { _id: "unset", at: ago(2 * HOUR) },
      { _id: "deleted", at: ago(2 * HOUR) },
    ]);
    await events.updateOne({ _id: "renewed" }, { $set: { at: new Date() } });
    await events.updateOne({ _id: "aged" }, { $set: { at: ago(2 * HOUR) } });
    await client.call("replaceOne", { filter: { _id: "replaced" }, replacement: { note: "no date any more" } }, "events");
    await events.updateOne({ _id: "unset" }, { $unset: { at: "" } });
    await events.deleteOne({ _id: "deleted" });
    await drain(stub);
    expect((await events.find({}, { sort: { _id: 1 } })).map((d) => d._id)).toEqual(["renewed", "replaced", "unset"]);
    expect((await tableCounts(stub)).expiries).toBe(1);
    await events.drop();
    expect(await tableCounts(stub)).toEqual({ documents: 0, entries: 0, expiries: 0 });
  });

  it("finds expired documents through the expiry index, never by reading the collection", async () => {
    const { stub, client, events } = fresh();
    await events.createIndexes([ttlIndex]);
    await insert(client, [{ at: ago(2 * HOUR) }]);
    // A row written behind the engine's back has no expiry row: a scan would delete it, the index does not see it.
    await runInDurableObject(stub, (_i, state) => {
      const sql = state.storage.sql;
      const coll = sql.exec<{ coll: number }>("SELECT coll FROM documents LIMIT 1").one().coll;
      sql.exec(
        "INSERT INTO documents (coll, id, body) VALUES (?, ?, ?)",
        coll,
        JSON.stringify({ v: "hidden" }),
        JSON.stringify({ _id: "hidden", at: { $date: ago(2 * HOUR).toISOString() } }),
      );
    });
    await drain(stub);
    expect((await events.find({})).map((d) => d._id)).toEqual(["hidden"]);
  });

  it("bounds each turn, and the alarm runs turns until nothing expired remains", async () => {
    const { stub, client, events } = fresh();
    await events.createIndexes([ttlIndex]);
    const expired = 3 * TTL_TURN.maxDocuments + 17;
    await insert(client, [...Array.from({ length: expired }, (_, i) => ({ i, at: ago(2 * HOUR) })), ...Array.from({ length: 50 }, () => ({ at: new Date() }))]);
    const turn = await runInDurableObject(stub, (_i, state) =>
      new SqliteEngine(state.storage.sql, (fn) => state.storage.transactionSync(fn)).expireTurn(Date.now(), Date.now, TTL_TURN),
    );
    // At least one batch, at most the turn's bound, and it knows more is due.
    expect(turn.removed).toBeGreaterThanOrEqual(TTL_TURN.batch);
    expect(turn.removed).toBeLessThanOrEqual(TTL_TURN.maxDocuments);
    expect(turn.more).toBe(true);
    expect(await events.countDocuments({})).toBe(expired + 50 - turn.removed);
    await drain(stub);
    expect(await events.countDocuments({})).toBe(50);
    // Settled: the next look is the idle minute away.
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeGreaterThan(Date.now() + TTL_TURN.idleMs / 2);
  });

  it("loses nothing live when a purge crashes mid-batch, and the next turn finishes the work", async () => {
    const { stub, client, events } = fresh();
    await events.createIndexes([ttlIndex, { key: { n: 1 }, name: "n" }]);
    await insert(client, [
      ...Array.from({ length: 250 }, (_, n) => ({ n, at: ago(2 * HOUR) })),
      ...Array.from({ length: 40 }, (_, n) => ({ n: -1 - n, at: new Date() })),
    ]);
    await runInDurableObject(stub, (_i, state) => {
      // The real storage, cut off at the second batch: its index entries are gone when its documents' delete fails.
      let documentDeletes = 0;
      const sql: Sql = {
        exec: (query, ...bindings) => {
          if (query.startsWith("DELETE FROM documents") && ++documentDeletes === 2) throw new Error("crash");
          return state.storage.sql.exec(query, ...bindings);
        },
      };
      const engine = new SqliteEngine(sql, (fn) => state.storage.transactionSync(fn));
      expect(() => engine.expireTurn(Date.now(), Date.now, { maxDocuments: 1_000, maxMs: Number.POSITIVE_INFINITY, batch: 100 })).toThrow("crash");
    });
    // The first batch committed, the second rolled back whole: index entries and expiries match the documents.
    expect(await tableCounts(stub)).toEqual({ documents: 190, entries: 380, expiries: 190 });
    expect(await events.countDocuments({ n: { $lt: 0 }, at: { $gt: ago(HOUR) } })).toBe(40);
    await drain(stub);
    expect(await events.countDocuments({})).toBe(40);
    expect(await tableCounts(stub)).toEqual({ documents: 40, entries: 80, expiries: 40 });
    for (const n of [-1, -7, -40]) expect(await events.findOne({ n })).toMatchObject({ n });
  });

  it("backfills the expiry index of a store written before it existed, in bounded turns", async () => {
    const { stub, client, events } = fresh();
    await events.createIndexes([ttlIndex]);
    const other = client.collection("other");
    await other.insertOne({ at: ago(2 * HOUR) }); // no TTL index here: never expires
    await insert(client, [...Array.from({ length: 1_200 }, () => ({ at: ago(2 * HOUR) })), ...Array.from({ length: 30 }, () => ({ at: new Date() }))]);
    // Today's tables without the expiry index, as a store written before it looks; the next engine to open it migrates.
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec("DROP TABLE expiries");
      state.storage.sql.exec("DROP TABLE expiry_backfill");
      new SqliteEngine(state.storage.sql, (fn) => state.storage.transactionSync(fn));
      expect(state.storage.sql.exec("SELECT after FROM expiry_backfill").toArray()).toEqual([{ after: 0 }]);
      // A turn backfills within the same bound as a purge, and purges nothing until the backfill is done.
      const turn = new SqliteEngine(state.storage.sql, (fn) => state.storage.transactionSync(fn)).expireTurn(Date.now(), Date.now, TTL_TURN);
      expect(turn).toMatchObject({ removed: 0, more: true });
      expect(turn.backfilled).toBeLessThanOrEqual(TTL_TURN.maxDocuments);
    });
    await drain(stub);
    expect(await events.countDocuments({})).toBe(30);
    expect(await other.countDocuments({})).toBe(1);
    expect((await tableCounts(stub)).expiries).toBe(30);
  });
  it("dropping the TTL index removes its expiry rows, so the alarm keeps documents written before the drop", async () => {
    const { stub, client, events } = fresh();
    await events.createIndexes([ttlIndex, { key: { kind: 1 }, name: "kind" }]);
    await insert(client, [
      { kind: "old", at: ago(2 * HOUR) },
      { kind: "old", at: [new Date(), ago(3 * HOUR)] },
      { kind: "live", at: new Date() },
    ]);
    expect(await tableCounts(stub)).toEqual({ documents: 3, entries: 7, expiries: 3 });
    expect(await events.dropIndex("at_ttl")).toBe(true);
    // The `at` entries and every expiry row went; the `kind` entries stay.
    expect(await tableCounts(stub)).toEqual({ documents: 3, entries: 3, expiries: 0 });
    await runDurableObjectAlarm(stub);
    await drain(stub);
    expect(await events.countDocuments({})).toBe(3);
    // Writes after the drop write no expiry either.
    await insert(client, [{ kind: "later", at: ago(2 * HOUR) }]);
    await events.updateOne({ kind: "live" }, { $set: { at: ago(2 * HOUR) } });
    await drain(stub);
    expect(await events.countDocuments({})).toBe(4);
    expect((await tableCounts(stub)).expiries).toBe(0);
  });

  it("dropping one of two TTL indexes leaves each document the expiry the other one gives it", async () => {
    const { stub, client, events } = fresh();
    // `at` expires after an hour, `until` right away: the soonest counts while both exist.
    await events.createIndexes([ttlIndex, { key: { until: 1 }, name: "until_ttl", expireAfterSeconds: 0 }]);
    await insert(client, [
      { _id: "both", at: new Date(), until: ago(60_000) },
      { _id: "at-only", at: ago(2 * HOUR) },
      { _id: "until-only", until: new Date(Date.now() + HOUR) },
    ]);
    expect((await tableCounts(stub)).expiries).toBe(3);
    expect(await events.dropIndex("until_ttl")).toBe(true);
    // "both" now expires only by `at`, an hour from now; "until-only" never; "at-only" as before.
    expect((await tableCounts(stub)).expiries).toBe(2);
    await drain(stub);
    expect((await events.find({}, { sort: { _id: 1 } })).map((d) => d._id)).toEqual(["both", "until-only"]);
  });
});
