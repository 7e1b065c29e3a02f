import { describe, expect, it } from "vitest";
import { countJsonValues, MAX_BODY_VALUES, MAX_BULK_DOCUMENTS } from "../../src/dataapi/limits";
import { action, gatewayForSuite, maximalBulkDocuments, type RunningGateway, TEST_KEY, timed } from "./spawn";

const mongoUrl = process.env.MONGO_URL;
const database = `gw_load_${Date.now().toString(36)}`;
/** Below the 8 s default, so a write stuck behind bulk work shows; above what one maximal bulk takes on two busy cores (about 4 s). */
const OPERATION_TIMEOUT_MS = 6_000;
const LOAD_MS = 4_000;

/** The largest insertMany the limits admit: the most documents, each with as many fields as the value budget leaves. */
const maximalBulk = (): string => {
  const body = JSON.stringify({ dataSource: "load", database, collection: "bulk", documents: maximalBulkDocuments() });
  expect(countJsonValues(body)).toBeLessThanOrEqual(MAX_BODY_VALUES);
  return body;
};

const post = (gateway: RunningGateway, name: string, body: string) =>
  fetch(`${gateway.url}/action/${name}`, { method: "POST", headers: { "content-type": "application/json", apiKey: TEST_KEY }, body });

describe.skipIf(!mongoUrl)("gateway under bulk load (needs MONGO_URL; npm run test:mongo sets it)", () => {
  const suite = gatewayForSuite(mongoUrl ?? "", database, { GATEWAY_OPERATION_TIMEOUT_MS: String(OPERATION_TIMEOUT_MS) });

  it("answers another client's insertOne and findOne within the operation timeout while maximal bulks run", { timeout: 60_000 }, async () => {
    const bulkBody = maximalBulk();
    const stopAt = Date.now() + LOAD_MS;
    const bulks: { status: number; ms: number }[] = [];
    const bulkLoop = async () => {
      while (Date.now() < stopAt) bulks.push(await timed(() => post(suite.gateway, "insertMany", bulkBody)));
    };
    const small: { status: number; ms: number; body: string }[] = [];
    const smallLoop = async () => {
      // Let the first bulk get under way, so the small calls meet it.
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (let i = 0; Date.now() < stopAt; i++) {
        small.push(await timed(() => action(suite.gateway, "insertOne", { database, collection: "small", document: { _id: i } })));
        small.push(await timed(() => action(suite.gateway, "findOne", { database, collection: "small", filter: { _id: i } })));
      }
    };
    await Promise.all([bulkLoop(), smallLoop()]);

    expect(bulks.length).toBeGreaterThan(0);
    expect(bulks.map((b) => b.status)).toEqual(bulks.map(() => 200));
    expect(small.length).toBeGreaterThanOrEqual(2);
    for (const answer of small) {
      expect(answer.status, answer.body).toBe(200);
      expect(answer.ms).toBeLessThan(OPERATION_TIMEOUT_MS);
    }
    expect(await suite.client.db(database).collection("bulk").countDocuments()).toBe(bulks.length * MAX_BULK_DOCUMENTS);
  });

  it("refuses an over-limit bulk quickly, writing nothing", { timeout: 60_000 }, async () => {
    const tooMany = JSON.stringify({ dataSource: "load", database, collection: "over", documents: Array.from({ length: MAX_BULK_DOCUMENTS + 1 }, () => ({})) });
    const count = await timed(() => post(suite.gateway, "insertMany", tooMany));
    expect({ status: count.status, body: JSON.parse(count.body).error_code }).toEqual({ status: 400, body: "InvalidParameter" });
    expect(count.ms).toBeLessThan(OPERATION_TIMEOUT_MS);

    // What the outside tester sent: two million empty documents, 6 MB, refused before it is decoded.
    const huge = JSON.stringify({ dataSource: "load", database, collection: "over", documents: Array.from({ length: 2_000_000 }, () => ({})) });
    const values = await timed(() => post(suite.gateway, "insertMany", huge));
    expect({ status: values.status, body: JSON.parse(values.body).error_code }).toEqual({ status: 413, body: "PayloadTooLarge" });
    expect(values.ms).toBeLessThan(OPERATION_TIMEOUT_MS);

    expect(await suite.client.db(database).collection("over").countDocuments()).toBe(0);
  });
});
