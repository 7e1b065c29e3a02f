import { describe, expect, it } from "vitest";
import { setup, type TargetOf } from "../setup";

const SOON = () => new Date(Date.now() + 10_000);

/**
 * `insertOneFenced`: an insert into the collection a guard document names, only while that
 * document matches (how a record is written under its organization's check, in one call). The
 * embedded store checks and inserts in one transaction; the gateway holds a lease in the guard
 * document around the insert: after the call, neither leaves one.
 */
export const fencedInsertCases = (target: TargetOf) =>
  describe("insertOneFenced", () => {
    const guarded = async () => {
      const { client, call } = setup(target());
      const guards = client.collection("guards");
      const id = await guards.insertOne({ status: "active", into: "fenced_target" });
      const fence = { collection: "guards", filter: { _id: id, status: "active" }, target: "into", lease: "write_leases" };
      return { client, call, guards, id, fence };
    };

    it("inserts into the collection the matching guard names, and leaves no lease on it", async () => {
      const { client, guards, id, fence } = await guarded();
      const insertedId = await client.insertFenced(fence, { n: 1 }, SOON());
      expect(insertedId).not.toBeNull();
      expect(await client.collection("fenced_target").find({}, { projection: { _id: 0 } })).toEqual([{ n: 1 }]);
      const guard = await guards.findOne({ _id: id });
      expect(Object.keys((guard?.write_leases as object | undefined) ?? {})).toEqual([]);
    });

    it("answers null and inserts nothing when no guard matches", async () => {
      const { client, guards, id, fence } = await guarded();
      await guards.updateOne({ _id: id }, { $set: { status: "deleting" } });
      expect(await client.insertFenced(fence, { n: 1 }, SOON())).toBeNull();
      expect((await client.listCollections()).map((c) => c.name)).not.toContain("fenced_target");
    });

    it("follows the guard's name as it changes: the insert goes where the guard points as it applies", async () => {
      const { client, guards, id, fence } = await guarded();
      await guards.updateOne({ _id: id }, { $set: { into: "fenced_moved" } });
      await client.insertFenced(fence, { n: 2 }, SOON());
      expect(await client.collection("fenced_moved").countDocuments({})).toBe(1);
    });

    it("refuses a guard without a collection name, an invalid one, odd field names, and a call without a deadline, inserting nothing", async () => {
      const { client, call, guards, id, fence } = await guarded();
      await expect(client.insertFenced({ ...fence, target: "missing" }, { n: 1 }, SOON())).rejects.toMatchObject({ code: "InvalidParameter" });
      await guards.updateOne({ _id: id }, { $set: { into: "$bad" } });
      await expect(client.insertFenced(fence, { n: 1 }, SOON())).rejects.toMatchObject({ code: "InvalidParameter" });
      await expect(client.insertFenced({ ...fence, lease: "a.b" }, { n: 1 }, SOON())).rejects.toMatchObject({ code: "InvalidParameter" });
      await expect(call("insertOneFenced", { fence, document: { n: 1 } }, undefined)).rejects.toMatchObject({ code: "InvalidParameter" });
      const guard = await guards.findOne({ _id: id });
      expect(Object.keys((guard?.write_leases as object | undefined) ?? {})).toEqual([]);
      expect((await client.listCollections()).map((c) => c.name).sort()).toEqual(["guards"]);
    });

    it("findFenced reads the collection the matching guard names, with its filter, sort and limit; null when no guard matches", async () => {
      const { client, guards, id, fence } = await guarded();
      await client.collection("fenced_target").insertMany([{ n: 3 }, { n: 1 }, { n: 2 }, { n: 9, other: true }]);
      const read = { collection: fence.collection, filter: fence.filter, target: fence.target };
      const found = await client.findFenced(read, { other: { $exists: false } }, { sort: { n: -1 }, limit: 2, projection: { _id: 0 } });
      expect(found).toEqual([{ n: 3 }, { n: 2 }]);
      await guards.updateOne({ _id: id }, { $set: { into: "fenced_moved" } });
      expect(await client.findFenced(read, {})).toEqual([]);
      await guards.updateOne({ _id: id }, { $set: { status: "deleting" } });
      expect(await client.findFenced(read, {})).toBeNull();
      await expect(client.findFenced({ ...read, target: "missing" }, {})).resolves.toBeNull();
      await guards.updateOne({ _id: id }, { $set: { status: "active", into: "$bad" } });
      await expect(client.findFenced(read, {})).rejects.toMatchObject({ code: "InvalidParameter" });
    });
  });
