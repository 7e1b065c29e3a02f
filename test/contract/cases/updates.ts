import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { DataError } from "../../../src/data/errors";
import { setup, type TargetOf } from "../setup";

const invalid = { name: "DataError", code: "InvalidParameter" };

export const updateCases = (target: TargetOf) =>
  describe("updates", () => {
    it("applies field operators: $set (dotted), $unset, $inc, $mul, $min, $max, $rename, $currentDate", async () => {
      const { items } = setup(target());
      const id = await items.insertOne({ a: 1, b: 2, lo: 5, hi: 5, m: 3, old: "x", gone: true, sub: { keep: 1 } });
      const before = Date.now();
      const result = await items.updateOne(
        { _id: id },
        {
          $set: { "sub.added": "y", fresh: 1 },
          $unset: { gone: "" },
          $inc: { a: 2 },
          $mul: { m: 4 },
          $min: { lo: 1 },
          $max: { hi: 9 },
          $rename: { old: "renamed" },
          $currentDate: { touched: true },
        },
      );
      expect(result).toEqual({ matchedCount: 1, modifiedCount: 1 });
      const doc = await items.findOne({ _id: id });
      expect(doc).toEqual({ _id: id, a: 3, b: 2, lo: 1, hi: 9, m: 12, renamed: "x", sub: { keep: 1, added: "y" }, fresh: 1, touched: expect.any(Date) });
      expect(Number(doc?.touched instanceof Date && doc.touched.getTime())).toBeGreaterThanOrEqual(before - 5_000);
    });

    it("applies array operators: $push with $each, $addToSet, $pull (by value), $pop", async () => {
      const { items } = setup(target());
      const id = await items.insertOne({ list: [1, 2], set: ["a"], q: [1, 2, 3] });
      await items.updateOne({ _id: id }, { $push: { list: { $each: [3, 4] } }, $addToSet: { set: "a" }, $pop: { q: -1 } });
      // $pull by value only: FerretDB 1.24 ignores $pull conditions ({$gte: 3}); the service uses neither.
      await items.updateOne({ _id: id }, { $addToSet: { set: "b" }, $pull: { list: 3 } });
      expect(await items.findOne({ _id: id }, { projection: { _id: 0 } })).toEqual({ list: [1, 2, 4], set: ["a", "b"], q: [2, 3] });
    });

    it("counts a match that changes nothing as matched but not modified", async () => {
      const { items } = setup(target());
      await items.insertOne({ k: 1, v: "same" });
      expect(await items.updateOne({ k: 1 }, { $set: { v: "same" } })).toEqual({ matchedCount: 1, modifiedCount: 0 });
    });

    it("updateOne changes the first match only, updateMany all of them", async () => {
      const { items, call } = setup(target());
      await call("insertMany", { documents: [{ k: 1 }, { k: 1 }, { k: 1 }, { k: 2 }] });
      expect(await items.updateOne({ k: 1 }, { $set: { seen: true } })).toEqual({ matchedCount: 1, modifiedCount: 1 });
      expect(await items.updateMany({ k: 1 }, { $set: { seen: true } })).toEqual({ matchedCount: 3, modifiedCount: 2 });
      expect(await items.countDocuments({ seen: true })).toBe(3);
    });

    it("updateMany and deleteMany by named _ids touch only the named documents the whole filter matches", async () => {
      const { items, call } = setup(target());
      const [a, b, c, d] = [new ObjectId(), new ObjectId(), new ObjectId(), new ObjectId()];
      await call("insertMany", {
        documents: [
          { _id: a, k: 1 },
          { _id: b, k: 1 },
          { _id: c, k: 2 },
          { _id: d, k: 1 },
        ],
      });
      const missing = new ObjectId();
      // b is named twice, c does not match the rest of the filter, d is not named, missing is not there.
      expect(await items.updateMany({ _id: { $in: [a, b, b, c, missing] }, k: 1 }, { $set: { seen: true } })).toEqual({ matchedCount: 2, modifiedCount: 2 });
      expect(await items.updateMany({ _id: { $in: [] }, k: 1 }, { $set: { seen: true } })).toEqual({ matchedCount: 0, modifiedCount: 0 });
      expect(await items.find({ seen: true }, { projection: { k: 0, seen: 0 }, sort: { _id: 1 } })).toEqual([{ _id: a }, { _id: b }]);
      expect(await items.deleteMany({ _id: { $in: [] } })).toBe(0);
      expect(await items.deleteMany({ _id: { $in: [a, c, missing] }, k: 1 })).toBe(1);
      expect(await items.find({}, { projection: { k: 0, seen: 0 }, sort: { _id: 1 } })).toEqual([{ _id: b }, { _id: c }, { _id: d }]);
    });

    it("upserts from the filter's equality fields, applies $setOnInsert only when inserting, and reports the new _id", async () => {
      const { items } = setup(target());
      const first = await items.updateOne({ slug: "acme", "meta.region": "eu" }, { $set: { n: 1 }, $setOnInsert: { created: "now" } }, { upsert: true });
      expect(first).toEqual({ matchedCount: 0, modifiedCount: 0, upsertedId: expect.any(ObjectId) });
      expect(await items.findOne({ _id: first.upsertedId })).toEqual({ _id: first.upsertedId, slug: "acme", meta: { region: "eu" }, n: 1, created: "now" });
      const second = await items.updateOne({ slug: "acme" }, { $set: { n: 2 }, $setOnInsert: { created: "later" } }, { upsert: true });
      expect(second).toEqual({ matchedCount: 1, modifiedCount: 1 });
      expect(await items.find({}, { projection: { _id: 0 } })).toEqual([{ slug: "acme", meta: { region: "eu" }, n: 2, created: "now" }]);
    });

    it("an upsert whose $setOnInsert names the filter's own _id inserts the document whole, and leaves an existing one as it is", async () => {
      const { items } = setup(target());
      const doc = { _id: "evt-1", kind: "created", n: 1 };
      expect(await items.updateOne({ _id: "evt-1" }, { $setOnInsert: doc }, { upsert: true })).toEqual({
        matchedCount: 0,
        modifiedCount: 0,
        upsertedId: "evt-1",
      });
      expect(await items.updateOne({ _id: "evt-1" }, { $setOnInsert: { ...doc, n: 2 } }, { upsert: true })).toEqual({ matchedCount: 1, modifiedCount: 0 });
      expect(await items.findOne({ _id: "evt-1" })).toEqual(doc);
    });

    it("replaceOne swaps the whole document and keeps its _id; upsert inserts with the filter's _id", async () => {
      const { items, call } = setup(target());
      const id = await items.insertOne({ a: 1, b: 2 });
      expect(await items.replaceOne({ _id: id }, { c: 3 })).toEqual({ matchedCount: 1, modifiedCount: 1 });
      expect(await items.findOne({ _id: id })).toEqual({ _id: id, c: 3 });
      expect(await call("replaceOne", { filter: { _id: "new" }, replacement: { d: 4 }, upsert: true })).toEqual({
        matchedCount: 0,
        modifiedCount: 0,
        upsertedId: "new",
      });
      expect(await items.findOne({ _id: "new" })).toEqual({ _id: "new", d: 4 });
      expect(await items.replaceOne({ _id: "missing" }, { e: 5 })).toEqual({ matchedCount: 0, modifiedCount: 0 });
    });

    it("refuses to change _id, update documents without operators and replacements with them", async () => {
      const { items } = setup(target());
      const id = await items.insertOne({ a: 1 });
      await expect(items.updateOne({ _id: id }, { $set: { _id: new ObjectId() } })).rejects.toMatchObject(invalid);
      await expect(items.replaceOne({ _id: id }, { _id: "other", a: 2 })).rejects.toMatchObject(invalid);
      await expect(items.updateOne({ _id: id }, { a: 2 })).rejects.toMatchObject(invalid);
      await expect(items.replaceOne({ _id: id }, { $set: { a: 2 } })).rejects.toMatchObject(invalid);
      expect(await items.findOne({ _id: id })).toEqual({ _id: id, a: 1 });
    });

    it("refuses unknown and malformed query operators with 400", async () => {
      const { items } = setup(target());
      await items.insertOne({ a: 1 });
      await expect(items.find({ a: { $bogus: 1 } })).rejects.toMatchObject(invalid);
      await expect(items.find({ $and: 1 })).rejects.toMatchObject(invalid);
      await expect(items.updateOne({ a: 1 }, { $bogus: { a: 2 } })).rejects.toBeInstanceOf(DataError);
    });

    it("findOneAndUpdate returns the document before or after, or null", async () => {
      const { items } = setup(target());
      const id = await items.insertOne({ k: "x", n: 1 });
      expect(await items.findOneAndUpdate({ k: "x" }, { $inc: { n: 1 } })).toEqual({ _id: id, k: "x", n: 1 });
      expect(await items.findOneAndUpdate({ k: "x" }, { $inc: { n: 1 } }, { returnNewDocument: true })).toEqual({ _id: id, k: "x", n: 3 });
      expect(await items.findOneAndUpdate({ k: "nope" }, { $inc: { n: 1 } })).toBeNull();
      expect(await items.findOneAndUpdate({ k: "x" }, { $set: { flag: true } }, { returnNewDocument: true, projection: { _id: 0, n: 1, flag: 1 } })).toEqual({
        n: 3,
        flag: true,
      });
    });

    it("findOneAndUpdate upserts (returning null before, the new document after) and honours sort", async () => {
      const { items, call } = setup(target());
      expect(await items.findOneAndUpdate({ k: "a" }, { $set: { n: 1 } }, { upsert: true })).toBeNull();
      const created = await items.findOneAndUpdate({ k: "b" }, { $set: { n: 2 } }, { upsert: true, returnNewDocument: true });
      expect(created).toEqual({ _id: expect.any(ObjectId), k: "b", n: 2 });
      const { document } = await call<{ document: unknown }>("findOneAndUpdate", {
        filter: {},
        update: { $set: { top: true } },
        sort: { n: -1 },
        returnNewDocument: true,
      });
      expect(document).toMatchObject({ k: "b", top: true });
      expect(await items.countDocuments({ top: true })).toBe(1);
    });

    it("findOneAndUpdate upserts by _id alone: null and the document built from the update, then the document before each update", async () => {
      const { items } = setup(target());
      const at = new Date("2026-01-02T03:04:05Z");
      const update = { $inc: { n: 1 }, $set: { at }, $setOnInsert: { first: true } };
      expect(await items.findOneAndUpdate({ _id: "counter" }, update, { upsert: true })).toBeNull();
      expect(await items.findOneAndUpdate({ _id: "counter" }, update, { upsert: true })).toEqual({ _id: "counter", n: 1, at, first: true });
      expect(await items.findOne({ _id: "counter" })).toEqual({ _id: "counter", n: 2, at, first: true });
      // Parallel first upserts of one _id: each sees a different count, none is lost.
      const seen = await Promise.all(Array.from({ length: 5 }, () => items.findOneAndUpdate({ _id: "parallel" }, { $inc: { n: 1 } }, { upsert: true })));
      expect(seen.map((doc) => doc?.n ?? 0).sort()).toEqual([0, 1, 2, 3, 4]);
    });
  });
