import type { Settings } from "../config/settings";
import type { Env } from "../env";
import { DataClient, type Fetcher } from "./client";

export interface DataTarget {
  fetch: Fetcher;
  baseUrl: string;
  apiKey?: string;
}

/**
 * The one switch between the two stores: with DATA_API_URL set, actions go to the MongoDB
 * gateway over the network; without it, to this database's Durable Object.
 */
export const dataTarget = (env: Env, settings: Settings): DataTarget => {
  const { url, apiKey, database, locationHint } = settings.data;
  if (url) return { fetch: (request) => fetch(request), baseUrl: url, apiKey };
  // The hint only counts when the object is first created; after that it lives where it is.
  const stub = env.DATA_STORE.get(env.DATA_STORE.idFromName(database), locationHint ? { locationHint } : undefined);
  return { fetch: (request) => stub.fetch(request), baseUrl: "https://data-store.internal" };
};

export const connectData = (env: Env, settings: Settings): DataClient => {
  const { dataSource, database, timeoutMs } = settings.data;
  return new DataClient({ ...dataTarget(env, settings), dataSource, database, timeoutMs });
};
