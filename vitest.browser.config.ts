import { defineConfig } from "vitest/config";

// The browser suite runs in Node: it starts the Worker with `wrangler dev` and drives Debian's
// Chromium against it, so the pages are tested as a person on this machine would see them.
export default defineConfig({
  // Route documentation is kept where tests run (src/build-flags.d.ts); the deployed Worker drops it.
  define: { __DOCS__: "true" },
  test: {
    include: ["test/browser/**/*.test.ts"],
    environment: "node",
    // One Worker and one browser at a time: the machine has two cores and others share them.
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 120_000,
  },
});
