import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { defineDataApiContract } from "./data-api-contract";

// Each database is its own Durable Object, addressed as the Worker's data client does it (src/data/connect.ts).
defineDataApiContract("embedded Durable Object store", () => ({
  baseUrl: "https://data-store.internal",
  fetch: (database) => {
    const stub = env.DATA_STORE.get(env.DATA_STORE.idFromName(database));
    return (request) => stub.fetch(request);
  },
  expire: async (database) => {
    await runDurableObjectAlarm(env.DATA_STORE.get(env.DATA_STORE.idFromName(database)));
  },
}));
