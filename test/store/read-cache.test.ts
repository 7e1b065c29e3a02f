import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DataClient } from "../../src/data/client";
import { DuplicateKeyError } from "../../src/data/errors";
import { ReadCache, readKey } from "../../src/store/read-cache";

/**
 * The embedded store's cache of the Worker's recent reads (src/store/read-cache.ts). A row
 * rewritten behind the engine's back, straight in SQLite, shows which reads the cache answered:
 * they still see the old row. Every write through the engine, over RPC or HTTP, must make the next
 * read see the new one.
 */
let counter = 0;
const fresh = () => {
  const database = `reads_${Date.now().toString(36)}_${counter++}`;
  const stub = env.DATA_STORE.get(env.DATA_STORE.idFromName(database));
  // Over RPC, as the Worker calls its store; `overHttp` is the same store for anything else.
  const client = new DataClient({
    fetch: (r) => stub.fetch(r),
    rpc: (action, body) => stub.action(action, body),
    baseUrl: "https://data-store.internal",
    dataSource: "t",
    database,
    retries: 0,
  });
  const overHttp = new DataClient({ fetch: (r) => stub.fetch(r), baseUrl: "https://data-store.internal", dataSource: "t", database, retries: 0 });
  /** Rewrites `v` of every stored document of the database, without the engine knowing. */
  const behindTheEngine = (from: string, to: string) =>
    runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec("UPDATE documents SET body = replace(body, ?, ?)", JSON.stringify(from), JSON.stringify(to));
    });
  return { stub, client, overHttp, orgs: client.collection("orgs"), behindTheEngine };
};

const seeded = async () => {
  const store = fresh();
  await store.orgs.createIndexes([{ key: { slug: 1 }, name: "slug_unique", unique: true }]);
  await store.orgs.insertMany([
    { slug: "acme", v: "old" },
    { slug: "other", v: "old" },
  ]);
  return store;
};

const acme = { slug: "acme", status: { $in: ["active", null] } };

