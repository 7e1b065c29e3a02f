import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { dispatchOrganization } from "../../src/domain/webhooks/dispatch";
import { WEBHOOK_DELIVERIES, WEBHOOKS, type WebhookDoc } from "../../src/domain/webhooks/endpoints";
import { bearer, call, callWith, createOrg, loginToken, storeClient, useOwnDatabase } from "../helpers";
import { configure, depsWith, dispatcherOf, endpointName, http, orgIdOf, pumpAlarms, receivedAt, register, waitFor } from "./webhook-receiver";

/**
 * Deletes racing deliveries: an endpoint deleted, or its organization, while an attempt to it is
 * in flight (the dispatcher's, or a `/test`). Once the delete has answered no attempt starts, and
 * no delivery-log document is left for what was deleted.
 */
const database = useOwnDatabase("races_webhooks");
const store = () => storeClient(database);

/** `quiet`: subscribed to an event these tests never record, so the organization's own dispatcher sends it nothing. */
const setUp = async (prefix: string, config: { status?: number; delayMs?: number }, quiet = false) => {
  const org = await createOrg();
  const token = await loginToken(org.email, org.password);
  const name = endpointName(prefix);
  const hook = await register(token, name, quiet ? { events: ["member.removed"] } : {});
  await configure(name, { secrets: [hook.secret], ...config });
  return { org, token, name, hook, orgId: orgIdOf(token), webhookId: ObjectId.createFromHexString(hook.id) };
};

const deleteOrganization = async (token: string, name: string) => {
  const res = await call(`/org/delete?organization_name=${encodeURIComponent(name)}`, { method: "DELETE", headers: bearer(token) });
  expect(res.status, await res.clone().text()).toBe(200);
};

const deleteEndpoint = async (token: string, id: string) => {
  const res = await call(`/org/webhooks/${id}`, { method: "DELETE", headers: bearer(token) });
  expect(res.status, await res.clone().text()).toBe(200);
};

const logsOf = (filter: Record<string, unknown>) => store().collection(WEBHOOK_DELIVERIES).countDocuments(filter);

/**
 * Whether no log of it is left, once the attempts in flight are over: an attempt logs, then looks
 * for its endpoint, so its log may exist for that moment (the deployment's own dispatcher, whose
 * alarm this runtime runs by itself, may have one in flight that the test does not wait for).
 */
const noLogLeft = (filter: Record<string, unknown>) => waitFor(async () => (await logsOf(filter)) === 0, 5_000);

describe("an endpoint deleted while the dispatcher is delivering to it", () => {
  it("is called no more once the delete answered (at most the attempt in flight completes), and keeps no log", async () => {
    // Every attempt fails, slowly: retries keep coming, and the delete lands during one.
    const { token, name, hook, webhookId } = await setUp("deleted-mid-run", { status: 500, delayMs: 400 });
    const stub = dispatcherOf(token);
    let deleted = false;
    const pumping = pumpAlarms(stub, () => deleted);
    expect(await waitFor(async () => (await receivedAt(name)).length >= 1)).toBe(true);
    await deleteEndpoint(token, hook.id);
    deleted = true;
    const atDelete = (await receivedAt(name)).length;
    await pumping;
    // Later runs, with retries due every few milliseconds, find nothing to call.
    await pumpAlarms(stub, () => false, 1_500);
    expect((await receivedAt(name)).length).toBeLessThanOrEqual(atDelete + 1);
    expect(await noLogLeft({ webhook_id: webhookId })).toBe(true);
  });
});

describe("an organization deleted while a delivery to its endpoint is in flight", () => {
  it("a dispatcher's attempt: no delivery log is left", async () => {
    const { org, token, name, hook, orgId, webhookId } = await setUp("org-gone-mid-run", {});
    // The organization's own dispatcher delivers the endpoint's first event and goes idle…
    const hooks = store().collection<WebhookDoc>(WEBHOOKS);
    const cursorAt = async () => (await hooks.findOne({ _id: webhookId }))?.cursor ?? 0;
    const first = await cursorAt();
    expect(await waitFor(async () => (await cursorAt()) > first)).toBe(true);
    // …then the event is owed again, to a receiver that now answers slowly, and a run (called
    // directly, with a timeout longer than the receiver's delay) is in flight when the delete comes.
    await configure(name, { secrets: [hook.secret], status: 500, delayMs: 2_000 });
    await hooks.updateOne({ _id: webhookId }, { $set: { cursor: first } });
    const running = dispatchOrganization(await depsWith({ WEBHOOK_TIMEOUT_MS: "5000" }), http, orgId);
    expect(await waitFor(async () => (await receivedAt(name)).length >= 2)).toBe(true);
    await deleteOrganization(token, org.name);
    await running;
    // At once: not left for a later run of the dispatcher to find.
    expect(await logsOf({ org_id: orgId })).toBe(0);
  });

  it("a /test call: no delivery log is left", async () => {
    const { org, token, name, hook, orgId } = await setUp("org-gone-mid-test", { delayMs: 1_000 }, true);
    const testing = callWith({ WEBHOOK_TIMEOUT_MS: "5000" }, `/org/webhooks/${hook.id}/test`, { method: "POST", headers: bearer(token) });
    expect(await waitFor(async () => (await receivedAt(name)).some((r) => r.body.type === "webhook.test"))).toBe(true);
    await deleteOrganization(token, org.name);
    expect((await testing).status).toBe(200);
    expect(await noLogLeft({ org_id: orgId })).toBe(true);
  });
});

describe("an endpoint deleted while its /test call is in flight", () => {
  it("keeps no delivery log", async () => {
    const { token, name, hook, webhookId } = await setUp("gone-mid-test", { delayMs: 1_000 }, true);
    const testing = callWith({ WEBHOOK_TIMEOUT_MS: "5000" }, `/org/webhooks/${hook.id}/test`, { method: "POST", headers: bearer(token) });
    expect(await waitFor(async () => (await receivedAt(name)).some((r) => r.body.type === "webhook.test"))).toBe(true);
    await deleteEndpoint(token, hook.id);
    expect((await testing).status).toBe(200);
    expect(await noLogLeft({ webhook_id: webhookId })).toBe(true);
  });

  it("the same with several /test calls and the delete at once: no log is left", async () => {
    const { token, name, hook, webhookId } = await setUp("gone-mid-tests", { delayMs: 600 }, true);
    const tests = Array.from({ length: 5 }, () =>
      callWith({ WEBHOOK_TIMEOUT_MS: "5000" }, `/org/webhooks/${hook.id}/test`, { method: "POST", headers: bearer(token) }),
    );
    expect(await waitFor(async () => (await receivedAt(name)).filter((r) => r.body.type === "webhook.test").length >= 1)).toBe(true);
    await deleteEndpoint(token, hook.id);
    // Each answers: its result (it had read the endpoint before the delete), or 404 (after).
    for (const res of await Promise.all(tests)) expect([200, 404]).toContain(res.status);
    expect(await noLogLeft({ webhook_id: webhookId })).toBe(true);
  });
});
