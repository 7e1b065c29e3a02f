import { defineConfig } from "vitest/config";

// Domain code that talks to the network, tested in Node against real sockets: workerd cannot
// listen, so a receiver that the code under test calls has to live here. Nothing outside the
// repository is needed; `npm run test:node`, which .ci/run runs beside `npm test`. No Worker
// bindings here: the DNS suite reads DNS_DOH_URL and DNS_CONTROL_URL from the environment
// (scripts/with-dns.sh sets them, as .ci/run does) and is skipped without them.
export default defineConfig({
  // Route documentation is kept where tests run (src/build-flags.d.ts); the deployed Worker drops it.
  define: { __DOCS__: "true" },
  test: {
    include: ["test/node/**/*.test.ts"],
    environment: "node",
    testTimeout: 30_000,
  },
});
