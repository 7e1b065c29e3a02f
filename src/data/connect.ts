import type { Settings } from "../config/settings";
import type { Env } from "../env";
import { type ActionCaller, DataClient, type Fetcher } from "./client";

export interface DataTarget {
  fetch: Fetcher;
  baseUrl: string;
  apiKey?: string;
  /** The embedded store's actions over RPC (the Worker's own calls); `fetch` speaks HTTP to the same object. */
  rpc?: ActionCaller;
}

/**
 * The one switch between the two stores: with DATA_API_URL set, actions go to the MongoDB
 * gateway over the network; without it, to this database's Durable Object.
 */
export const dataTarget = (env: Env, settings: Settings): DataTarget => {
  const { url, apiKey } = settings.data;
  if (url) return { fetch: (request) => fetch(request), baseUrl: url, apiKey };
  const stub = storeStub(env, settings);
  return { fetch: (request) => stub.fetch(request), baseUrl: STORE_URL };
};

const STORE_URL = "https://data-store.internal";

/**
 * Object ids by database name, per namespace: deriving one hashes the name, and an id (unlike a
 * stub) is a plain value that any request of the isolate may use.
 */
const storeIds = new WeakMap<object, Map<string, DurableObjectId>>();

const storeId = (namespace: Pick<DurableObjectNamespace, "idFromName">, database: string): DurableObjectId => {
  let ids = storeIds.get(namespace);
  if (!ids) {
    ids = new Map();
    storeIds.set(namespace, ids);
  }
  let id = ids.get(database);
  if (!id) {
    id = namespace.idFromName(database);
    ids.set(database, id);
  }
  return id;
};

/** This database's Durable Object. The hint only counts when the object is first created; after that it lives where it is. */
const storeStub = (env: Env, settings: Settings) => {
  const { database, locationHint } = settings.data;
  return env.DATA_STORE.get(storeId(env.DATA_STORE, database), locationHint ? { locationHint } : undefined);
};

/**
 * The Worker's data client. On the embedded store its actions go to the Durable Object as RPC
 * calls on the typed stub: no Request or Response is built on either side, and the answers are
 * those of the Data API over HTTP, which the object still serves to anything else. A namespace
 * whose stubs offer only `fetch` (a stand-in in front of the object) is called over HTTP.
 */
export const connectData = (env: Env, settings: Settings): DataClient => {
  const { url, dataSource, database, timeoutMs } = settings.data;
  if (!url) {
    const stub = storeStub(env, settings);
    if (typeof stub.action === "function") {
      const rpc: ActionCaller = (action, body) => stub.action(action, body);
      return new DataClient({ fetch: (request) => stub.fetch(request), baseUrl: STORE_URL, rpc, dataSource, database, timeoutMs });
    }
  }
  return new DataClient({ ...dataTarget(env, settings), dataSource, database, timeoutMs });
};
