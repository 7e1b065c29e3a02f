import { env } from "cloudflare:workers";
import { describe, it } from "vitest";
import { defineDataApiContract } from "./data-api-contract";

const url = env.DATA_API_URL;
// `npm run test:mongo` runs the gateway on FerretDB and says so; a real MongoDB stores every type.
const onFerretDb = (env as unknown as Record<string, string | undefined>).DATA_API_SERVER === "ferretdb";

// The same contract over real HTTP to the MongoDB gateway that `npm run test:mongo` starts on
// FerretDB (it passes DATA_API_URL and DATA_API_KEY into the Worker's bindings, vitest.config.ts).
if (url) {
  defineDataApiContract("MongoDB gateway", () => ({
    baseUrl: url,
    apiKey: env.DATA_API_KEY || undefined,
    fetch: () => (request) => fetch(request),
    ...(onFerretDb ? { unsupportedTypes: ["decimal128", "nan", "infinity", "negativeZero"] as const } : {}),
    expire: () => new Promise((resolve) => setTimeout(resolve, 250)),
  }));
} else {
  describe.skip("Data API contract: MongoDB gateway (DATA_API_URL unset; `npm run test:mongo` runs it)", () => {
    it("runs against the gateway", () => {});
  });
}
