import { defineConfig } from "vitest/config";

// Domain code that talks to the network, tested in Node against real sockets: workerd cannot
// listen, so a receiver that the code under test calls has to live here. Nothing outside the
// repository is needed; `npm run test:node`, which .ci/run runs beside `npm test`.
export default defineConfig({
  // Route documentation is kept where tests run (src/build-flags.d.ts); the deployed Worker drops it.
  define: { __DOCS__: "true" },
  test: {
    include: ["test/node/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
  },
});
