import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUDGET_START_SCHEMAS, schemasBuiltAtStart } from "../../scripts/bundle-report";
import { dryRun } from "../../scripts/deploy-dry-run";

// The start time itself (npm run bundle:report, the bench) varies twofold with the load of a shared
// machine; what the module builds while it starts does not.
describe("the production bundle's start", () => {
  it("builds no zod schema at start but the z.lazy wrappers of its budget", async () => {
    const result = await dryRun({ inspect: (outdir) => schemasBuiltAtStart(join(outdir, "index.js")) });
    expect(result.failures).toEqual([]);
    // Zero would mean the count no longer reaches zod, not that the module builds nothing.
    expect(result.inspected?.all).toBeGreaterThan(0);
    expect(result.inspected?.all).toBeLessThanOrEqual(BUDGET_START_SCHEMAS);
    expect(result.inspected?.eager).toBe(0);
  });
});
