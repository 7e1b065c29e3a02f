import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assess, BUDGET_GZIP_KIB, dryRun, MAX_GZIP_KIB } from "../../scripts/deploy-dry-run";

const ROOT = join(import.meta.dirname, "..", "..");
const BUILT = "Total Upload: 327.04 KiB / gzip: 105.21 KiB\n--dry-run: exiting now.\n";

describe("assess", () => {
  it("passes a clean build", () => {
    expect(assess(BUILT)).toMatchObject({ failures: [], rawKiB: 327.04, gzipKiB: 105.21 });
  });

  it("fails on a warning, with the lines that explain it", () => {
    const output = `\u001b[33m▲ \u001b[43;33m[\u001b[43;30mWARNING\u001b[43;33m]\u001b[0m Processing wrangler.toml configuration:\n\n    - Unexpected fields found in top-level field: "placment"\n\n${BUILT}`;
    expect(assess(output).failures).toEqual(['warning: Processing wrangler.toml configuration: - Unexpected fields found in top-level field: "placment"']);
  });

  it("lets through a warning accepted with its reason", () => {
    const output = `▲ [WARNING] harmless thing\n${BUILT}`;
    expect(assess(output, { accepted: [["harmless thing", "because"]] }).failures).toEqual([]);
  });

  it("fails on an error, a failed exit, a missing build and an oversized bundle", () => {
    expect(assess(`✘ [ERROR] Build failed\n`, { status: 1 }).failures).toEqual([
      "wrangler exited with 1",
      "error: Build failed",
      "no bundle size in the output: the bundle was not built",
    ]);
    const big = `Total Upload: 9000 KiB / gzip: ${Math.ceil(MAX_GZIP_KIB) + 1} KiB\n`;
    expect(assess(big).failures).toEqual([expect.stringMatching(/over the 2930 KiB a Workers Free deploy accepts/)]);
  });

  it("fails a bundle past the service's budget, and passes one at it", () => {
    const sized = (gzip: number) => `Total Upload: 400 KiB / gzip: ${gzip} KiB\n`;
    // 133 since the embedded store caches recent reads (docs/operations.md says why); a change of budget is a decision this line records.
    expect(BUDGET_GZIP_KIB).toBe(133);
    expect(assess(sized(133)).failures).toEqual([]);
    expect(assess(sized(133.01)).failures).toEqual(["bundle 133.01 KiB gzipped, over the service's budget of 133 KiB"]);
  });
});

describe("wrangler deploy --dry-run", () => {
  it("builds the production bundle within the service's budget", async () => {
    const result = await dryRun();
    expect(result.failures).toEqual([]);
    expect(result.gzipKiB).toBeLessThanOrEqual(BUDGET_GZIP_KIB);
  });

  it("fails a configuration whose placement wrangler would silently drop", async () => {
    // Same Worker, absolute paths, and [placement] misspelled: wrangler warns and builds anyway.
    const dir = mkdtempSync(join(tmpdir(), "dry-run-"));
    try {
      const config = readFileSync(join(ROOT, "wrangler.toml"), "utf8")
        .replace('main = "dist/worker/index.js"', `main = "${join(dir, "index.js")}"`)
        .replace('command = "node scripts/build-worker.mjs"', `command = "node ${join(ROOT, "scripts", "build-worker.mjs")} ${join(dir, "index.js")}"`)
        .replace('watch_dir = "src"', `watch_dir = "${join(ROOT, "src")}"`)
        .replace('directory = "./public"', `directory = "${join(ROOT, "public")}"`)
        .replace("[placement]", "[placment]");
      expect(config).toContain("[placment]");
      writeFileSync(join(dir, "wrangler.toml"), config);
      const result = await dryRun({ config: join(dir, "wrangler.toml") });
      expect(result.gzipKiB).toBeGreaterThan(0);
      expect(result.failures).toEqual([expect.stringMatching(/^warning: .*placment/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
