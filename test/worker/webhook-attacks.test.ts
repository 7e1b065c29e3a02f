import { runDurableObjectAlarm } from "cloudflare:test";
import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { ERRORS } from "../../src/domain/kernel/errors";
import { dispatchOrganization } from "../../src/domain/webhooks/dispatch";
import { WEBHOOKS, type WebhookDoc } from "../../src/domain/webhooks/endpoints";
import { sendLastDeliveries } from "../../src/domain/webhooks/last-deliveries";
import { bearer, call, callWith, createOrg, join, loginToken, postJson, storeClient, useOwnDatabase } from "../helpers";
import {
  configure,
  depsWith,
  dispatcherOf,
  endpointName,
  feedOf,
  http,
  orgIdOf,
  pumpAlarms,
  type Received,
  receivedAt,
  receiver,
  register,
  waitFor,
} from "./webhook-receiver";

/**
 * What the red team's review found about delivery, each as its attack: a URL the deployment's
 * policy refuses now, a slow sibling endpoint, a URL's secrets spread by events, a disabled
 * endpoint called by `/test`.
 */
const database = useOwnDatabase("webhook_attacks");

const STRICT = { WEBHOOK_ALLOW_HTTP_LOOPBACK: "0" };

const listed = async (token: string) =>
  ((await (await call("/org/webhooks", { headers: bearer(token) })).json()) as { webhooks: { id: string; status: string; disabled_reason: string | null }[] })
    .webhooks;

const testCall = (token: string, id: string) => call(`/org/webhooks/${id}/test`, { method: "POST", headers: bearer(token) });

describe("the URL policy at delivery", () => {
  it("an endpoint registered while loopback was allowed is not called once the deployment forbids it: disabled, and the feed says why", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const name = endpointName("policy");
    const hook = await register(token, name);
    await configure(name, { secrets: [hook.secret] });
    // The deployment's own dispatcher (loopback allowed) delivers the endpoint's first event and moves on…
    const hooks = storeClient(database).collection<WebhookDoc>(WEBHOOKS);
    const id = ObjectId.createFromHexString(hook.id);
    const cursorAt = async () => (await hooks.findOne({ _id: id }))?.cursor ?? 0;
    const first = await cursorAt();
    expect(await waitFor(async () => (await cursorAt()) > first)).toBe(true);
    const before = (await receivedAt(name)).length;
    expect(before).toBe(1);
    // …and it is owed again (as any event recorded after the policy changed would be).
    await hooks.updateOne({ _id: id }, { $set: { cursor: first } });
    // The deployment's settings now refuse loopback: a dispatcher runs with them.
    await dispatchOrganization(await depsWith(STRICT), http, orgIdOf(token));
    expect((await receivedAt(name)).length).toBe(before);
    const [endpoint] = await listed(token);
    expect(endpoint?.status).toBe("disabled");
    expect(endpoint?.disabled_reason).toContain("URL policy");
    expect(await waitFor(async () => (await feedOf(token)).some((e) => e.type === "webhook.disabled"))).toBe(true);
    const disabled = (await feedOf(token)).find((e) => e.type === "webhook.disabled");
    expect(disabled?.data).toMatchObject({ webhook_id: hook.id, url: new URL(receiver).origin });
    // Nor does anything call it later, whatever the settings.
    await pumpAlarms(dispatcherOf(token), () => false, 500);
    expect((await receivedAt(name)).length).toBe(before);
  });

  it("/test to a URL the policy refuses now calls nothing, disables the endpoint and answers 409", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const name = endpointName("policy-test");
    // Subscribed to nothing this test records: the deployment's own dispatcher has nothing to send it.
    const hook = await register(token, name, { events: ["member.removed"] });
    await configure(name, { secrets: [hook.secret] });
    const res = await callWith(STRICT, `/org/webhooks/${hook.id}/test`, { method: "POST", headers: bearer(token) });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ detail: ERRORS.WEBHOOK_DISABLED.message });
    expect(await receivedAt(name)).toEqual([]);
    expect((await listed(token))[0]?.status).toBe("disabled");
  });

  it("a deleted organization's farewells to a URL the policy refuses now are dropped, not sent", async () => {
    const name = endpointName("policy-farewell");
    await configure(name, { secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] });
    const farewell = {
      key: `${new ObjectId().toHexString()}:evt_1`,
      url: `${receiver}/hooks/${name}`,
      secrets: { current: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
      id: "evt_1",
      body: JSON.stringify({ type: "organization.deleted", timestamp: new Date().toISOString(), data: {} }),
      attempts: 0,
      next_at: 0,
    };
    const { left } = await sendLastDeliveries(await depsWith(STRICT), http, [farewell]);
    expect(left).toEqual([]);
    expect(await receivedAt(name)).toEqual([]);
  });
});

