import { describe, expect, it } from "vitest";
import {
  ATTEMPT_DELAYS_MS,
  DISABLE_AFTER_EXHAUSTED_EVENTS,
  DISABLE_AFTER_FAILING_MS,
  MAX_ATTEMPTS,
  nextAttemptAt,
  shouldDisableEndpoint,
} from "../../src/domain/webhooks/schedule";

const now = new Date("2026-11-26T12:00:00Z");
const at = (ms: number) => new Date(now.getTime() + ms);
const DAY = 24 * 3600_000;

describe("webhook retry schedule", () => {
  it("attempts immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after each failure, then gives up", () => {
    const delays = Array.from({ length: MAX_ATTEMPTS + 2 }, (_, made) => nextAttemptAt(made, now)?.getTime() ?? null).map((t) =>
      t === null ? null : (t - now.getTime()) / 1000,
    );
    expect(delays).toEqual([0, 5, 300, 1800, 7200, 18000, 36000, 36000, null, null]);
    expect(MAX_ATTEMPTS).toBe(8);
  });

  it("spans about a day from the first attempt to the last", () => {
    let time = now;
    let attempts = 0;
    for (let next = nextAttemptAt(0, time); next; next = nextAttemptAt(attempts, time)) {
      time = next;
      attempts++;
    }
    expect(attempts).toBe(MAX_ATTEMPTS);
    expect((time.getTime() - now.getTime()) / 1000).toBe(27 * 3600 + 35 * 60 + 5);
    expect(ATTEMPT_DELAYS_MS.reduce((a, b) => a + b)).toBe(time.getTime() - now.getTime());
  });

  it("moves each retry by at most the jitter's share of its delay, and never the first attempt", () => {
    const extremes = [0, 0.5, 0.999999];
    expect(extremes.map((r) => nextAttemptAt(0, now, { jitter: 0.2, random: () => r })?.getTime())).toEqual(extremes.map(() => now.getTime()));
    for (let made = 1; made < MAX_ATTEMPTS; made++) {
      const delay = ATTEMPT_DELAYS_MS[made] ?? Number.NaN;
      const moved = extremes.map((r) => (nextAttemptAt(made, now, { jitter: 0.2, random: () => r })?.getTime() ?? 0) - now.getTime());
      expect(moved[0]).toBe(Math.round(delay * 0.8));
      expect(moved[1]).toBe(delay);
      expect(moved[2]).toBeLessThanOrEqual(Math.round(delay * 1.2));
      expect(moved[2]).toBeGreaterThan(delay * 1.19);
    }
    expect(nextAttemptAt(MAX_ATTEMPTS, now, { jitter: 0.2, random: () => 0 })).toBeNull();
    // Math.random by default: inside the band.
    for (let i = 0; i < 50; i++) {
      const t = (nextAttemptAt(4, now, { jitter: 0.2 })?.getTime() ?? 0) - now.getTime();
      expect(t).toBeGreaterThanOrEqual(0.8 * 2 * 3600_000);
      expect(t).toBeLessThanOrEqual(1.2 * 2 * 3600_000);
    }
  });

  it("refuses a count of attempts or a jitter that makes no sense", () => {
    for (const bad of [-1, 1.5, Number.NaN]) expect(() => nextAttemptAt(bad, now)).toThrow(TypeError);
    for (const bad of [-0.1, 1.1, Number.NaN]) expect(() => nextAttemptAt(1, now, { jitter: bad })).toThrow(TypeError);
  });
});

describe("disabling a failing endpoint", () => {
  it("happens after 3 exhausted events in a row and 5 days without an accepted delivery, both", () => {
    expect([DISABLE_AFTER_EXHAUSTED_EVENTS, DISABLE_AFTER_FAILING_MS / DAY]).toEqual([3, 5]);
    const since = at(-5 * DAY);
    expect(shouldDisableEndpoint({ consecutiveExhausted: 3, failingSince: since }, now)).toBe(true);
    expect(shouldDisableEndpoint({ consecutiveExhausted: 40, failingSince: since }, now)).toBe(true);
    // A busy endpoint down for two days: many events exhausted, not long enough.
    expect(shouldDisableEndpoint({ consecutiveExhausted: 40, failingSince: at(-2 * DAY) }, now)).toBe(false);
    expect(shouldDisableEndpoint({ consecutiveExhausted: 3, failingSince: at(1 - 5 * DAY) }, now)).toBe(false);
    // A quiet endpoint: failing for a week, but only two events ran out of attempts.
    expect(shouldDisableEndpoint({ consecutiveExhausted: 2, failingSince: at(-7 * DAY) }, now)).toBe(false);
    // The last delivery was accepted.
    expect(shouldDisableEndpoint({ consecutiveExhausted: 0, failingSince: null }, now)).toBe(false);
  });

  it("happens at once when the endpoint answers 410 Gone", () => {
    expect(shouldDisableEndpoint({ consecutiveExhausted: 0, failingSince: now, lastStatus: 410 }, now)).toBe(true);
    expect(shouldDisableEndpoint({ consecutiveExhausted: 0, failingSince: now, lastStatus: 404 }, now)).toBe(false);
    expect(shouldDisableEndpoint({ consecutiveExhausted: 0, failingSince: now, lastStatus: null }, now)).toBe(false);
  });
});
