import { defineConfig } from "vitest/config";

// Deployment checks run in Node: they read the checkout, run wrangler's dry-run deploy and the
// latency model. `npm run test:deploy`; .ci/run runs them beside the checks themselves.
export default defineConfig({
  // Route documentation is kept where tests run (src/build-flags.d.ts); the deployed Worker drops it.
  define: { __DOCS__: "true" },
  test: {
    include: ["test/deploy/**/*.test.ts"],
    environment: "node",
    testTimeout: 120_000,
  },
});
