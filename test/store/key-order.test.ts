import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { DataClient } from "../../src/data/client";
import { backfillKinds, orderedIndexFor } from "../../src/store/key-order";

/** Sorted pages read in an index's order, and only where that order is BSON's. */
const database = `order_${Date.now().toString(36)}`;
const stub = () => env.DATA_STORE.get(env.DATA_STORE.idFromName(database));
const client = new DataClient({ fetch: (r) => stub().fetch(r), baseUrl: "https://data-store.internal", dataSource: "t", database });

/** Whether the store would read this sorted find from an index, and how many rows that read hands out. */
const plan = (collection: string, sort: Record<string, 1 | -1>, filter: Record<string, unknown>) =>
  runInDurableObject(stub(), (_instance, state) => {
    const plan = orderedIndexFor(state.storage.sql, { database, collection }, sort, filter);
    return plan ? { indexed: true, index: plan.idx } : { indexed: false };
  });

describe("ordered reads from an index", () => {
  it("answers a sorted, filtered page from the index and agrees with the general path", async () => {
    const coll = client.collection("orgs");
    await coll.createIndexes([
      { key: { slug: 1 }, name: "slug_unique", unique: true },
      { key: { status: 1, slug: 1 }, name: "status_slug" },
      { key: { created_at: 1, _id: 1 }, name: "created" },
    ]);
    const docs = Array.from({ length: 300 }, (_, i) => ({
      _id: new ObjectId(),
      slug: `org_${String((i * 7919) % 300).padStart(4, "0")}`,
      status: i % 3 === 0 ? "renaming" : "active",
      created_at: new Date(Date.UTC(2026, 0, 1) + (i % 50) * 1000),
    }));
    await client.call("insertMany", { documents: docs }, "orgs");

    expect(await plan("orgs", { slug: 1 }, { slug: { $gt: "org_0100" } })).toEqual({ indexed: true, index: "slug_unique" });
    // Both indexes have the order; the one that pins the status reads only that status's rows.
    expect(await plan("orgs", { slug: -1 }, { status: "active" })).toEqual({ indexed: true, index: "status_slug" });
    expect(await plan("orgs", { created_at: 1, _id: 1 }, {})).toEqual({ indexed: true, index: "created" });
    // No index has this order: the general path reads and sorts.
    expect(await plan("orgs", { status: 1, created_at: 1 }, {})).toEqual({ indexed: false });

    const slugs = (list: { slug?: unknown }[]) => list.map((d) => d.slug);
    const expected = docs
      .filter((d) => d.status === "active" && d.slug > "org_0100" && d.slug < "org_0200")
      .map((d) => d.slug)
      .sort();
    const page = await coll.find({ status: "active", slug: { $gt: "org_0100", $lt: "org_0200" } }, { sort: { slug: 1 }, limit: 20 });
    expect(slugs(page)).toEqual(expected.slice(0, 20));
    const reversed = await coll.find({ status: "active" }, { sort: { slug: -1 }, limit: 5 });
    expect(slugs(reversed)).toEqual(
      docs
        .filter((d) => d.status === "active")
        .map((d) => d.slug)
        .sort()
        .reverse()
        .slice(0, 5),
    );
    const byTime = [...docs].sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || a._id.toHexString().localeCompare(b._id.toHexString()));
    const first = await coll.find({}, { sort: { created_at: 1, _id: 1 }, limit: 30 });
    expect(first.map((d) => String(d._id))).toEqual(byTime.slice(0, 30).map((d) => String(d._id)));
    // The next page, from a (created_at, _id) cursor.
    const last = byTime[29] as (typeof docs)[number];
    const next = await coll.find(
      { created_at: { $gte: last.created_at }, $or: [{ created_at: { $gt: last.created_at } }, { _id: { $gt: last._id } }] },
      { sort: { created_at: 1, _id: 1 }, limit: 30 },
    );
    expect(next.map((d) => String(d._id))).toEqual(byTime.slice(30, 60).map((d) => String(d._id)));
  });

  it("falls back to reading and sorting once an index holds values whose text does not sort as they do", async () => {
    const coll = client.collection("mixed");
    await coll.createIndexes([{ key: { name: 1 }, name: "name" }]);
    await coll.insertOne({ name: "b" });
    await coll.insertOne({ name: "a" });
    expect(await plan("mixed", { name: 1 }, {})).toEqual({ indexed: true, index: "name" });
    // "a b" sorts after "a" in BSON, but its text `"a b"` sorts before `"a"`; numbers and mixed types likewise.
    await coll.insertOne({ name: "a b" });
    await coll.insertOne({ name: 10 });
    await coll.insertOne({ name: 9 });
    expect(await plan("mixed", { name: 1 }, {})).toEqual({ indexed: false });
    const sorted = await coll.find({}, { sort: { name: 1 } });
    expect(sorted.map((d) => d.name)).toEqual([9, 10, "a", "a b", "b"]);
    // Deleting the odd values does not make the index trusted again (the marks are sticky) ...
    await coll.deleteMany({ name: { $in: ["a b", 9, 10] } });
    expect(await plan("mixed", { name: 1 }, {})).toEqual({ indexed: false });
    // ... dropping and rebuilding the collection's indexes does.
    await coll.drop();
    await coll.createIndexes([{ key: { name: 1 }, name: "name" }]);
    await coll.insertOne({ name: "a" });
    expect(await plan("mixed", { name: 1 }, {})).toEqual({ indexed: true, index: "name" });
  });

  it("a store written before the kinds were kept computes them once, from its documents", async () => {
    await client.collection("legacy_ok").createIndexes([{ key: { name: 1 }, name: "name" }]);
    await client.collection("legacy_mixed").createIndexes([{ key: { name: 1 }, name: "name" }]);
    for (const name of ["b", "a"]) await client.collection("legacy_ok").insertOne({ name });
    for (const name of ["b", 7]) await client.collection("legacy_mixed").insertOne({ name });
    const plans = await runInDurableObject(stub(), (_instance, state) => {
      const sql = state.storage.sql;
      // As a store written before the table: none of its kinds known (applySchema runs this once when it creates the table).
      sql.exec("DELETE FROM index_orders");
      backfillKinds(sql);
      const planOf = (collection: string) => orderedIndexFor(sql, { database, collection }, { name: 1 }, {})?.idx ?? null;
      return { ok: planOf("legacy_ok"), mixed: planOf("legacy_mixed"), kinds: sql.exec("SELECT COUNT(*) AS n FROM index_orders").one().n };
    });
    expect(plans.ok).toBe("name");
    expect(plans.mixed).toBeNull();
    expect(plans.kinds).toBeGreaterThan(0);
    expect((await client.collection("legacy_ok").find({}, { sort: { name: 1 } })).map((d) => d.name)).toEqual(["a", "b"]);
  });
});
