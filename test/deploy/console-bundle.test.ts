import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildConsole, CONSOLE_BUDGET_GZIP_KIB, consoleSize } from "../../scripts/console-build.mjs";

const out = mkdtempSync(join(tmpdir(), "console-build-"));

describe("the console's build", () => {
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("is one script and one stylesheet, together within the budget gzipped", async () => {
    const files = await buildConsole(out);
    expect(files.map((file) => basename(file)).sort()).toEqual(["app.js", "style.css"]);
    const { gzipKiB } = consoleSize(files);
    expect(gzipKiB).toBeGreaterThan(5);
    expect(gzipKiB).toBeLessThanOrEqual(CONSOLE_BUDGET_GZIP_KIB);
  });
});
