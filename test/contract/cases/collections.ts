import { describe, expect, it } from "vitest";
import { setup, type TargetOf } from "../setup";

export const collectionCases = (target: TargetOf) =>
  describe("collections", () => {
    it("createCollection is idempotent, and listCollections lists (and filters) by name", async () => {
      const { client } = setup(target());
      expect(await client.listCollections()).toEqual([]);
      await client.collection("org_b").create();
      await client.collection("org_b").create();
      await client.collection("org_a").create();
      await client.collection("organizations").insertOne({ n: 1 });
      expect(await client.listCollections()).toEqual([{ name: "org_a" }, { name: "org_b" }, { name: "organizations" }]);
      expect(await client.listCollections({ name: "org_b" })).toEqual([{ name: "org_b" }]);
      expect(await client.listCollections({ name: { $in: ["org_a", "nope"] } })).toEqual([{ name: "org_a" }]);
    });

    it("dbStats reports the database's bytes in storage, or null where the store cannot tell", async () => {
      const { client, items } = setup(target());
      for (let i = 0; i < 20; i++) await items.insertOne({ i, text: "x".repeat(200) });
      const bytes = await client.storageBytes();
      // Both engines here can tell: the embedded store's SQLite file, MongoDB's (FerretDB's) dbStats.
      expect(typeof bytes).toBe("number");
      expect(bytes).toBeGreaterThan(0);
    });

    it("dropCollection drops documents and indexes, and says whether there was anything to drop", async () => {
      const { client, items } = setup(target());
      await items.createIndexes([{ key: { k: 1 }, name: "k_unique", unique: true }]);
      await items.insertOne({ k: 1 });
      expect(await items.drop()).toBe(true);
      expect(await items.drop()).toBe(false);
      expect(await client.listCollections()).toEqual([]);
      expect(await items.countDocuments({})).toBe(0);
      await items.insertOne({ k: 1 });
      await items.insertOne({ k: 1 });
      expect(await items.countDocuments({ k: 1 })).toBe(2);
    });

    it("a write that fails in a collection it was creating leaves a collection that the next write fills and lists", async () => {
      const { client, items, call } = setup(target());
      // The second _id repeats the first: the embedded store undoes the whole action, collection included;
      // MongoDB keeps the first document. Either way the next write must land in a listed collection.
      await expect(call("insertMany", { documents: [{ _id: 1 }, { _id: 1 }] })).rejects.toMatchObject({ code: "DuplicateKey" });
      await items.insertOne({ _id: 2, n: 2 });
      expect(await client.listCollections()).toEqual([{ name: "items" }]);
      expect(await items.findOne({ _id: 2 })).toEqual({ _id: 2, n: 2 });
      await items.createIndexes([{ key: { n: 1 }, name: "n_unique", unique: true }]);
      await expect(items.insertOne({ _id: 3, n: 2 })).rejects.toMatchObject({ code: "DuplicateKey" });
    });

    it("renameCollection moves the documents and their unique indexes, and the old name is gone", async () => {
      const { client, items } = setup(target());
      await items.createIndexes([{ key: { k: 1 }, name: "k_unique", unique: true }]);
      await items.insertOne({ k: 1 });
      await items.insertOne({ k: 2 });
      await items.renameTo("moved");
      const moved = client.collection("moved");
      expect(await client.listCollections()).toEqual([{ name: "moved" }]);
      expect((await moved.find({}, { sort: { k: 1 }, projection: { _id: 0 } })).map((d) => d.k)).toEqual([1, 2]);
      await expect(moved.insertOne({ k: 1 })).rejects.toMatchObject({ code: "DuplicateKey" });
      expect(await items.countDocuments({})).toBe(0);
    });

    it("renameCollection onto an existing collection is 409 NamespaceExists and leaves both as they were", async () => {
      const { client, items } = setup(target());
      await items.insertOne({ from: "items" });
      await client.collection("target").insertOne({ from: "target" });
      await expect(items.renameTo("target")).rejects.toMatchObject({ name: "DataError", code: "NamespaceExists" });
      expect(await items.find({}, { projection: { _id: 0 } })).toEqual([{ from: "items" }]);
      expect(await client.collection("target").find({}, { projection: { _id: 0 } })).toEqual([{ from: "target" }]);
    });

    it("renameCollection with dropTarget replaces the target", async () => {
      const { client, items } = setup(target());
      await items.insertOne({ from: "items" });
      await client.collection("target").insertOne({ from: "target" });
      await items.renameTo("target", { dropTarget: true });
      expect(await client.listCollections()).toEqual([{ name: "target" }]);
      expect(await client.collection("target").find({}, { projection: { _id: 0 } })).toEqual([{ from: "items" }]);
    });

    it("renameCollection of a missing collection is 404 NamespaceNotFound and does not touch the target", async () => {
      const { client } = setup(target());
      await client.collection("target").insertOne({ keep: true });
      await expect(client.collection("missing").renameTo("target", { dropTarget: true })).rejects.toMatchObject({ code: "NamespaceNotFound" });
      await expect(client.collection("missing").renameTo("elsewhere")).rejects.toMatchObject({ code: "NamespaceNotFound" });
      expect(await client.collection("target").countDocuments({ keep: true })).toBe(1);
    });

    it("renameCollection onto its own name is a no-op when it exists, 404 when it does not", async () => {
      const { client, items } = setup(target());
      await items.insertOne({ k: 1 });
      await items.renameTo("items");
      expect(await items.countDocuments({})).toBe(1);
      await expect(client.collection("missing").renameTo("missing")).rejects.toMatchObject({ code: "NamespaceNotFound" });
    });

    it("refuses invalid collection names with 400", async () => {
      const { client, items } = setup(target());
      await expect(client.collection("bad$name").insertOne({ a: 1 })).rejects.toMatchObject({ code: "InvalidParameter" });
      await expect(client.collection("system.users").findOne({})).rejects.toMatchObject({ code: "InvalidParameter" });
      await items.insertOne({ a: 1 });
      await expect(items.renameTo("x$y")).rejects.toMatchObject({ code: "InvalidParameter" });
      // 255 bytes of "<database>.<collection>" in UTF-8: 130 two-byte letters pass a count of characters, not of bytes.
      await expect(client.collection("é".repeat(130)).insertOne({ a: 1 })).rejects.toMatchObject({ code: "InvalidParameter" });
    });
  });
