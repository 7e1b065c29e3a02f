import { describe, expect, it } from "vitest";
import { DataClient } from "../../src/data/client";
import { DataUnavailableError } from "../../src/data/errors";
import { call, callWith } from "../helpers";

const withEnv = (path: string, overrides: Record<string, string>) => callWith(overrides, path);

describe("health and readiness", () => {
  it("/health answers without touching the store", async () => {
    const res = await withEnv("/health", { DATA_API_URL: "http://127.0.0.1:9" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("x-data-round-trips")).toBe("0");
  });

  it("/ready reaches the store", async () => {
    const res = await call("/ready");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready" });
  });
});

describe("a store that is down", () => {
  it("gives 503 with Retry-After, not a hang or a 500", async () => {
    for (const path of ["/ready", "/org/get?organization_name=Anything"]) {
      const res = await withEnv(path, { DATA_API_URL: "http://127.0.0.1:9", DATA_API_TIMEOUT_MS: "500" });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect(await res.json()).toEqual({ detail: "Data store unavailable; retry shortly" });
    }
  });

  it("a call that never answers times out, and only safe calls are retried", async () => {
    let attempts = 0;
    const hang = (request: Request) =>
      new Promise<Response>((_, reject) => {
        attempts++;
        request.signal.addEventListener("abort", () => reject(request.signal.reason));
      });
    const client = new DataClient({ fetch: hang, baseUrl: "https://x", dataSource: "s", database: "d", timeoutMs: 50, retries: 2, sleep: async () => {} });
    await expect(client.collection("c").findOne({})).rejects.toBeInstanceOf(DataUnavailableError);
    expect(attempts).toBe(3);
    attempts = 0;
    await expect(client.collection("c").insertOne({ a: 1 })).rejects.toBeInstanceOf(DataUnavailableError);
    expect(attempts).toBe(1);
  });
});
