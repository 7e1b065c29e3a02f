import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildWorker, withFunctions } from "../../scripts/build-worker.mjs";

/** Evaluates a module's text and answers its exports. */
const load = async (code: string): Promise<Record<string, unknown>> => import(`data:text/javascript,${encodeURIComponent(code)}`);

describe("top-level arrow functions written as `function`", () => {
  it("rewrites each arrow at the top level, with every form of parameters and body", async () => {
    const code = [
      "export const add = (a, b) => a + b;",
      "export const wrap = x => ({ x });",
      "export const spread = (...rest) => rest.length;",
      "export const pick = ({ a }, [b] = [2]) => a + b;",
      "export const later = async (x) => { await null; return x * 2; };",
      "export const later2 = async x => x + 1;",
      "export const table = { twice: (n) => n * 2, list: [1, 2].map((n) => n + 1) };",
      "export const broken = (a) =>\n  a + 1;",
    ].join("\n");
    const { code: rewritten } = withFunctions(code, "m.js");
    expect(rewritten).not.toContain("=>");
    const before = await load(code);
    const after = await load(rewritten);
    for (const name of ["add", "wrap", "spread", "pick", "later", "later2", "table", "broken"]) expect(typeof after[name]).toBe(typeof before[name]);
    const f = after as Record<"add" | "wrap" | "spread" | "pick" | "later" | "later2" | "broken", (...args: unknown[]) => unknown>;
    expect(f.add(2, 3)).toBe(5);
    expect(f.wrap(1)).toEqual({ x: 1 });
    expect(f.spread(1, 2, 3)).toBe(3);
    expect(f.pick({ a: 1 })).toBe(3);
    expect(await f.later(4)).toBe(8);
    expect(await f.later2(4)).toBe(5);
    expect((after.table as { twice: (n: number) => number }).twice(4)).toBe(8);
    expect((after.table as { list: number[] }).list).toEqual([2, 3]);
    // A line break after `=>` must not become one after `return`.
    expect(f.broken(1)).toBe(2);
    // The name a `const` gives its function is the same either way.
    expect(f.add.name).toBe("add");
  });

  it("leaves alone what a `function` would change: this, arguments, new.target, class members, a statement's start", () => {
    const kept = [
      "export const self = () => this;",
      "export const args = () => arguments;",
      "export const inner = () => () => this;",
      "export const meta = () => import.meta.url;",
      "export class C { f = () => this; static g = () => this; m() { return [1].map((n) => n + this.k); } }",
      "async () => 1;",
    ];
    for (const code of kept) expect(withFunctions(code, "m.js").code).toBe(code);
    // Only the top level: an arrow inside a function is pre-parsed with it already.
    const nested = "export function outer() { return (n) => n + 1; }";
    expect(withFunctions(nested, "m.js").code).toBe(nested);
  });

  it("builds the Worker's module with no top-level arrow left that could be a function, and a map back to src/", async () => {
    const dir = mkdtempSync(join(tmpdir(), "build-worker-"));
    try {
      const out = await buildWorker(join(dir, "index.js"));
      const code = readFileSync(out, "utf8");
      // Rewriting it again changes nothing: every arrow that could be rewritten was.
      expect(withFunctions(code, "index.js").code).toBe(code);
      expect(code).toContain("//# sourceMappingURL=index.js.map");
      const map = JSON.parse(readFileSync(`${out}.map`, "utf8")) as { sources: string[] };
      expect(map.sources.some((source) => source.endsWith("src/index.ts"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
