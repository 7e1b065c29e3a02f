import { defineConfig } from "vitest/config";

// The gateway's own tests run in Node (they start the gateway as a process and signal it),
// apart from the Worker suite in workerd (vitest.config.ts). `npm run test:mongo` runs both.
export default defineConfig({
  // Route documentation is kept where tests run (src/build-flags.d.ts); the deployed Worker drops it.
  define: { __DOCS__: "true" },
  test: {
    include: ["test/gateway/**/*.test.ts"],
    environment: "node",
    globalSetup: ["test/gateway/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
