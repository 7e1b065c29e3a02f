import { MongoClient } from "mongodb";
import { describe, expect, it } from "vitest";
import { MAX_BULK_DOCUMENTS } from "../../src/dataapi/limits";
import { action, startGateway, TEST_KEY } from "./spawn";

const mongoUrl = process.env.MONGO_URL;

const COUNT = 30_000;
/** One insertMany takes at most MAX_BULK_DOCUMENTS, so the same work goes in flight as parallel requests. */
const REQUESTS = COUNT / MAX_BULK_DOCUMENTS;

describe.skipIf(!mongoUrl)("gateway shutdown with a database (needs MONGO_URL)", () => {
  it("writes in flight at SIGTERM complete and are answered before the process exits 0", async () => {
    // The queued requests wait for each other on FerretDB; the operation timeout leaves them room, within the shutdown bound.
    const gateway = await startGateway({
      MONGO_URL: mongoUrl ?? "",
      GATEWAY_API_KEY: TEST_KEY,
      GATEWAY_SHUTDOWN_TIMEOUT_MS: "25000",
      GATEWAY_OPERATION_TIMEOUT_MS: "20000",
    });
    const database = `gw_shutdown_${Date.now().toString(36)}`;
    const inFlight = Array.from({ length: REQUESTS }, (_, r) => {
      const documents = Array.from({ length: MAX_BULK_DOCUMENTS }, (_, i) => ({ i: r * MAX_BULK_DOCUMENTS + i, pad: "p".repeat(40) }));
      return action(gateway, "insertMany", { database, collection: "bulk", documents }).then(async (res) => ({
        answeredAt: Date.now(),
        status: res.status,
        body: (await res.json()) as { insertedIds?: unknown[] },
      }));
    });
    // Tens of thousands of inserts take FerretDB seconds; the signal lands well inside them.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalledAt = Date.now();
    gateway.child.kill("SIGTERM");
    const answers = await Promise.all(inFlight);
    expect(Math.max(...answers.map((a) => a.answeredAt))).toBeGreaterThan(signalledAt);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.body.insertedIds).toHaveLength(MAX_BULK_DOCUMENTS);
    }
    expect(await gateway.exited).toEqual({ code: 0, signal: null });

    const client = new MongoClient(mongoUrl ?? "");
    try {
      expect(await client.db(database).collection("bulk").countDocuments()).toBe(COUNT);
    } finally {
      await client.close();
    }
  });
});
