import { defineConfig } from "vitest/config";

// The browser suite runs in Node: it starts the Worker with `wrangler dev` and drives Debian's
// Chromium against it, so the pages are tested as a person on this machine would see them.
export default defineConfig({
  // Route documentation is kept where tests run (src/build-flags.d.ts); the deployed Worker drops it.
  define: { __DOCS__: "true" },
  test: {
    include: ["test/browser/**/*.test.ts"],
    environment: "node",
    // Two files at a time, each with its own Worker and browser: a file waits on its page and its
    // Worker more than it computes. Each file's accounts, addresses and domains are its own, so
    // the shared Mailpit and DNS server never mix them up (docs/testing.md has what it saved).
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 90_000,
    hookTimeout: 120_000,
  },
});
