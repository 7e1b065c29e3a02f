import { MongoServerError } from "mongodb";
import { describe, expect, it } from "vitest";
import { Budget } from "../../gateway/budget";

const clock = (start: number) => {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
};

describe("an action's time budget", () => {
  it("is the operation timeout when the request names no earlier deadline, and says ServiceUnavailable when spent", () => {
    const c = clock(1_000);
    const budget = new Budget(8_000, undefined, c.now);
    expect(budget.maxTime()).toEqual({ maxTimeMS: 8_000 });
    c.advance(7_999);
    expect(budget.maxTime()).toEqual({ maxTimeMS: 1 });
    c.advance(1);
    expect(() => budget.maxTime()).toThrow(expect.objectContaining({ code: "ServiceUnavailable", status: 503 }));
    // A deadline after the timeout leaves the timeout the bound.
    expect(new Budget(8_000, c.now() + 9_000, c.now).spent().code).toBe("ServiceUnavailable");
  });

  it("is the request's deadline when that comes first, in whole milliseconds, and says DeadlineExceeded when spent", () => {
    const c = clock(1_000);
    const budget = new Budget(8_000, 1_500.9, c.now);
    expect(budget.maxTime()).toEqual({ maxTimeMS: 500 });
    c.advance(500);
    expect(budget.left()).toBe(0);
    expect(() => budget.maxTime()).toThrow(expect.objectContaining({ code: "DeadlineExceeded", status: 503 }));
  });

  it("reads MaxTimeMSExpired as the budget running out, and InternalError only once it has", () => {
    const c = clock(0);
    const budget = new Budget(100, undefined, c.now);
    const server = (code: number) => new MongoServerError({ code, errmsg: "x" });
    expect(budget.isTimeout(server(50))).toBe(true);
    expect(budget.isTimeout(server(1))).toBe(false);
    expect(budget.isTimeout(server(11000))).toBe(false);
    c.advance(100);
    expect(budget.isTimeout(server(1))).toBe(true);
    expect(budget.isTimeout(new Error("x"))).toBe(false);
  });
});
