import { DataClient, type Fetcher } from "../../src/data/client";

/** One server of the Data API protocol, as the contract suite sees it. */
export interface ContractTarget {
  /** The fetch that reaches the server holding `database` (the embedded store runs one Durable Object per database). */
  fetch(database: string): Fetcher;
  baseUrl: string;
  /** The key the server demands; absent when it asks none (the embedded store's binding is private). */
  apiKey?: string;
  /** Values the server behind cannot store (FerretDB 1.x); the contract expects them refused with 400, or, for -0, stored as 0. */
  unsupportedTypes?: readonly ("decimal128" | "nan" | "infinity" | "negativeZero")[];
  /**
   * Gives the server's TTL expiry a chance to run for `database`: the embedded store runs its
   * alarm now; the gateway expires on its own clock (GATEWAY_TTL_INTERVAL_MS, short in the tests), so waiting is all there is.
   */
  expire(database: string): Promise<void>;
}

let counter = 0;

/** A database name no other test uses, so every test starts from nothing (and, embedded, from its own Durable Object). */
export const freshDatabase = (): string => `contract_${Date.now().toString(36)}_${(counter++).toString(36)}_${Math.random().toString(36).slice(2, 8)}`;

/** The Worker's own data client, bound to one database; no retries, so every failure shows as it happened. */
export const clientFor = (target: ContractTarget, database: string): DataClient =>
  new DataClient({ fetch: target.fetch(database), baseUrl: target.baseUrl, apiKey: target.apiKey, dataSource: "contract", database, retries: 0 });

export interface RawOptions {
  headers?: Record<string, string>;
  /** Sends the target's key in `apiKey` (default); false sends none unless `headers` has one. */
  withKey?: boolean;
}

/** A raw POST to `/action/<name>`, for what the client never sends: wrong keys, odd media types, oversized bodies. */
export const postRaw = (target: ContractTarget, database: string, action: string, body: BodyInit, options: RawOptions = {}): Promise<Response> => {
  const key: Record<string, string> = options.withKey !== false && target.apiKey ? { apiKey: target.apiKey } : {};
  return target.fetch(database)(
    new Request(`${target.baseUrl.replace(/\/$/, "")}/action/${action}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...key, ...options.headers },
      body,
    }),
  );
};
