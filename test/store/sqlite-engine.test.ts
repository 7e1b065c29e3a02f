import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { DataClient } from "../../src/data/client";
import { DuplicateKeyError } from "../../src/data/errors";

/** Facts about the embedded store that only its own SQLite tables can show. */
const database = `store_${Date.now().toString(36)}`;
const stub = () => env.DATA_STORE.get(env.DATA_STORE.idFromName(database));
const client = new DataClient({ fetch: (r) => stub().fetch(r), baseUrl: "https://data-store.internal", dataSource: "t", database });

const tables = (collection: string) =>
  runInDurableObject(stub(), (_instance, state) => {
    const sql = state.storage.sql;
    const coll = sql.exec<{ id: number }>("SELECT id FROM collections WHERE db = ? AND name = ?", database, collection).toArray()[0]?.id;
    const docs = sql.exec<{ seq: number; body: string }>("SELECT seq, body FROM documents WHERE coll = ? ORDER BY seq", coll ?? -1).toArray();
    return { coll, docs };
  });

describe("the SQLite engine", () => {
  it("renames a collection without touching its documents", async () => {
    const source = client.collection("rename_src");
    await source.createIndexes([{ key: { k: 1 }, name: "k_unique", unique: true }]);
    for (let i = 0; i < 5; i++) await client.call("insertMany", { documents: Array.from({ length: 200 }, (_, j) => ({ k: i * 200 + j })) }, "rename_src");
    const before = await tables("rename_src");
    expect(before.docs).toHaveLength(1000);
    await source.renameTo("rename_dst");
    const after = await tables("rename_dst");
    // Same collection id, same rows, same bodies: only the name in `collections` changed.
    expect(after.coll).toBe(before.coll);
    expect(after.docs).toEqual(before.docs);
    expect((await tables("rename_src")).coll).toBeUndefined();
    // The unique index moved with it.
    await expect(client.collection("rename_dst").insertOne({ k: 7 })).rejects.toBeInstanceOf(DuplicateKeyError);
  });

  it("applies an action whole or not at all", async () => {
    const coll = client.collection("atomic");
    await coll.createIndexes([{ key: { email: 1 }, name: "email_unique", unique: true }]);
    await coll.insertOne({ email: "taken@example.com" });
    const batch = [{ email: "a@example.com" }, { email: "taken@example.com" }, { email: "b@example.com" }];
    await expect(client.call("insertMany", { documents: batch }, "atomic")).rejects.toBeInstanceOf(DuplicateKeyError);
    expect(await coll.countDocuments()).toBe(1);
    await coll.insertOne({ email: "c@example.com" });
    await expect(client.call("updateMany", { filter: {}, update: { $set: { email: "same@example.com" } } }, "atomic")).rejects.toBeInstanceOf(
      DuplicateKeyError,
    );
    expect((await coll.find({}, { sort: { email: 1 } })).map((d) => d.email)).toEqual(["c@example.com", "taken@example.com"]);
  });

  it("answers equality on an indexed field from the index, not a scan", async () => {
    const coll = client.collection("indexed");
    await coll.createIndexes([{ key: { slug: 1 }, name: "slug_unique", unique: true }]);
    await client.call("insertMany", { documents: Array.from({ length: 50 }, (_, i) => ({ slug: `s${i}` })) }, "indexed");
    // A row written behind the engine's back has no index entry: a scan would find it, the index does not.
    await runInDurableObject(stub(), (_i, state) => {
      const sql = state.storage.sql;
      const id = sql.exec<{ id: number }>("SELECT id FROM collections WHERE db = ? AND name = 'indexed'", database).one().id;
      sql.exec(
        "INSERT INTO documents (coll, id, body) VALUES (?, ?, ?)",
        id,
        JSON.stringify({ v: "hidden" }),
        JSON.stringify({ _id: "hidden", slug: "s-hidden" }),
      );
    });
    expect(await coll.findOne({ slug: "s42" })).toMatchObject({ slug: "s42" });
    expect(await coll.findOne({ slug: "s-hidden" })).toBeNull();
    expect(await coll.findOne({ slug: { $in: ["s-hidden"] } })).toMatchObject({ _id: "hidden" });
  });

  it("reads pages in _id order from SQLite, with the range pushed down, and falls back for mixed _id types", async () => {
    const coll = client.collection("paged");
    const ids = (await client.call<{ insertedIds: ObjectId[] }>("insertMany", { documents: Array.from({ length: 30 }, (_, i) => ({ i })) }, "paged"))
      .insertedIds;
    const page = await coll.find({ _id: { $gt: ids[9] } }, { sort: { _id: 1 }, limit: 5 });
    expect(page.map((d) => d.i)).toEqual([10, 11, 12, 13, 14]);
    const back = await coll.find({ _id: { $lt: ids[5] } }, { sort: { _id: -1 }, limit: 3 });
    expect(back.map((d) => d.i)).toEqual([4, 3, 2]);
    await coll.insertOne({ _id: "text-id", i: -1 });
    await coll.insertOne({ _id: 7, i: -2 });
    // BSON order across types: numbers, then strings, then ObjectIds.
    const mixed = await coll.find({}, { sort: { _id: 1 }, limit: 3 });
    expect(mixed.map((d) => d.i)).toEqual([-2, -1, 0]);
    // A key that sorts above the ObjectId keys (an embedded document) also takes the general path.
    const above = client.collection("paged_above");
    await client.call("insertMany", { documents: [{ i: 0 }, { i: 1 }] }, "paged_above");
    await above.insertOne({ _id: { a: 1 }, i: -1 });
    expect((await above.find({}, { sort: { _id: 1 }, limit: 1 })).map((d) => d.i)).toEqual([-1]);
  });

  it("stores each BSON number type so it reads back as itself, and reads rows stored as relaxed EJSON as MongoDB types them", async () => {
    const ejson = async (action: string, fields: Record<string, unknown>) => {
      const body = JSON.stringify({ dataSource: "t", database, collection: "typed", ...fields });
      const headers = { "content-type": "application/ejson", accept: "application/ejson" };
      const response = await stub().fetch(new Request(`https://data-store.internal/action/${action}`, { method: "POST", headers, body }));
      return (await response.json()) as Record<string, unknown>;
    };
    await ejson("insertOne", { document: { _id: { $numberInt: "1" }, i: { $numberInt: "5" }, d: { $numberDouble: "5.0" }, f: { $numberDouble: "2.5" } } });
    const [stored] = (await tables("typed")).docs;
    // Bare JSON where it reads back as the same type, the wrapper where it would not (a whole double).
    expect(stored?.body).toBe('{"_id":1,"i":5,"d":{"$numberDouble":"5.0"},"f":2.5}');
    await runInDurableObject(stub(), (_i, state) => {
      const sql = state.storage.sql;
      const id = sql.exec<{ id: number }>("SELECT id FROM collections WHERE db = ? AND name = 'typed'", database).one().id;
      // How earlier versions stored documents: relaxed EJSON, numbers bare.
      sql.exec("INSERT INTO documents (coll, id, body) VALUES (?, ?, ?)", id, '{"v":{"$numberInt":"2"}}', '{"_id":2,"n":5,"x":2.5,"big":1099511627776}');
    });
    expect(await ejson("findOne", { filter: { _id: { $numberDouble: "2.0" } } })).toEqual({
      document: { _id: { $numberInt: "2" }, n: { $numberInt: "5" }, x: { $numberDouble: "2.5" }, big: { $numberLong: "1099511627776" } },
    });
  });
  it("drops one index with its entries and its uniqueness, and no other index's", async () => {
    const coll = client.collection("drop_index");
    await coll.createIndexes([
      { key: { slug: 1 }, name: "slug_unique", unique: true },
      { key: { tags: 1 }, name: "tags" },
    ]);
    await client.call(
      "insertMany",
      {
        documents: [
          { slug: "a", tags: ["x", "y"] },
          { slug: "b", tags: ["x"] },
        ],
      },
      "drop_index",
    );
    const entries = () =>
      runInDurableObject(stub(), (_i, state) =>
        state.storage.sql
          .exec<{ idx: string; n: number }>(
            "SELECT idx, count(*) AS n FROM index_entries WHERE coll = (SELECT id FROM collections WHERE db = ? AND name = 'drop_index') GROUP BY idx ORDER BY idx",
            database,
          )
          .toArray(),
      );
    expect(await entries()).toEqual([
      { idx: "slug_unique", n: 2 },
      { idx: "tags", n: 3 },
    ]);
    expect(await coll.dropIndex("slug_unique")).toBe(true);
    expect(await entries()).toEqual([{ idx: "tags", n: 3 }]);
    await coll.insertOne({ slug: "a", tags: ["z"] });
    expect(await coll.countDocuments({ slug: "a" })).toBe(2);
    // The index left still answers its equality queries.
    expect(await coll.countDocuments({ tags: "x" })).toBe(2);
    expect(await coll.dropIndex("slug_unique")).toBe(false);
    expect(await entries()).toEqual([{ idx: "tags", n: 4 }]);
  });
});
