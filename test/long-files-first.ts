import { existsSync } from "node:fs";
import { join } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Small test files that run for minutes: they generate their cases (the crash matrix, the sweep)
 * or repeat one request hundreds of times (the login timing test). Without timings of an earlier
 * run (a clean clone, as CI runs) vitest starts the largest files first, so these started last
 * and ran on after every other file had finished. The sweep's cross-provocations are the longest
 * on the embedded store and skipped through the gateway, so they lead (docs/testing.md).
 */
const LONG_FILES = [
  "test/worker/surface/provocations-even.test.ts",
  "test/worker/surface/provocations-odd.test.ts",
  "test/worker/crash-matrix.test.ts",
  "test/worker/surface/sweep.test.ts",
  "test/worker/login-timing.test.ts",
];

// A file renamed or removed would silently lose its place; say so instead.
for (const path of LONG_FILES) {
  if (!existsSync(join(import.meta.dirname, "..", path))) throw new Error(`test/long-files-first.ts names ${path}, which does not exist`);
}

const rank = (file: TestSpecification): number => {
  const at = LONG_FILES.findIndex((path) => file.moduleId.endsWith(path));
  return at < 0 ? LONG_FILES.length : at;
};

/** vitest's order (earlier runs' timings, else size), with the files above ahead of the rest; the sort is stable. */
export class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
