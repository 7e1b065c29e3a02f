import { describe, expect, it } from "vitest";
import { DuplicateKeyError } from "../../../src/data/errors";
import { setup, type TargetOf } from "../setup";
import { postRaw } from "../target";

const duplicate = { name: "DuplicateKeyError", code: "DuplicateKey" };
const HOUR = 3_600_000;
const ago = (ms: number) => new Date(Date.now() - ms);

export const indexCases = (target: TargetOf) =>
  describe("unique indexes", () => {
    it("refuses a second document with a unique key, on insert and on insertMany", async () => {
      const { items, call } = setup(target());
      await items.createIndexes([{ key: { slug: 1 }, name: "slug_unique", unique: true }]);
      await items.insertOne({ slug: "acme", n: 1 });
      await expect(items.insertOne({ slug: "acme", n: 2 })).rejects.toMatchObject(duplicate);
      await expect(call("insertMany", { documents: [{ slug: "b" }, { slug: "acme" }, { slug: "c" }] })).rejects.toBeInstanceOf(DuplicateKeyError);
      // Ordered inserts stop at the duplicate. (Whether the ones before it stay differs: the embedded store is all-or-nothing.)
      expect(await items.countDocuments({ slug: { $in: ["acme", "c"] } })).toBe(1);
      expect(await items.findOne({ slug: "acme" }, { projection: { _id: 0 } })).toEqual({ slug: "acme", n: 1 });
    });

    it("refuses updates, replacements and upserts that would duplicate a unique key, leaving the documents as they were", async () => {
      const { items, call } = setup(target());
      await items.createIndexes([{ key: { slug: 1 }, name: "slug_unique", unique: true }]);
      await call("insertMany", { documents: [{ slug: "a" }, { slug: "b" }] });
      await expect(items.updateOne({ slug: "b" }, { $set: { slug: "a" } })).rejects.toMatchObject(duplicate);
      await expect(items.updateMany({ slug: "b" }, { $set: { slug: "a" } })).rejects.toMatchObject(duplicate);
      await expect(items.replaceOne({ slug: "b" }, { slug: "a" })).rejects.toMatchObject(duplicate);
      await expect(items.updateOne({ slug: "c" }, { $set: { slug: "a" } }, { upsert: true })).rejects.toMatchObject(duplicate);
      expect((await items.find({}, { sort: { slug: 1 }, projection: { _id: 0 } })).map((d) => d.slug)).toEqual(["a", "b"]);
    });

    it("findOneAndUpdate that takes a unique key another document holds is a duplicate key (the organization rename relies on it)", async () => {
      const { items } = setup(target());
      await items.createIndexes([{ key: { slug: 1 }, name: "slug_unique", unique: true }]);
      await items.insertOne({ slug: "old", status: "active" });
      await items.insertOne({ slug: "taken", status: "active" });
      await expect(items.findOneAndUpdate({ slug: "old", status: "active" }, { $set: { slug: "taken", status: "renaming" } })).rejects.toMatchObject(duplicate);
      expect(await items.findOne({ slug: "old" }, { projection: { _id: 0 } })).toEqual({ slug: "old", status: "active" });
      expect(await items.findOneAndUpdate({ slug: "old" }, { $set: { slug: "free" } }, { returnNewDocument: true, projection: { _id: 0 } })).toEqual({
        slug: "free",
        status: "active",
      });
    });

    it("enforces unique keys on dotted paths and on compound keys", async () => {
      const { items } = setup(target());
      await items.createIndexes([
        { key: { "admin.email_key": 1 }, name: "admin_email_unique", unique: true },
        { key: { a: 1, b: 1 }, name: "a_b_unique", unique: true },
      ]);
      await items.insertOne({ admin: { email_key: "x@y.io" }, a: 1, b: 1 });
      await expect(items.insertOne({ admin: { email_key: "x@y.io" }, a: 9, b: 9 })).rejects.toMatchObject(duplicate);
      await items.insertOne({ admin: { email_key: "z@y.io" }, a: 1, b: 2 });
      await expect(items.insertOne({ admin: { email_key: "w@y.io" }, a: 1, b: 2 })).rejects.toMatchObject(duplicate);
    });

    it("a sparse unique index admits any number of documents without the field", async () => {
      const { items } = setup(target());
      await items.createIndexes([{ key: { code: 1 }, name: "code_unique", unique: true, sparse: true }]);
      await items.insertOne({ n: 1 });
      await items.insertOne({ n: 2 });
      await items.insertOne({ code: "c" });
      await expect(items.insertOne({ code: "c" })).rejects.toMatchObject(duplicate);
      expect(await items.countDocuments({})).toBe(3);
    });

    it("createIndexes of a sparse unique index is idempotent", async () => {
      const { items } = setup(target());
      const spec = { key: { code: 1 as const }, name: "code_unique", unique: true, sparse: true };
      await items.createIndexes([spec]);
      await items.createIndexes([spec]);
      await expect(items.createIndexes([{ ...spec, unique: false }])).rejects.toMatchObject({ code: "IndexConflict" });
    });

    it("createIndexes is idempotent, and refuses a same-named index with other options", async () => {
      const { items } = setup(target());
      const spec = { key: { slug: 1 as const }, name: "slug_unique", unique: true };
      await items.createIndexes([spec]);
      await items.createIndexes([spec]);
      await expect(items.createIndexes([{ ...spec, unique: false }])).rejects.toMatchObject({ code: "IndexConflict" });
      await expect(items.createIndexes([{ ...spec, key: { other: 1 } }])).rejects.toMatchObject({ code: "IndexConflict" });
      await items.insertOne({ slug: "a" });
      await expect(items.insertOne({ slug: "a" })).rejects.toMatchObject(duplicate);
    });

    it("refuses a unique index over documents that already collide", async () => {
      const { items, call } = setup(target());
      await call("insertMany", { documents: [{ k: 1 }, { k: 1 }] });
      await expect(items.createIndexes([{ key: { k: 1 }, name: "k_unique", unique: true }])).rejects.toMatchObject(duplicate);
      await items.insertOne({ k: 1 });
      expect(await items.countDocuments({ k: 1 })).toBe(3);
    });

    it("expires documents past their TTL, and keeps live ones and those whose field holds no date", async () => {
      const { database, items, call } = setup(target());
      const ago = (ms: number) => new Date(Date.now() - ms);
      // Renewed before the index is made: its date now is what counts. (Renewed while the index
      // exists, the gateway's purge may run in between, as MongoDB's may: a renewal racing the
      // purge is test/gateway/ttl-turn.test.ts's, the embedded store's test/store/ttl.test.ts's.)
      await call("insertMany", { documents: [{ _id: "renewed", at: ago(7_200_000) }] });
      await items.updateOne({ _id: "renewed" }, { $set: { at: new Date() } });
      await items.createIndexes([{ key: { at: 1 }, name: "at_ttl", expireAfterSeconds: 3600 }]);
      await call("insertMany", {
        documents: [
          { _id: "old", at: ago(7_200_000) },
          { _id: "old-array", at: [new Date(), ago(7_200_000)] },
          { _id: "live", at: ago(60_000) },
          { _id: "text", at: "2001-01-01T00:00:00Z" },
          { _id: "none" },
        ],
      });
      const deadline = Date.now() + 20_000;
      while ((await items.countDocuments({ _id: { $in: ["old", "old-array"] } })) > 0 && Date.now() < deadline) await target().expire(database);
      expect((await items.find({}, { sort: { _id: 1 } })).map((d) => d._id)).toEqual(["live", "none", "renewed", "text"]);
    });

    it("expires by a date inside a subdocument, as MongoDB does with a dotted key", async () => {
      const { database, items, call } = setup(target());
      const ago = (ms: number) => new Date(Date.now() - ms);
      await items.createIndexes([{ key: { "meta.at": 1 }, name: "meta_at_ttl", expireAfterSeconds: 3600 }]);
      await call("insertMany", {
        documents: [
          { _id: "old", meta: { at: ago(7_200_000) } },
          { _id: "old-array", meta: { at: [new Date(), ago(7_200_000)] } },
          { _id: "live", meta: { at: ago(60_000) } },
          { _id: "top-level", at: ago(7_200_000) },
        ],
      });
      const deadline = Date.now() + 20_000;
      while ((await items.countDocuments({ _id: { $in: ["old", "old-array"] } })) > 0 && Date.now() < deadline) await target().expire(database);
      expect((await items.find({}, { sort: { _id: 1 } })).map((d) => d._id)).toEqual(["live", "top-level"]);
    });

    it("refuses a TTL index of a taken name with another expiry", async () => {
      const { items } = setup(target());
      await items.createIndexes([{ key: { at: 1 }, name: "at_ttl", expireAfterSeconds: 3600 }]);
      await expect(items.createIndexes([{ key: { at: 1 }, name: "at_ttl", expireAfterSeconds: 60 }])).rejects.toMatchObject({ code: "IndexConflict" });
      await expect(items.createIndexes([{ key: { at: 1 }, name: "at_ttl" }])).rejects.toMatchObject({ code: "IndexConflict" });
    });

    it("accepts a TTL index (where the server cannot expire, the index is still created) and stays writable", async () => {
      const { items } = setup(target());
      await items.createIndexes([{ key: { expires_at: 1 }, name: "expires_ttl", expireAfterSeconds: 3600 }]);
      await items.createIndexes([{ key: { expires_at: 1 }, name: "expires_ttl", expireAfterSeconds: 3600 }]);
      await items.insertOne({ expires_at: new Date() });
      expect(await items.countDocuments({ expires_at: { $lte: new Date(Date.now() + 60_000) } })).toBe(1);
    });
    it("dropIndexes drops one unique index: its key takes duplicates again, the other index still refuses them", async () => {
      const { items } = setup(target());
      await items.createIndexes([
        { key: { slug: 1 }, name: "slug_unique", unique: true },
        { key: { code: 1 }, name: "code_unique", unique: true },
      ]);
      await items.insertOne({ slug: "a", code: 1 });
      await expect(items.insertOne({ slug: "a", code: 2 })).rejects.toMatchObject(duplicate);
      await items.insertOne({ slug: "c", code: 5 });
      expect(await items.dropIndex("slug_unique")).toBe(true);
      // Twice: a store still writing the dropped index's entries would refuse the second.
      await items.insertOne({ slug: "a", code: 2 });
      await items.insertOne({ slug: "a", code: 3 });
      expect(await items.countDocuments({ slug: "a" })).toBe(3);
      await expect(items.insertOne({ slug: "b", code: 2 })).rejects.toMatchObject(duplicate);
      // The documents are untouched and still found by the dropped index's field.
      expect((await items.find({ slug: "a" }, { sort: { code: 1 }, projection: { _id: 0 } })).map((d) => d.code)).toEqual([1, 2, 3]);
      // Gone for good: the name can be created again, with other options, and over the duplicates only without uniqueness.
      await expect(items.createIndexes([{ key: { slug: 1 }, name: "slug_unique", unique: true }])).rejects.toMatchObject(duplicate);
      await items.createIndexes([{ key: { slug: 1 }, name: "slug_unique" }]);
    });

    it("an index refused over duplicates is not there afterwards, a TTL one included", async () => {
      const { items } = setup(target());
      const at = new Date(Date.now() + HOUR);
      await items.insertOne({ at, n: 1 });
      await items.insertOne({ at, n: 2 });
      await expect(items.createIndexes([{ key: { at: 1 }, name: "at_ttl", unique: true, expireAfterSeconds: 3600 }])).rejects.toMatchObject(duplicate);
      // Twice more: a store that kept the refused index in mind would refuse the second.
      await items.insertOne({ at, n: 3 });
      await items.insertOne({ at, n: 4 });
      expect(await items.countDocuments({ at })).toBe(4);
    });

    it("dropIndexes is idempotent: a second drop, an unknown name and a missing collection answer false and create nothing", async () => {
      const { client, items } = setup(target());
      await items.createIndexes([{ key: { k: 1 }, name: "k_unique", unique: true }]);
      expect(await items.dropIndex("k_unique")).toBe(true);
      expect(await items.dropIndex("k_unique")).toBe(false);
      expect(await items.dropIndex("never_created")).toBe(false);
      expect(await client.collection("missing").dropIndex("k_unique")).toBe(false);
      expect(await client.listCollections()).toEqual([{ name: "items" }]);
    });

    it("dropIndexes refuses _id_ (and *, MongoDB's every index) with 400, and the _id_ index stays", async () => {
      const { database, items } = setup(target());
      await items.createIndexes([{ key: { k: 1 }, name: "k_unique", unique: true }]);
      await items.insertOne({ _id: 1, k: 1 });
      const send = async (fields: Record<string, unknown>) => {
        const response = await postRaw(target(), database, "dropIndexes", JSON.stringify({ dataSource: "contract", database, collection: "items", ...fields }));
        return { status: response.status, body: await response.json() };
      };
      expect(await send({ name: "_id_" })).toEqual({ status: 400, body: { error: "name: the _id_ index cannot be dropped", error_code: "InvalidParameter" } });
      expect(await send({ name: "*" })).toEqual({
        status: 400,
        body: { error: "name: name one index: * (every index) is not accepted", error_code: "InvalidParameter" },
      });
      for (const fields of [{}, { name: "" }, { name: 1 }, { name: ["k_unique"] }]) expect((await send(fields)).status).toBe(400);
      await expect(items.dropIndex("_id_")).rejects.toMatchObject({ name: "DataError", code: "InvalidParameter" });
      await expect(items.insertOne({ _id: 1, k: 2 })).rejects.toMatchObject(duplicate);
      await expect(items.insertOne({ _id: 2, k: 1 })).rejects.toMatchObject(duplicate);
    });

    it("after dropIndexes of a TTL index its documents no longer expire; created again, it expires them again", async () => {
      const { database, client, items, call } = setup(target());
      const ttl = { key: { at: 1 as const }, name: "at_ttl", expireAfterSeconds: 3600 };
      const kept = client.collection("kept");
      await items.createIndexes([ttl]);
      await kept.createIndexes([ttl]);
      expect(await items.dropIndex("at_ttl")).toBe(true);
      await call("insertMany", { documents: [{ _id: "old", at: ago(2 * HOUR) }] });
      await call("insertMany", { documents: [{ _id: "old", at: ago(2 * HOUR) }] }, "kept");
      // The collection that kept its TTL index shows the purge ran; then a little more, so any turn under way has finished.
      const deadline = Date.now() + 20_000;
      while ((await kept.countDocuments({})) > 0 && Date.now() < deadline) await target().expire(database);
      expect(await kept.countDocuments({})).toBe(0);
      for (let i = 0; i < 4; i++) await target().expire(database);
      expect(await items.find({})).toEqual([{ _id: "old", at: expect.any(Date) }]);
      // Nothing of the old expiry is left to conflict with: another one takes the name.
      await items.createIndexes([{ ...ttl, expireAfterSeconds: 60 }]);
      while ((await items.countDocuments({})) > 0 && Date.now() < deadline) await target().expire(database);
      expect(await items.countDocuments({})).toBe(0);
    });
  });