describe("the store's cache of recent reads", () => {
  it("answers a read asked again since the last write from memory, and only that read", async () => {
    const { orgs, behindTheEngine } = await seeded();
    expect(await orgs.findOne(acme, { projection: { _id: 0, v: 1 } })).toEqual({ v: "old" });
    await behindTheEngine("old", "new");
    // The same read, answered from the cache: the row rewritten behind the engine is not read again.
    expect(await orgs.findOne(acme, { projection: { _id: 0, v: 1 } })).toEqual({ v: "old" });
    // Any other read goes to SQLite: another projection, another order of the same filter, a page.
    expect(await orgs.findOne(acme, { projection: { _id: 0, v: 1, slug: 1 } })).toEqual({ slug: "acme", v: "new" });
    expect(await orgs.findOne({ status: acme.status, slug: "acme" }, { projection: { _id: 0, v: 1 } })).toEqual({ v: "new" });
    expect((await orgs.find({ slug: "acme" }, { projection: { _id: 0, v: 1 } })).map((d) => d.v)).toEqual(["new"]);
  });

  it("keeps reads by id and by date, and leaves HTTP's reads and reads with a deadline uncached", async () => {
    const { client, overHttp, orgs, behindTheEngine } = await seeded();
    const at = new Date("2026-01-01T00:00:00Z");
    const id = await orgs.insertOne({ slug: "dated", at, v: "old" });
    const byId = { _id: id };
    const byDate = { at };
    expect(await orgs.findOne(byId)).toMatchObject({ v: "old" });
    expect(await orgs.findOne(byDate)).toMatchObject({ v: "old" });
    await behindTheEngine("old", "new");
    expect(await orgs.findOne(byId)).toMatchObject({ v: "old" });
    expect(await orgs.findOne(byDate)).toMatchObject({ v: "old" });
    expect(await overHttp.collection("orgs").findOne(byId)).toMatchObject({ v: "new" });
    expect(await client.collection("orgs", { deadline: new Date(Date.now() + 60_000) }).findOne(byId)).toMatchObject({ v: "new" });
  });

  const writes: [string, (store: Awaited<ReturnType<typeof seeded>>) => Promise<unknown>][] = [
    ["insertOne, in another collection", ({ client }) => client.collection("elsewhere").insertOne({ x: 1 })],
    ["insertOne over HTTP", ({ overHttp }) => overHttp.collection("elsewhere").insertOne({ x: 1 })],
    ["updateOne of another document", ({ orgs }) => orgs.updateOne({ slug: "other" }, { $set: { w: 1 } })],
    ["updateMany matching nothing", ({ orgs }) => orgs.updateMany({ slug: "nobody" }, { $set: { w: 1 } })],
    ["replaceOne", ({ orgs }) => orgs.replaceOne({ slug: "other" }, { slug: "other", v: "replaced" })],
    ["findOneAndUpdate", ({ orgs }) => orgs.findOneAndUpdate({ slug: "other" }, { $set: { w: 1 } })],
    ["deleteOne", ({ orgs }) => orgs.deleteOne({ slug: "other" })],
    ["createIndexes", ({ orgs }) => orgs.createIndexes([{ key: { v: 1 }, name: "v_1" }])],
    ["dropIndexes", ({ orgs }) => orgs.dropIndex("slug_unique")],
    ["createCollection", ({ client }) => client.collection("empty").create()],
    ["dropCollection of another", ({ client }) => client.collection("elsewhere").drop()],
    ["renameCollection of another", ({ client }) => client.collection("elsewhere").renameTo("moved")],
    [
      "a write refused by a unique index, rolled back",
      ({ orgs }) => expect(orgs.insertOne({ slug: "acme", v: "twin" })).rejects.toBeInstanceOf(DuplicateKeyError),
    ],
  ];

  it.each(writes)("is emptied by every write: %s", async (_name, write) => {
    const store = await seeded();
    await store.client.collection("elsewhere").insertOne({ x: 0 });
    expect(await store.orgs.findOne(acme)).toMatchObject({ v: "old" });
    await store.behindTheEngine("old", "new");
    expect(await store.orgs.findOne(acme)).toMatchObject({ v: "old" });
    await write(store);
    expect(await store.orgs.findOne(acme)).toMatchObject({ v: "new" });
  });

  it("is emptied by the TTL purge's deletes", async () => {
    const { stub, client } = fresh();
    const events = client.collection("events");
    await events.createIndexes([{ key: { at: 1 }, name: "at_ttl", expireAfterSeconds: 60 }]);
    await events.insertMany([{ at: new Date(Date.now() - 3_600_000) }, { at: new Date() }]);
    expect(await events.find({})).toHaveLength(2);
    await runDurableObjectAlarm(stub);
    expect(await events.find({})).toHaveLength(1);
  });

  it("never keeps a read whose answer could change with no write: $expr, variables", async () => {
    const { orgs, behindTheEngine } = await seeded();
    const reads = [
      { $expr: { $eq: ["$slug", "acme"] } },
      { $and: [{ slug: "acme" }, { $expr: { $ne: ["$$NOW", null] } }] },
      { slug: "acme", v: { $ne: "$$NOW" } },
    ];
    for (const filter of reads) {
      await behindTheEngine("new", "old");
      expect(await orgs.findOne(filter), JSON.stringify(filter)).toMatchObject({ v: "old" });
      await behindTheEngine("old", "new");
      expect(await orgs.findOne(filter), JSON.stringify(filter)).toMatchObject({ v: "new" });
    }
  });

  it("keeps a few fields of a document larger than an answer may be, never the whole of it", async () => {
    const { orgs, behindTheEngine } = await seeded();
    await orgs.insertOne({
      slug: "crowded",
      v: "old",
      members: Array.from({ length: 2000 }, (_, i) => ({ email: `member-${i}@example.com`, role: "member" })),
    });
    const crowded = { slug: "crowded" };
    expect(await orgs.findOne(crowded, { projection: { _id: 0, v: 1 } })).toEqual({ v: "old" });
    expect(await orgs.findOne(crowded)).toMatchObject({ v: "old" });
    await behindTheEngine("old", "new");
    expect(await orgs.findOne(crowded, { projection: { _id: 0, v: 1 } })).toEqual({ v: "old" });
    expect(await orgs.findOne(crowded)).toMatchObject({ v: "new" });
  });

  it("hands every reader its own copy: what one caller changes, the next does not see", async () => {
    const { orgs } = await seeded();
    const first = (await orgs.findOne(acme)) as Record<string, unknown>;
    first.v = "changed by its reader";
    expect(await orgs.findOne(acme)).toMatchObject({ v: "old" });
  });
});

