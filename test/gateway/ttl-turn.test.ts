import { describe, expect, it } from "vitest";
import { TtlMonitor } from "../../gateway/ttl-monitor";
import type { Doc, Engine, FindSpec, Namespace } from "../../src/dataapi/engine";

const OPTIONS = { metaDatabase: "meta", intervalMs: 60_000, batch: 10, maxDocuments: 100, gapMs: 10, horizonMs: 60_000, log: () => {} };
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

interface Spec extends Doc {
  _id: number;
  database: string;
  collection: string;
  name: string;
  field: string;
  expireAfterSeconds: number;
}

const spec = (_id: number, collection: string): Spec => ({ _id, database: "db", collection, name: "at_ttl", field: "at", expireAfterSeconds: 60 });

/** A remembered spec matching a filter on its own fields, as the meta collection answers the monitor. */
const matches = (s: Spec, filter: Doc) => Object.entries(filter).every(([key, value]) => s[key] === value);

/**
 * An engine that keeps the remembered specs (read by filter, deleted by name, as the monitor does)
 * and holds each find on a tenant collection until the test lets it go: the order between a turn
 * and a dropped index is the point here, not the store. Every tenant find answers a full batch of
 * long expired documents, so a turn goes on batch after batch until it reaches its bound.
 */
function heldEngine(specs: Spec[]) {
  const gates: Array<() => void> = [];
  const tenantFinds: string[] = [];
  const engine = {
    find: async (ns: Namespace, options: { filter?: Doc; limit?: number }): Promise<Doc[]> => {
      if (ns.database === "meta") return specs.filter((s) => matches(s, options.filter ?? {}));
      tenantFinds.push(ns.collection);
      await new Promise<void>((resolve) => gates.push(resolve));
      return Array.from({ length: options.limit ?? 0 }, (_, i) => ({ _id: i, at: new Date(0) }));
    },
    delete: async (ns: Namespace, filter: Doc): Promise<number> => {
      if (ns.database !== "meta") return (filter._id as { $in: unknown[] }).$in.length;
      const gone = specs.filter((s) => matches(s, filter));
      specs.splice(0, specs.length, ...specs.filter((s) => !gone.includes(s)));
      return gone.length;
    },
  } as unknown as Engine;
  /** Lets the held find go; resolves once the monitor has moved on. */
  const release = async () => {
    while (gates.length === 0) await settle();
    gates.shift()?.();
    await settle();
  };
  return { engine, tenantFinds, release };
}

describe("a TTL turn and a dropped index", () => {
  it("the drop is answered only once the batch in flight on its spec has finished, and no later batch uses the spec", async () => {
    const { engine, tenantFinds, release } = heldEngine([spec(1, "items")]);
    const monitor = new TtlMonitor(engine, OPTIONS);
    const events: string[] = [];
    const turn = monitor.turn(new Date()).then(() => events.push("turn done"));
    await settle();
    const forgotten = monitor.forget({ database: "db", collection: "items" }, "at_ttl").then(() => events.push("drop answered"));
    await settle();
    expect(events).toEqual([]);
    await release();
    await Promise.all([turn, forgotten]);
    expect(events).toEqual(["drop answered", "turn done"]);
    // The batch came back full, so the turn went on; it read the spec again, found it gone and stopped.
    expect(tenantFinds).toEqual(["items"]);
  });

  it("a long turn over another spec holds a drop for one batch, not for the turn", async () => {
    const { engine, tenantFinds, release } = heldEngine([spec(1, "busy"), spec(2, "items")]);
    const monitor = new TtlMonitor(engine, OPTIONS);
    let answered = false;
    let turnDone = false;
    const turn = monitor.turn(new Date()).then(() => {
      turnDone = true;
    });
    await settle();
    const forgotten = monitor.forget({ database: "db", collection: "items" }, "at_ttl").then(() => {
      answered = true;
    });
    await settle();
    expect(answered).toBe(false);
    await release();
    expect(answered).toBe(true);
    // The turn goes on over `busy` (ten batches reach its bound of a hundred documents) and never
    // reaches `items`, whose spec is gone.
    while (!turnDone) await release();
    await Promise.all([turn, forgotten]);
    expect(tenantFinds).toEqual(Array(10).fill("busy"));
  });

  it("a drop with no remembered spec waits for nothing, whatever a turn is doing", async () => {
    const { engine, release } = heldEngine([spec(1, "busy")]);
    const monitor = new TtlMonitor(engine, OPTIONS);
    const turn = monitor.turn(new Date());
    await settle();
    await monitor.forget({ database: "db", collection: "other" }, "plain_index");
    while ((await Promise.race([turn.then(() => true), settle().then(() => false)])) === false) await release();
  });

  it("turns run one after another: one a new spec asks for while another runs starts after it", async () => {
    const { engine, tenantFinds, release } = heldEngine([spec(1, "items")]);
    const monitor = new TtlMonitor(engine, { ...OPTIONS, maxDocuments: 10 });
    const events: string[] = [];
    const first = monitor.turn(new Date()).then(() => events.push("first done"));
    const second = monitor.turn(new Date()).then(() => events.push("second done"));
    await settle();
    // The second has not started: only the first is reading the tenant collection.
    expect(tenantFinds).toEqual(["items"]);
    await release();
    expect(events).toEqual(["first done"]);
    await release();
    await Promise.all([first, second]);
    expect(events).toEqual(["first done", "second done"]);
  });
});