describe("one endpoint's slowness", () => {
  it("does not hold up the organization's other endpoints, each still served in the feed's order", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    // Registered first: a dispatcher serving endpoints one after another would serve it first.
    const slowName = endpointName("trickling");
    const slow = await register(token, slowName);
    await configure(slowName, { secrets: [slow.secret], trickle: true });
    const healthyName = endpointName("healthy");
    const healthy = await register(token, healthyName);
    await configure(healthyName, { secrets: [healthy.secret] });
    await join(token);
    await join(token);
    const feed = await feedOf(token);
    const owed = feed.slice(feed.findIndex((e) => e.type === "webhook.created" && e.data.webhook_id === healthy.id)).map((e) => e.id);
    expect(owed).toHaveLength(5);

    let healthyDone = false;
    const pumping = pumpAlarms(dispatcherOf(token), () => healthyDone, 20_000);
    const started = Date.now();
    let got: Received[] = [];
    healthyDone = await waitFor(async () => {
      got = await receivedAt(healthyName);
      return got.length >= owed.length;
    }, 20_000);
    const waited = Date.now() - started;
    // Each attempt at the trickling endpoint takes the whole timeout (1 s here): it has had few of its 6 yet.
    const slowSoFar = (await receivedAt(slowName)).length;
    await pumping;
    expect(healthyDone).toBe(true);
    expect(got.map((r) => r.id)).toEqual(owed);
    expect(slowSoFar).toBeLessThan(6);
    expect(waited).toBeLessThan(5_000);
  });

  it("is logged for the whole attempt: a receiver trickling its answer until the timeout is logged at the timeout", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const name = endpointName("trickle-log");
    const hook = await register(token, name);
    await configure(name, { secrets: [hook.secret], trickle: true });
    const tested = (await (await testCall(token, hook.id)).json()) as { delivered: boolean; latency_ms: number };
    expect(tested.delivered).toBe(true);
    // The test configuration cuts attempts at 1 s.
    expect(tested.latency_ms).toBeGreaterThanOrEqual(900);
    const log = (await (await call(`/org/webhooks/${hook.id}/deliveries`, { headers: bearer(token) })).json()) as {
      deliveries: { event_type: string; latency_ms: number }[];
    };
    expect(log.deliveries.find((d) => d.event_type === "webhook.test")?.latency_ms).toBeGreaterThanOrEqual(900);
  });
});

describe("URLs in events", () => {
  it("webhook.created shows the new endpoint's origin only: its path and query string may carry the receiver's secret", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const name = endpointName("secret-url");
    const hook = await register(token, name, {}, "?token=receiver-own-secret");
    expect(hook.url).toContain("receiver-own-secret");
    expect(await waitFor(async () => (await feedOf(token)).some((e) => e.type === "webhook.created"))).toBe(true);
    const feed = await feedOf(token);
    expect(feed.find((e) => e.type === "webhook.created")?.data.url).toBe(new URL(receiver).origin);
    expect(JSON.stringify(feed)).not.toContain("receiver-own-secret");
    expect(JSON.stringify(feed)).not.toContain(`/hooks/${name}`);
  });
});

describe("/test on a disabled endpoint", () => {
  it("answers 409 WEBHOOK_DISABLED and calls nothing", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const name = endpointName("gone-tested");
    const hook = await register(token, name);
    await configure(name, { secrets: [hook.secret], status: 410 });
    const stub = dispatcherOf(token);
    const disabled = await waitFor(async () => {
      await runDurableObjectAlarm(stub);
      return (await listed(token))[0]?.status === "disabled";
    });
    expect(disabled).toBe(true);
    const before = (await receivedAt(name)).length;
    const res = await testCall(token, hook.id);
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ detail: ERRORS.WEBHOOK_DISABLED.message });
    expect((await receivedAt(name)).length).toBe(before);
  });
});

describe("a token revoked by a password change", () => {
  it("is refused 401 INVALID_TOKEN by every endpoint change, as everywhere else, and changes nothing", async () => {
    const org = await createOrg();
    const stale = await loginToken(org.email, org.password);
    const hook = await register(stale, endpointName("stale-token"));
    const changed = await postJson("/admin/password", { current_password: org.password, new_password: "N3w-passphrase" }, bearer(stale));
    expect(changed.status).toBe(200);
    const fresh = ((await changed.json()) as { access_token: string }).access_token;
    const attempts = [
      postJson("/org/webhooks", { url: `${receiver}/hooks/${endpointName("stale-token-2")}` }, bearer(stale)),
      call(`/org/webhooks/${hook.id}`, { method: "DELETE", headers: bearer(stale) }),
      call(`/org/webhooks/${hook.id}/rotate-secret`, { method: "POST", headers: bearer(stale) }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ detail: ERRORS.INVALID_TOKEN.message });
    }
    expect((await listed(fresh)).map((h) => h.id)).toEqual([hook.id]);
  });
});
