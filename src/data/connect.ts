import type { Settings } from "../config/settings";
import type { Env } from "../env";
import { DataClient } from "./client";

/**
 * The one switch between the two stores: with DATA_API_URL set, actions go to the MongoDB
 * gateway over the network; without it, to this database's Durable Object.
 */
export const connectData = (env: Env, settings: Settings): DataClient => {
  const { url, apiKey, dataSource, database, timeoutMs } = settings.data;
  if (url) return new DataClient({ fetch: (request) => fetch(request), baseUrl: url, apiKey, dataSource, database, timeoutMs });
  const stub = env.DATA_STORE.get(env.DATA_STORE.idFromName(database));
  return new DataClient({ fetch: (request) => stub.fetch(request), baseUrl: "https://data-store.internal", dataSource, database, timeoutMs });
};
