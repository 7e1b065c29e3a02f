import { describe, expect, it } from "vitest";
import { action, gatewayForSuite, maximalBulkDocuments, timed } from "./spawn";

const mongoUrl = process.env.MONGO_URL;
const database = `gw_deadline_${Date.now().toString(36)}`;
const OPERATION_TIMEOUT_MS = 2_000;

const answer = async (request: () => Promise<Response>) => {
  const { body, ...rest } = await timed(request);
  return { ...rest, body: JSON.parse(body) as Record<string, unknown> };
};

// On FerretDB (how these tests run) the gateway serialises writes, so a write can wait in its queue.
describe.skipIf(!mongoUrl)("gateway deadlines enforced on the work, not only on the answer (needs MONGO_URL)", () => {
  const suite = gatewayForSuite(mongoUrl ?? "", database, { GATEWAY_OPERATION_TIMEOUT_MS: String(OPERATION_TIMEOUT_MS) });

  it("refuses a write whose deadline passes while it waits behind a bulk insert, and never applies it", { timeout: 60_000 }, async () => {
    const bulk = answer(() => action(suite.gateway, "insertMany", { database, collection: "bulk", documents: maximalBulkDocuments() }));
    // Sent once the bulk holds the queue; its deadline is over long before a maximal bulk is written.
    await new Promise((resolve) => setTimeout(resolve, 150));
    const late = await answer(() =>
      action(suite.gateway, "insertOne", { database, collection: "late", document: { _id: "late" }, deadline: Date.now() + 100 }),
    );
    expect({ status: late.status, body: late.body }).toEqual({
      status: 503,
      body: { error: "the request's deadline has passed", error_code: "DeadlineExceeded" },
    });
    expect((await bulk).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await suite.client.db(database).collection("late").countDocuments()).toBe(0);
  });

  it("stops an updateMany at the deadline, letting other writes in while it runs", { timeout: 60_000 }, async () => {
    const many = suite.client.db(database).collection("many");
    const total = 3_000;
    await many.insertMany(Array.from({ length: total }, (_, i) => ({ i })));
    const update = answer(() => action(suite.gateway, "updateMany", { database, collection: "many", filter: {}, update: { $set: { done: true } } }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const small = await answer(() => action(suite.gateway, "insertOne", { database, collection: "small", document: { n: 1 } }));
    expect(small.status).toBe(200);
    expect(small.ms).toBeLessThan(OPERATION_TIMEOUT_MS);

    const updated = await update;
    if (updated.status === 503) {
      expect(updated.body).toEqual({ error: "database operation timed out", error_code: "ServiceUnavailable" });
      // The step under way at the deadline may finish (FerretDB ignores maxTimeMS on writes); no step starts after it.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const settled = await many.countDocuments({ done: true });
      expect(settled).toBeLessThan(total);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(await many.countDocuments({ done: true })).toBe(settled);
    } else {
      // A fast enough server finished within the deadline.
      expect({ status: updated.status, body: updated.body }).toEqual({ status: 200, body: { matchedCount: total, modifiedCount: total } });
    }
  });
});
