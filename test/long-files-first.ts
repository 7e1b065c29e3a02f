import { existsSync } from "node:fs";
import { join } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Test files that run far longer than their size says, because they generate their cases or
 * repeat one many times. Without timings of an earlier run (a clean clone, as CI runs) vitest
 * starts the largest files first, so these small ones started last and ran on after every other
 * file had finished. The sweep's cross-provocations are the longest on the embedded store and
 * skipped through the gateway, so they lead; then the longest through the gateway (docs/testing.md).
 */
const LONG_FILES = [
  "test/worker/surface/provocations-even.test.ts",
  "test/worker/surface/provocations-odd.test.ts",
  "test/worker/crash-matrix.test.ts",
  "test/worker/surface/sweep.test.ts",
  "test/worker/races.test.ts",
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

/** vitest's order (earlier runs' timings, else size), with the long files above ahead of the rest. */
export class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return sorted
      .map((file, order) => ({ file, order, rank: rank(file) }))
      .sort((a, b) => a.rank - b.rank || a.order - b.order)
      .map(({ file }) => file);
  }
}
