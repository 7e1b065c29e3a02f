import { MongoClient } from "mongodb";
import { describe, expect, it } from "vitest";
import { action, startGateway, TEST_KEY } from "./spawn";

const mongoUrl = process.env.MONGO_URL;
const COUNT = 30_000;

describe.skipIf(!mongoUrl)("gateway shutdown with a database (needs MONGO_URL)", () => {
  it("a write in flight at SIGTERM completes and is answered before the process exits 0", async () => {
    const gateway = await startGateway({ MONGO_URL: mongoUrl ?? "", GATEWAY_API_KEY: TEST_KEY, GATEWAY_SHUTDOWN_TIMEOUT_MS: "25000" });
    const database = `gw_shutdown_${Date.now().toString(36)}`;
    const documents = Array.from({ length: COUNT }, (_, i) => ({ i, pad: "p".repeat(40) }));
    let answeredAt = 0;
    const inFlight = action(gateway, "insertMany", { database, collection: "bulk", documents }).then(async (res) => {
      answeredAt = Date.now();
      return { status: res.status, body: (await res.json()) as { insertedIds?: unknown[] } };
    });
    // Tens of thousands of inserts take FerretDB seconds; the signal lands well inside them.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalledAt = Date.now();
    gateway.child.kill("SIGTERM");
    const answer = await inFlight;
    expect(answeredAt).toBeGreaterThan(signalledAt);
    expect(answer.status).toBe(200);
    expect(answer.body.insertedIds).toHaveLength(COUNT);
    expect(await gateway.exited).toEqual({ code: 0, signal: null });

    const client = new MongoClient(mongoUrl ?? "");
    try {
      expect(await client.db(database).collection("bulk").countDocuments()).toBe(COUNT);
    } finally {
      await client.close();
    }
  });
});
