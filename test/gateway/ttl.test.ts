import { MongoClient } from "mongodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway, TEST_KEY } from "./spawn";

const mongoUrl = process.env.MONGO_URL;
const database = `gw_ttl_${Date.now().toString(36)}`;
const meta = `${database}_meta`;
const HOUR = 3_600_000;
const ago = (ms: number) => new Date(Date.now() - ms);

/**
 * The gateway's own TTL expiry, on a server without a TTL monitor (FerretDB). The documents are
 * written with the driver directly, as any other writer of the database would.
 */
describe.skipIf(!mongoUrl)("gateway TTL expiry where the server has none (needs MONGO_URL; npm run test:mongo sets it)", () => {
  let gateway: RunningGateway;
  const direct = new MongoClient(mongoUrl ?? "");
  // The documents come from another writer, which the gateway sees only at its next look: with
  // the horizon as short as a turn, that look comes every turn (the horizon's own rule is
  // ttl-turn.test.ts's).
  const settings = {
    MONGO_URL: mongoUrl ?? "",
    GATEWAY_API_KEY: TEST_KEY,
    GATEWAY_TTL_INTERVAL_MS: "300",
    GATEWAY_TTL_HORIZON_MS: "300",
    GATEWAY_TTL_DATABASE: meta,
  };

  const call = async (name: string, body: Record<string, unknown>) => {
    const res = await fetch(`${gateway.url}/action/${name}`, {
      method: "POST",
      headers: { "content-type": "application/ejson", apiKey: TEST_KEY },
      body: JSON.stringify({ dataSource: "t", database, ...body }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const createTtl = (collection: string, expireAfterSeconds = 3600) =>
    call("createIndexes", { collection, indexes: [{ key: { at: 1 }, name: "at_ttl", expireAfterSeconds }] });
  const ids = async (collection: string) =>
    (
      await direct
        .db(database)
        .collection(collection)
        .find({}, { sort: { _id: 1 } })
        .toArray()
    ).map((d) => String(d._id));
  const until = async (check: () => Promise<boolean>, ms = 15_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error("timed out waiting for the purge");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  beforeAll(async () => {
    gateway = await startGateway(settings);
  });
  afterAll(async () => {
    await gateway?.stop();
    await direct.db(database).dropDatabase();
    await direct.db(meta).dropDatabase();
    await direct.close();
  });

  it("deletes what is past its TTL and keeps live documents and those that cannot expire", async () => {
    expect((await createTtl("events")).status).toBe(200);
    const events = direct.db(database).collection<{ _id: string; at?: unknown }>("events");
    await events.insertMany([
      { _id: "old", at: ago(2 * HOUR) },
      { _id: "old-array", at: [new Date(), ago(2 * HOUR)] },
      { _id: "live", at: ago(HOUR / 2) },
      { _id: "text", at: "2001-01-01" },
      { _id: "none" },
    ]);
    await until(async () => (await ids("events")).length === 3);
    expect(await ids("events")).toEqual(["live", "none", "text"]);
    // The spec is remembered where a restarted gateway finds it, and the field has an ordinary index to find expired documents by.
    expect(
      await direct
        .db(meta)
        .collection("ttl_indexes")
        .find({}, { projection: { _id: 0 } })
        .toArray(),
    ).toEqual([{ database, collection: "events", name: "at_ttl", field: "at", expireAfterSeconds: 3600 }]);
    expect((await events.listIndexes().toArray()).map((i) => i.name)).toContain("at_ttl");
  });

  it("refuses the same index name with another expiry, as MongoDB does", async () => {
    expect((await createTtl("events", 3600)).status).toBe(200);
    expect(await createTtl("events", 60)).toMatchObject({ status: 409, body: { error_code: "IndexConflict" } });
  });

  it("works in bounded turns, and keeps going until nothing expired is left", async () => {
    expect((await createTtl("bulk")).status).toBe(200);
    const bulk = direct.db(database).collection("bulk");
    await bulk.insertMany(Array.from({ length: 2_500 }, (_, i) => ({ i, at: ago(2 * HOUR) })));
    await bulk.insertMany(Array.from({ length: 20 }, (_, i) => ({ i: -i, at: new Date() })));
    await until(async () => (await bulk.countDocuments({})) === 20, 60_000);
    const turns = () => [...gateway.output().matchAll(/"msg":"ttl purge","removed":(\d+),"more":(true|false)/g)].map((m) => Number(m[1]));
    const logged = () => turns().reduce((a, b) => a + b, 0);
    // A turn logs once it has finished, after its last delete (it looks for one more batch first):
    // the line of the turn that emptied the collection may come a moment after the count.
    await until(async () => logged() >= 2_500, 10_000);
    expect(Math.max(...turns())).toBeLessThanOrEqual(1_000);
    expect(logged()).toBeGreaterThanOrEqual(2_500);
  });

  it("moves the spec with a rename, forgets it with a drop, and goes on expiring after a restart", async () => {
    expect((await createTtl("before")).status).toBe(200);
    expect((await call("renameCollection", { collection: "before", to: "after" })).status).toBe(200);
    await gateway.stop();
    // While no gateway runs, expired documents arrive; the next one must find the spec without being told again.
    await direct
      .db(database)
      .collection("after")
      .insertMany([{ _id: "old", at: ago(2 * HOUR) } as never, { _id: "live", at: new Date() } as never]);
    gateway = await startGateway(settings);
    await until(async () => (await ids("after")).length === 1);
    expect(await ids("after")).toEqual(["live"]);
    expect((await call("dropCollection", { collection: "after" })).status).toBe(200);
    expect(
      await direct
        .db(meta)
        .collection("ttl_indexes")
        .countDocuments({ collection: { $in: ["before", "after"] } }),
    ).toBe(0);
  });
  it("forgets the spec with dropIndexes, so documents stay; a repeat after the server lost the index still forgets it", async () => {
    for (const collection of ["kept", "dropped", "half"]) expect((await createTtl(collection)).status).toBe(200);
    expect(await call("dropIndexes", { collection: "dropped", name: "at_ttl" })).toEqual({ status: 200, body: { dropped: true } });
    expect((await direct.db(database).collection("dropped").listIndexes().toArray()).map((i) => i.name)).toEqual(["_id_"]);
    // A drop cut off after the server dropped the index but before the spec was forgotten: the repeat answers false and forgets it.
    await direct.db(database).collection("half").dropIndex("at_ttl");
    expect(await call("dropIndexes", { collection: "half", name: "at_ttl" })).toEqual({ status: 200, body: { dropped: false } });
    const remembered = await direct
      .db(meta)
      .collection("ttl_indexes")
      .find({ database, collection: { $in: ["kept", "dropped", "half"] } }, { projection: { _id: 0, collection: 1 } })
      .toArray();
    expect(remembered).toEqual([{ collection: "kept" }]);
    for (const collection of ["kept", "dropped", "half"])
      await direct
        .db(database)
        .collection(collection)
        .insertOne({ _id: "old", at: ago(2 * HOUR) } as never);
    await until(async () => (await ids("kept")).length === 0);
    // Two more intervals, so a turn that began before the one that purged `kept` has finished too.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect([await ids("dropped"), await ids("half")]).toEqual([["old"], ["old"]]);
    expect(await call("dropIndexes", { collection: "dropped", name: "at_ttl" })).toEqual({ status: 200, body: { dropped: false } });
    expect(await call("dropIndexes", { collection: "dropped", name: "_id_" })).toMatchObject({ status: 400, body: { error_code: "InvalidParameter" } });
  });
});
