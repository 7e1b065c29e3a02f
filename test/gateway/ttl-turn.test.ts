import { describe, expect, it } from "vitest";
import { TtlMonitor } from "../../gateway/ttl-monitor";
import type { Doc, Engine, Namespace } from "../../src/dataapi/engine";

const OPTIONS = { metaDatabase: "meta", intervalMs: 60_000, batch: 10, maxDocuments: 100, gapMs: 10, log: () => {} };
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * The order between a turn and a dropped index, with an engine that holds the turn's find on the
 * tenant collection until the test lets it go (the ordering is the point, not the store).
 */
describe("a TTL turn and a dropped index", () => {
  it("the drop is answered only once a turn that read the spec before it has finished", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const spec = { database: "db", collection: "items", name: "at_ttl", field: "at", expireAfterSeconds: 60 };
    const engine = {
      find: async (ns: Namespace): Promise<Doc[]> => {
        if (ns.database === "meta") return [spec];
        await held;
        return [];
      },
      delete: async (ns: Namespace) => (ns.database === "meta" ? 1 : 0),
    } as unknown as Engine;
    const monitor = new TtlMonitor(engine, OPTIONS);
    const events: string[] = [];
    const turn = monitor.turn(new Date()).then(() => events.push("turn done"));
    await tick();
    const forgotten = monitor.forget({ database: "db", collection: "items" }, "at_ttl").then(() => events.push("drop answered"));
    await tick();
    expect(events).toEqual([]);
    release();
    await Promise.all([turn, forgotten]);
    expect(events).toEqual(["turn done", "drop answered"]);
  });

  it("waits for every turn in flight: one a new spec asked for while another ran is run after it, not beside it", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const spec = { database: "db", collection: "items", name: "at_ttl", field: "at", expireAfterSeconds: 60 };
    let tenantFinds = 0;
    const engine = {
      find: async (ns: Namespace): Promise<Doc[]> => {
        if (ns.database === "meta") return [spec];
        tenantFinds++;
        await held;
        return [];
      },
      delete: async (ns: Namespace) => (ns.database === "meta" ? 1 : 0),
    } as unknown as Engine;
    const monitor = new TtlMonitor(engine, OPTIONS);
    const events: string[] = [];
    const first = monitor.turn(new Date()).then(() => events.push("first done"));
    const second = monitor.turn(new Date()).then(() => events.push("second done"));
    await tick();
    // The second has not started: only the first is reading the tenant collection.
    expect(tenantFinds).toBe(1);
    const forgotten = monitor.forget({ database: "db", collection: "items" }, "at_ttl").then(() => events.push("drop answered"));
    await tick();
    release();
    await Promise.all([first, second, forgotten]);
    expect(events).toEqual(["first done", "second done", "drop answered"]);
  });
});
