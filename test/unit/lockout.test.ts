import { describe, expect, it } from "vitest";
import { lockedForMs, lockoutWindowMs } from "../../src/domain/accounts/lockout";

const now = new Date("2026-01-01T12:00:00Z");
const ago = (ms: number) => new Date(now.getTime() - ms);

describe("lockout", () => {
  it("locks nothing below the threshold, even with a failure stamped after now by a concurrent attempt", () => {
    expect(lockedForMs(9, ago(0), now, 10)).toBe(0);
    expect(lockedForMs(9, new Date(now.getTime() + 5), now, 10)).toBe(0);
    expect(lockedForMs(0, undefined, now, 10)).toBe(0);
  });

  it("locks for a minute at the threshold, doubling per further failure, up to 64 minutes", () => {
    expect([10, 11, 12, 16, 17, 30].map((f) => lockoutWindowMs(f, 10) / 60_000)).toEqual([1, 2, 4, 64, 64, 64]);
    expect(lockedForMs(10, ago(20_000), now, 10)).toBe(40_000);
    expect(lockedForMs(10, ago(60_000), now, 10)).toBe(0);
    expect(lockedForMs(11, ago(60_000), now, 10)).toBe(60_000);
  });
});
