import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CUTS, expectedMs, loadLatencyTrips, loadRtt, model, NEARBY_RTT_MS, render, rttMs } from "../../bench/latency";

const rtt = loadRtt();
const trips = loadLatencyTrips();

describe("the latency model", () => {
  it("charges a caller away from the data one long-haul trip per data call without placement", () => {
    expect(expectedMs(3, 291, false)).toBe(873);
    expect(expectedMs(0, 291, false)).toBe(0);
  });

  it("charges one long-haul trip per request once the Worker is placed, and nearby trips per call", () => {
    expect(expectedMs(3, 291, true)).toBe(291 + 3 * NEARBY_RTT_MS);
    // /health does no data call but is forwarded like every other request.
    expect(expectedMs(0, 291, true)).toBe(291);
  });

  it("changes nothing for a caller next to the data", () => {
    const here = rttMs(rtt, "fra", "fra");
    expect(expectedMs(4, here, true)).toBe(expectedMs(4, here, false));
  });

  it("has a round-trip time between every pair of regions, from a named source", () => {
    expect(rtt.source).toMatch(/Azure network round-trip latency statistics/);
    for (const a of rtt.regions) {
      for (const b of rtt.regions) {
        if (a.id !== b.id) expect(rttMs(rtt, a.id, b.id)).toBeGreaterThan(NEARBY_RTT_MS);
      }
    }
  });

  it("says what would cut the round trips of every endpoint that makes more than one", () => {
    for (const { endpoint, roundTrips } of trips.endpoints) {
      if (roundTrips >= 2) expect(CUTS[endpoint], endpoint).toBeTruthy();
    }
  });

  it("never makes a request slower by more than the nearby trips when placed, for one call or more", () => {
    for (const row of model(rtt, trips.endpoints, "fra")) {
      if (row.roundTrips === 0) continue;
      for (const [off, placed] of Object.values(row.cells)) expect(placed).toBeLessThanOrEqual(off + row.roundTrips * NEARBY_RTT_MS);
    }
  });

  it("is the table docs/operations.md shows", () => {
    const doc = readFileSync(join(import.meta.dirname, "..", "..", "docs", "operations.md"), "utf8");
    const kept = /<!-- latency:begin[^>]*-->\n([\s\S]*?)\n<!-- latency:end -->/.exec(doc)?.[1];
    expect(kept, "docs/operations.md keeps the output of npm run latency -- --markdown").toBeDefined();
    expect(kept?.trim()).toBe(render(rtt, trips, "fra", true).trim());
  });
});
