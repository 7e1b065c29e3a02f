import { Binary, ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { DuplicateKeyError } from "../../../src/data/errors";
import { setup, type TargetOf } from "../setup";

const names = (docs: { name?: unknown }[]) => docs.map((d) => d.name);

export const documentCases = (target: TargetOf) =>
  describe("documents", () => {
    it("insertOne gives a document without _id an ObjectId, returns it, and findOne finds it", async () => {
      const { items } = setup(target());
      const id = await items.insertOne({ name: "a" });
      expect(id).toBeInstanceOf(ObjectId);
      expect(await items.findOne({ _id: id })).toEqual({ _id: id, name: "a" });
    });

    it("insertOne keeps a caller's _id and refuses a second document with it", async () => {
      const { items } = setup(target());
      expect(await items.insertOne({ _id: "fixed", n: 1 })).toBe("fixed");
      await expect(items.insertOne({ _id: "fixed", n: 2 })).rejects.toBeInstanceOf(DuplicateKeyError);
      expect(await items.find({})).toEqual([{ _id: "fixed", n: 1 }]);
    });

    it("insertMany returns the ids in order", async () => {
      const { items, call } = setup(target());
      const given = new ObjectId();
      const { insertedIds } = await call<{ insertedIds: unknown[] }>("insertMany", { documents: [{ name: "a" }, { _id: given, name: "b" }, { name: "c" }] });
      expect(insertedIds).toHaveLength(3);
      expect(insertedIds[1]).toEqual(given);
      expect(insertedIds[0]).toBeInstanceOf(ObjectId);
      for (const [i, name] of ["a", "b", "c"].entries()) expect(await items.findOne({ _id: insertedIds[i] })).toMatchObject({ name });
    });

    it("reads from a collection that does not exist find nothing", async () => {
      const { items } = setup(target());
      expect(await items.findOne({})).toBeNull();
      expect(await items.find({})).toEqual([]);
      expect(await items.countDocuments({})).toBe(0);
      expect(await items.deleteMany({})).toBe(0);
      expect(await items.updateOne({ a: 1 }, { $set: { b: 1 } })).toEqual({ matchedCount: 0, modifiedCount: 0 });
    });

    it("keeps EJSON types: ObjectId, Date, Binary, integers, doubles, booleans, null, nested documents and arrays", async () => {
      const { items } = setup(target());
      const doc = {
        _id: new ObjectId(),
        ref: new ObjectId(),
        at: new Date("2024-02-29T12:34:56.789Z"),
        bytes: new Binary(new Uint8Array([0, 1, 2, 254, 255])),
        int: 42,
        negative: -7,
        large: 2 ** 40,
        double: 2.5,
        yes: true,
        nothing: null,
        text: "héllo ✓",
        nested: { list: [1, "two", { three: 3 }], empty: {}, none: [] },
      };
      await items.insertOne(doc);
      const back = await items.findOne({ _id: doc._id });
      expect(back).toEqual(doc);
      expect(back?.ref).toBeInstanceOf(ObjectId);
      expect(back?.at).toBeInstanceOf(Date);
      expect(back?.bytes).toBeInstanceOf(Binary);
    });

    it("matches ObjectId and Date values in filters", async () => {
      const { items } = setup(target());
      const owner = new ObjectId();
      const base = Date.parse("2025-01-01T00:00:00Z");
      for (let i = 0; i < 4; i++) await items.insertOne({ name: `d${i}`, owner: i % 2 ? owner : new ObjectId(), at: new Date(base + i * 60_000) });
      expect(names(await items.find({ owner }, { sort: { name: 1 } }))).toEqual(["d1", "d3"]);
      expect(names(await items.find({ at: { $gte: new Date(base + 60_000), $lt: new Date(base + 180_000) } }, { sort: { at: 1 } }))).toEqual(["d1", "d2"]);
      expect(await items.countDocuments({ owner: { $in: [owner, new ObjectId()] } })).toBe(2);
    });

    it("evaluates comparison, set, existence, logical and regex operators", async () => {
      const { items, call } = setup(target());
      await call("insertMany", {
        documents: [
          { name: "a", n: 1, tag: "red" },
          { name: "b", n: 2, tag: "green", extra: true },
          { name: "c", n: 3, tag: "Blue" },
          { name: "d", n: 4 },
        ],
      });
      const find = async (filter: Record<string, unknown>) => names(await items.find(filter, { sort: { name: 1 } }));
      expect(await find({ n: { $gt: 1, $lte: 3 } })).toEqual(["b", "c"]);
      expect(await find({ n: { $ne: 2 } })).toEqual(["a", "c", "d"]);
      expect(await find({ tag: { $in: ["red", "Blue"] } })).toEqual(["a", "c"]);
      expect(await find({ tag: { $nin: ["red"] } })).toEqual(["b", "c", "d"]);
      expect(await find({ tag: { $exists: false } })).toEqual(["d"]);
      expect(await find({ extra: { $exists: true } })).toEqual(["b"]);
      expect(await find({ $or: [{ n: 1 }, { tag: "Blue" }] })).toEqual(["a", "c"]);
      expect(await find({ $and: [{ n: { $gte: 2 } }, { n: { $lt: 4 } }] })).toEqual(["b", "c"]);
      expect(await find({ $nor: [{ n: 1 }, { n: 2 }] })).toEqual(["c", "d"]);
      expect(await find({ n: { $not: { $gt: 2 } } })).toEqual(["a", "b"]);
      expect(await find({ tag: { $regex: "^b", $options: "i" } })).toEqual(["c"]);
      expect(await find({ tag: { $eq: "green" } })).toEqual(["b"]);
    });

    it("reaches into sub-documents by dotted path and into arrays by element", async () => {
      const { items, call } = setup(target());
      await call("insertMany", {
        documents: [
          { name: "a", admin: { email: "a@x.io", level: 1 }, tags: ["x", "y"], scores: [1, 5] },
          { name: "b", admin: { email: "b@x.io", level: 2 }, tags: ["y"], scores: [7] },
          { name: "c", tags: [], scores: [] },
        ],
      });
      const find = async (filter: Record<string, unknown>) => names(await items.find(filter, { sort: { name: 1 } }));
      expect(await find({ "admin.email": "b@x.io" })).toEqual(["b"]);
      expect(await find({ "admin.level": { $gte: 1 } })).toEqual(["a", "b"]);
      expect(await find({ tags: "y" })).toEqual(["a", "b"]);
      expect(await find({ tags: { $all: ["x", "y"] } })).toEqual(["a"]);
      expect(await find({ tags: { $size: 0 } })).toEqual(["c"]);
      expect(await find({ scores: { $elemMatch: { $gt: 4, $lt: 6 } } })).toEqual(["a"]);
    });

    it("find sorts, skips, limits and projects", async () => {
      const { items, call } = setup(target());
      await call("insertMany", {
        documents: [
          { name: "a", group: 2, secret: "s" },
          { name: "b", group: 1, secret: "s" },
          { name: "c", group: 2, secret: "s" },
          { name: "d", group: 1, secret: "s" },
        ],
      });
      const page = await items.find({}, { sort: { group: 1, name: -1 }, skip: 1, limit: 2, projection: { _id: 0, name: 1 } });
      expect(page).toEqual([{ name: "b" }, { name: "c" }]);
      const hidden = await items.find({ name: "a" }, { projection: { secret: 0 } });
      expect(hidden).toEqual([{ _id: expect.any(ObjectId), name: "a", group: 2 }]);
      expect(await items.findOne({ group: 2 }, { sort: { name: -1 }, projection: { _id: 0, name: 1 } })).toEqual({ name: "c" });
    });

    it("deleteOne removes one match, deleteMany all of them", async () => {
      const { items, call } = setup(target());
      await call("insertMany", { documents: [{ k: 1 }, { k: 1 }, { k: 1 }, { k: 2 }] });
      expect(await items.deleteOne({ k: 1 })).toBe(1);
      expect(await items.countDocuments({ k: 1 })).toBe(2);
      expect(await items.deleteMany({ k: 1 })).toBe(2);
      expect(await items.deleteOne({ k: 1 })).toBe(0);
      expect(await items.find({}, { projection: { _id: 0 } })).toEqual([{ k: 2 }]);
    });

    it("countDocuments counts what the filter matches", async () => {
      const { items, call } = setup(target());
      await call("insertMany", { documents: [{ s: "active" }, { s: "active" }, { s: "deleting" }] });
      expect(await items.countDocuments({})).toBe(3);
      expect(await items.countDocuments({ s: "active" })).toBe(2);
      expect(await items.countDocuments({ s: { $in: ["renaming", "deleting"] } })).toBe(1);
    });

    it("aggregate matches, groups, sorts, projects, limits and counts", async () => {
      const { items, call } = setup(target());
      await call("insertMany", {
        documents: [
          { g: "x", v: 1 },
          { g: "y", v: 10 },
          { g: "x", v: 2 },
          { g: "z", v: 100 },
        ],
      });
      const grouped = await items.aggregate([{ $match: { v: { $lt: 50 } } }, { $group: { _id: "$g", total: { $sum: "$v" } } }, { $sort: { _id: 1 } }]);
      expect(grouped).toEqual([
        { _id: "x", total: 3 },
        { _id: "y", total: 10 },
      ]);
      expect(await items.aggregate([{ $sort: { v: -1 } }, { $limit: 2 }, { $project: { _id: 0, g: 1 } }])).toEqual([{ g: "z" }, { g: "y" }]);
      expect(await items.aggregate([{ $match: { g: "x" } }, { $count: "n" }])).toEqual([{ n: 2 }]);
    });
  });
