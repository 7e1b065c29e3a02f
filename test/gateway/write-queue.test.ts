import { describe, expect, it } from "vitest";
import { WriteQueue } from "../../gateway/write-queue";

/** A job that records when it starts and ends, and finishes when the test says so. */
const job = (log: string[], name: string) => {
  let finish: (ok: boolean) => void = () => {};
  const done = new Promise<boolean>((resolve) => {
    finish = resolve;
  });
  const run = async () => {
    log.push(`${name} start`);
    const ok = await done;
    log.push(`${name} end`);
    if (!ok) throw new Error(`${name} failed`);
    return name;
  };
  return { run, finish };
};

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("the gateway's write queue", () => {
  it("runs one database's writes one at a time, in arrival order, past a failure", async () => {
    const log: string[] = [];
    const queue = new WriteQueue();
    const [a, b, c] = ["a", "b", "c"].map((name) => job(log, name));
    if (!a || !b || !c) throw new Error("jobs");
    const results = [queue.run("tenants", a.run), queue.run("tenants", b.run), queue.run("tenants", c.run)];
    await tick();
    expect(log).toEqual(["a start"]);
    a.finish(false);
    await expect(results[0]).rejects.toThrow("a failed");
    await tick();
    expect(log).toEqual(["a start", "a end", "b start"]);
    b.finish(true);
    c.finish(true);
    expect(await Promise.all(results.slice(1))).toEqual(["b", "c"]);
    expect(log).toEqual(["a start", "a end", "b start", "b end", "c start", "c end"]);
  });

  it("runs writes to different databases side by side, and forgets a database once its writes are done", async () => {
    const log: string[] = [];
    const queue = new WriteQueue();
    const a = job(log, "a");
    const b = job(log, "b");
    const results = [queue.run("tenants", a.run), queue.run("other", b.run)];
    await tick();
    expect(log).toEqual(["a start", "b start"]);
    expect(queue.size).toBe(2);
    b.finish(true);
    a.finish(true);
    expect(await Promise.all(results)).toEqual(["a", "b"]);
    await tick();
    expect(queue.size).toBe(0);
  });
});
