import { describe, expect, it } from "vitest";
import { action, closedPort, startGateway, TEST_KEY } from "./spawn";

// No database behind the gateway at all: these need no FerretDB.
describe("gateway without a reachable database", () => {
  it("answers 503 within the server-selection bound instead of hanging, and /health says 503", async () => {
    const gateway = await startGateway({
      MONGO_URL: `mongodb://127.0.0.1:${await closedPort()}/`,
      GATEWAY_API_KEY: TEST_KEY,
      MONGO_SERVER_SELECTION_TIMEOUT_MS: "1000",
    });
    try {
      const started = Date.now();
      const res = await action(gateway, "findOne", { database: "d", collection: "c", filter: {} });
      const elapsed = Date.now() - started;
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 503,
        body: { error: "database unavailable", error_code: "ServiceUnavailable" },
      });
      expect(elapsed).toBeLessThan(5_000);
      const health = await fetch(`${gateway.url}/health`);
      expect({ status: health.status, body: await health.json() }).toEqual({ status: 503, body: { status: "database unavailable" } });
    } finally {
      await gateway.stop();
    }
  });

  it("on SIGTERM stops accepting, lets the in-flight request finish, closes the driver and exits 0", async () => {
    const gateway = await startGateway({
      MONGO_URL: `mongodb://127.0.0.1:${await closedPort()}/`,
      GATEWAY_API_KEY: TEST_KEY,
      MONGO_SERVER_SELECTION_TIMEOUT_MS: "2000",
    });
    // This request waits out server selection (2 s); the signal arrives while it is in flight.
    const inFlight = action(gateway, "findOne", { database: "d", collection: "c", filter: {} });
    await new Promise((resolve) => setTimeout(resolve, 500));
    gateway.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(fetch(`${gateway.url}/health`)).rejects.toThrow();
    const res = await inFlight;
    expect(res.status).toBe(503);
    expect(res.headers.get("connection")).toBe("close");
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    expect(gateway.output()).toMatch(/"msg":"shutting down","signal":"SIGTERM"[\s\S]*"msg":"stopped"/);
  });
});