describe("a read's cache key", () => {
  const envelope = { dataSource: "t", database: "db", collection: "orgs" };
  const key = (filter: Record<string, unknown>, rest: Record<string, unknown> = {}, action = "findOne") => readKey(action, { ...envelope, filter, ...rest });
  const hex = "65a1b2c3d4e5f60718293a4b";

  it("tells apart values that JSON would write alike", () => {
    // As the Worker's values travel (src/dataapi/wire.ts): BSON types as `$` tags, dates as Dates.
    const forms = [
      key({ _id: { $oid: hex } }),
      key({ _id: hex }),
      key({ n: 1 }),
      key({ n: { $numberDouble: 1 } }),
      key({ n: { $numberLong: "1" } }),
      key({ n: "1" }),
      key({ at: new Date(0) }),
      key({ at: new Date(0).toISOString() }),
      key({ at: 0 }),
      key({ n: null }),
      key({ n: "null" }),
      key({ n: true }),
      key({ n: "t" }),
      key({ n: [1, 2] }),
      key({ n: ["1,2"] }),
      key({ a: 1, b: 2 }),
      key({ b: 2, a: 1 }),
    ];
    expect(forms.every((k) => typeof k === "string")).toBe(true);
    expect(new Set(forms).size).toBe(forms.length);
  });

  it("tells apart the action, the rest of the read, and where it reads", () => {
    const forms = [
      key({}),
      key({}, {}, "find"),
      key({}, { projection: { a: 1 } }),
      key({}, { sort: { a: 1 } }),
      key({}, { sort: { a: -1 } }),
      key({}, { limit: 1 }, "find"),
      key({}, { skip: 1 }, "find"),
      key({}, { collection: "other" }),
      key({}, { database: "dbo", collection: "rgs" }),
    ];
    expect(forms.every((k) => typeof k === "string")).toBe(true);
    expect(new Set(forms).size).toBe(forms.length);
  });

  it("is none for a write, a read with a deadline, or a read it cannot tell apart or whose answer may change unwritten", () => {
    expect(key({}, { update: { $set: { a: 1 } } }, "updateOne")).toBeUndefined();
    expect(key({}, {}, "countDocuments")).toBeUndefined();
    expect(key({}, { deadline: Date.now() + 1000 })).toBeUndefined();
    const refused = [
      { a: -0 },
      { a: Number.NaN },
      { a: { $numberDouble: -0 } },
      { a: new Date(Number.NaN) },
      { a: /x/ },
      { $expr: { $lt: ["$at", "$$NOW"] } },
      { $sampleRate: 0.5 },
      { a: { $where: "true" } },
      { a: "$$NOW" },
      { a: undefined },
      { a: "x".repeat(5000) },
    ];
    for (const filter of refused) expect(key(filter), String(Object.values(filter)[0])).toBeUndefined();
    expect(key({}, { projection: { r: { $rand: {} } } })).toBeUndefined();
  });
});

describe("the cache's bounds", () => {
  const doc = (n: number) => ({ status: 200, body: { document: { n } } });

  it("drops the least recently used answer first", () => {
    const cache = new ReadCache<ReturnType<typeof doc>>({ entries: 2, textLength: 1_000, answerTextLength: 100 });
    cache.set("a", doc(1), 10, 0);
    cache.set("b", doc(2), 10, 0);
    expect(cache.get("a", 0)).toEqual(doc(1));
    cache.set("c", doc(3), 10, 0);
    expect(cache.get("b", 0)).toBeUndefined();
    expect(cache.get("a", 0)).toEqual(doc(1));
    expect(cache.get("c", 0)).toEqual(doc(3));
  });

  it("keeps the stored text under its bound, and no answer longer than its own", () => {
    const cache = new ReadCache<{ status: number; body: { document: { n: number | string } } }>({ entries: 100, textLength: 100, answerTextLength: 60 });
    cache.set("a", doc(1), 40, 0);
    cache.set("b", doc(2), 40, 0);
    cache.set("c", doc(3), 40, 0);
    expect([cache.get("a", 0), cache.get("b", 0), cache.get("c", 0)].map((d) => d !== undefined)).toEqual([false, true, true]);
    // Read from more text than an answer may take: measured by the answer itself.
    cache.set("big", { status: 200, body: { document: { n: "x".repeat(40) } } }, 70, 0);
    expect(cache.get("big", 0)).toBeUndefined();
    expect(cache.size).toBe(2);
  });

  it("measures an answer read from more text than an answer may take by the answer itself", () => {
    const cache = new ReadCache<ReturnType<typeof doc>>({ entries: 100, textLength: 400, answerTextLength: 200 });
    cache.set("a", doc(1), 150, 0);
    // A few fields of a large document: kept, and counted as long as the answer is, not the text.
    cache.set("projected", doc(5), 10_000, 0);
    expect(cache.get("projected", 0)).toEqual(doc(5));
    expect(cache.get("a", 0)).toEqual(doc(1));
  });

  it("forgets everything once the engine's count of writes moves", () => {
    const cache = new ReadCache<ReturnType<typeof doc>>();
    cache.set("a", doc(1), 10, 4);
    expect(cache.get("a", 4)).toEqual(doc(1));
    expect(cache.get("a", 6)).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.get("a", 4)).toBeUndefined();
  });

  it("freezes what it keeps, so a reader cannot change it for the next", () => {
    const cache = new ReadCache<{ nested: { list: number[] } }[]>();
    cache.set("k", [{ nested: { list: [1] } }], 10, 0);
    const kept = cache.get("k", 0);
    expect(() => kept?.[0]?.nested.list.push(2)).toThrow(TypeError);
  });
});