/**
 * An engine holding one tenant collection's documents, which answers the monitor's finds and
 * deletes by their `$lt` on the field (`at`), earliest first, and counts the finds.
 */
function storedEngine(specs: Spec[], docs: { _id: string; at: Date }[], afterFind = () => {}) {
  let finds = 0;
  const before = (filter: Doc) => (filter.at as { $lt: Date }).$lt.getTime();
  const engine = {
    find: async (ns: Namespace, options: { filter?: Doc; limit?: number }): Promise<Doc[]> => {
      if (ns.database === "meta") return specs.filter((s) => matches(s, options.filter ?? {}));
      finds++;
      const limit = before(options.filter ?? {});
      const found = docs
        .filter((d) => d.at.getTime() < limit)
        .sort((a, b) => a.at.getTime() - b.at.getTime())
        .slice(0, options.limit)
        .map((d) => ({ ...d }));
      afterFind();
      return found;
    },
    delete: async (_ns: Namespace, filter: Doc): Promise<number> => {
      const ids = (filter._id as { $in: unknown[] }).$in;
      const gone = docs.filter((d) => ids.includes(d._id) && d.at.getTime() < before(filter));
      docs.splice(0, docs.length, ...docs.filter((d) => !gone.includes(d)));
      return gone.length;
    },
  } as unknown as Engine;
  return { engine, finds: () => finds };
}

describe("a quiet collection", () => {
  const at = (start: Date, ms: number) => new Date(start.getTime() + ms);
  const ITEMS = { database: "db", collection: "items" };

  it("is not read again until something is written to it or the horizon passes, when nothing in it expires sooner", async () => {
    const now = new Date();
    const { engine, finds } = storedEngine([spec(1, "items")], [{ _id: "live", at: now }]);
    const monitor = new TtlMonitor(engine, OPTIONS);
    await monitor.turn(now);
    await monitor.turn(at(now, 1_000));
    expect(finds()).toBe(1);
    // A write to another collection changes nothing; one to this collection makes the next turn look.
    await monitor.writing({ database: "db", collection: "other" }, async () => {});
    await monitor.turn(at(now, 2_000));
    expect(finds()).toBe(1);
    await monitor.writing(ITEMS, async () => {});
    await monitor.turn(at(now, 3_000));
    await monitor.turn(at(now, 4_000));
    expect(finds()).toBe(2);
    await monitor.turn(at(now, 3_000 + OPTIONS.horizonMs + 1));
    expect(finds()).toBe(3);
  });

  it("is read again when its earliest document expires, within the horizon", async () => {
    const now = new Date();
    // The spec keeps documents 60 s: this one expires 10 s from now.
    const docs = [{ _id: "soon", at: at(now, -50_000) }];
    const { engine, finds } = storedEngine([spec(1, "items")], docs);
    const monitor = new TtlMonitor(engine, OPTIONS);
    expect(await monitor.turn(now)).toEqual({ removed: 0, more: false });
    await monitor.turn(at(now, 9_000));
    expect(finds()).toBe(1);
    expect(await monitor.turn(at(now, 10_001))).toEqual({ removed: 1, more: false });
    expect(docs).toEqual([]);
  });

  it("keeps a document renewed between the find and the delete", async () => {
    const now = new Date();
    const docs = [
      { _id: "old", at: new Date(0) },
      { _id: "renewed", at: new Date(0) },
    ];
    const { engine } = storedEngine([spec(1, "items")], docs, () => {
      docs[1] = { _id: "renewed", at: new Date() };
    });
    expect(await new TtlMonitor(engine, OPTIONS).turn(now)).toEqual({ removed: 1, more: false });
    expect(docs.map((d) => d._id)).toEqual(["renewed"]);
  });

  it("is read again when a write began while it was being read", async () => {
    const { engine, tenantFinds, release } = heldEngine([spec(1, "items")]);
    // The held find answers nothing expiring: without the write, the collection would be quiet.
    const quietEngine = {
      ...engine,
      find: async (ns: Namespace, options: FindSpec) => {
        const found = await engine.find(ns, options);
        return ns.database === "meta" ? found : [];
      },
    } as Engine;
    const monitor = new TtlMonitor(quietEngine, OPTIONS);
    const now = new Date();
    const first = monitor.turn(now);
    await settle();
    await monitor.writing(ITEMS, async () => {});
    await release();
    await first;
    const second = monitor.turn(now);
    await settle();
    expect(tenantFinds).toEqual(["items", "items"]);
    await release();
    await second;
  });

  it("is read again when a write that began before a look lands after it", async () => {
    const now = new Date();
    const docs = [{ _id: "live", at: now }];
    const { engine, finds } = storedEngine([spec(1, "items")], docs);
    const monitor = new TtlMonitor(engine, OPTIONS);
    await monitor.turn(now);
    // The write has begun (waiting for its database's turn in the gateway's queue, or on its way to
    // the server) when the look reads the collection, and lands after it: an expired document.
    let land = () => {};
    const write = monitor.writing(ITEMS, () => new Promise<void>((resolve) => (land = resolve)).then(() => void docs.push({ _id: "old", at: new Date(0) })));
    await monitor.turn(at(now, 1_000));
    land();
    await write;
    expect(await monitor.turn(at(now, 2_000))).toEqual({ removed: 1, more: false });
    expect(finds()).toBe(3);
  });
});
