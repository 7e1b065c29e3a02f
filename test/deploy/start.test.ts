import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { schemasBuilt } from "../../scripts/bundle-report";
import { dryRun } from "../../scripts/deploy-dry-run";

// The start time itself (npm run bundle:report, the bench) varies twofold with the load of a shared
// machine; what the module builds while it starts does not.
describe("the production bundle's start", () => {
  it("builds no zod schema at start, and its first request builds what that route answers with", async () => {
    const result = await dryRun({ inspect: (outdir) => schemasBuilt(join(outdir, "index.js")) });
    expect(result.failures).toEqual([]);
    expect(result.inspected?.atStart).toBe(0);
    expect(result.inspected?.status).toBe(200);
    // Zero here would mean the count no longer reaches the bundle's zod, not that nothing is built.
    expect(result.inspected?.firstRequest).toBeGreaterThan(0);
  });
});
