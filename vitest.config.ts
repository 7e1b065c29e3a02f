import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// The Worker suite runs inside workerd (Miniflare) with the real Durable Object store.
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          // Test-only secret; deployed Workers get theirs from `wrangler secret put`.
          JWT_SECRET: "test-secret-0123456789abcdef0123456789abcdef",
        },
      },
    }),
  ],
  test: {
    // Node-side suites (gateway, browser) have their own configs.
    include: ["test/{unit,worker,store,contract}/**/*.test.ts"],
    testTimeout: 30_000,
    // The Worker logs one JSON line per request; keep test output to what failed.
    onConsoleLog: (log) => !log.startsWith('{"request_id"'),
  },
});
