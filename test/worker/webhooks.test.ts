import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { ObjectId } from "bson";
import { describe, expect, inject, it } from "vitest";
import { EVENTS } from "../../src/domain/events/outbox";
import { ERRORS } from "../../src/domain/kernel/errors";
import { WEBHOOK_DELIVERIES, WEBHOOKS } from "../../src/domain/webhooks/endpoints";
import { bearer, call, createOrg, env, join, loginToken, patchJson, postJson, putJson, storeClient, uniqueName, useOwnDatabase } from "../helpers";
import { waitFor } from "./webhook-receiver";

/**
 * Signed webhooks, end to end: the Worker registers endpoints, its dispatcher (a Durable Object,
 * from its alarm) delivers to a receiver on loopback that verifies every delivery with the
 * `standardwebhooks` library and fails the first attempts on purpose (test/node/receiver.ts).
 */
useOwnDatabase("webhooks");

const receiver = inject("receiverUrl");

interface Received {
  id: string;
  timestamp: string;
  signature: string;
  verified: boolean[];
  status: number;
  body: { type: string; timestamp: string; data: { id: string; type: string; cursor: string; organization_id: string } };
}

const configure = (name: string, config: { secrets: string[]; failFirst?: number; status?: number }) =>
  fetch(`${receiver}/_endpoints/${name}`, { method: "PUT", body: JSON.stringify(config) });
const receivedAt = async (name: string): Promise<Received[]> => (await (await fetch(`${receiver}/_endpoints/${name}`)).json()) as Received[];

/**
 * Runs the organization's dispatcher whenever its alarm is set (the test runtime leaves alarms to
 * the test: the handler is the deployed one, run at its time or sooner; a retry not yet due waits),
 * until `done` holds of what the receiver got.
 */
const until = async (name: string, token: string, done: (received: Received[]) => boolean | Promise<boolean>, ms = 20_000): Promise<Received[]> => {
  const deadline = Date.now() + ms;
  const stub = dispatcherOf(token);
  for (;;) {
    await runDurableObjectAlarm(stub);
    const received = await receivedAt(name);
    if (await done(received)) return received;
    if (Date.now() > deadline) throw new Error(`receiver ${name} got ${JSON.stringify(received.map((r) => [r.body?.type, r.status]))}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

const orgIdOf = (token: string): string => JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))).org_id;
const dispatcherOf = (token: string) => env.WEBHOOK_DISPATCHER.get(env.WEBHOOK_DISPATCHER.idFromName(orgIdOf(token)));

const register = async (token: string, name: string, extra: Record<string, unknown> = {}) => {
  const res = await postJson("/org/webhooks", { url: `${receiver}/hooks/${name}`, ...extra }, bearer(token));
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; secret: string; url: string };
};

const feedOf = async (token: string) =>
  ((await (await call("/org/events?limit=200", { headers: bearer(token) })).json()) as { events: { id: string; type: string; cursor: string }[] }).events;

const accepted = (received: Received[]) => received.filter((r) => r.status === 200);

interface Logged {
  id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  status: "succeeded" | "failed";
  response_status: number | null;
  latency_ms: number;
  error: string | null;
}

/** The endpoint's delivery log, oldest first: each attempt as the dispatcher saw it. */
const logOf = async (token: string, hookId: string): Promise<Logged[]> =>
  ((await (await call(`/org/webhooks/${hookId}/deliveries?limit=200`, { headers: bearer(token) })).json()) as { deliveries: Logged[] }).deliveries.reverse();

describe("deliveries", () => {
  it("each event reaches the endpoint verified, in the feed's order, duplicates only as retries of one webhook-id", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const name = `flaky-${uniqueName("h").replace(/\W/g, "")}`;
    const hook = await register(token, name);
    await configure(name, { secrets: [hook.secret], failFirst: 2 });
    const member = await join(token);
    expect((await patchJson(`/org/members/${member.userId}`, { role: "admin" }, bearer(token))).status).toBe(200);
    expect((await putJson("/org/update", { organization_name: org.name, new_organization_name: uniqueName("Hooked") }, bearer(token))).status).toBe(200);

    const feed = await feedOf(token);
    // The endpoint gets what was recorded from its registration on: its own creation first.
    const owed = feed.slice(feed.findIndex((e) => e.type === "webhook.created"));
    expect(owed.map((e) => e.type)).toEqual(["webhook.created", "invitation.created", "member.joined", "member.role_changed", "organization.renamed"]);
    // Accepted is what the dispatcher saw accepted, in its log. A 200 that reaches it after its
    // timeout (a second in the suites; a loaded machine can hold an answer that long) is a failed
    // attempt to it, retried with the same webhook-id: the receiver then holds a second 200.
    const acceptedAll = async () => {
      const log = await logOf(token, hook.id);
      return owed.every((event) => log.some((d) => d.event_id === event.id && d.status === "succeeded"));
    };
    await until(name, token, acceptedAll);
    // Read once the log shows every event accepted, not before that check: the receiver records each
    // attempt before it answers, so it holds every 200 the dispatcher has logged (a 200 landing
    // between an earlier read and the log's left the read one attempt short).
    const received = await receivedAt(name);
    const log = await logOf(token, hook.id);

    expect(received.every((r) => r.verified[0])).toBe(true);
    // Accepted once each, in the feed's order.
    expect(log.filter((d) => d.status === "succeeded").map((d) => d.event_id)).toEqual(owed.map((e) => e.id));
    for (const event of owed) {
      // Two failures before each success, and any other failure a timeout (no answer seen).
      const logged = log.filter((d) => d.event_id === event.id);
      expect(logged.map((d) => d.attempt)).toEqual(logged.map((_, i) => i + 1));
      expect(logged.slice(0, 2).map((d) => [d.status, d.response_status])).toEqual([
        ["failed", 500],
        ["failed", 500],
      ]);
      expect(logged.slice(2, -1).every((d) => d.status === "failed" && d.error === "timeout")).toBe(true);
      expect(logged.at(-1)).toMatchObject({ status: "succeeded", response_status: 200 });
      expect(logged.every((d) => d.latency_ms >= 0)).toBe(true);
      // Every other arrival is a retry of this webhook-id: the two 500s, then 200s, one more for each timeout at most.
      const attempts = received.filter((r) => r.id === event.id);
      expect(attempts.map((r) => r.status)).toEqual([500, 500, ...attempts.slice(2).map(() => 200)]);
      expect(attempts.length).toBeGreaterThanOrEqual(3);
      expect(attempts.length).toBeLessThanOrEqual(logged.length);
      // Each attempt is signed when it is made: its timestamp (seconds) is the attempt's, never earlier than the one before.
      const stamps = attempts.map((r) => Number(r.timestamp));
      expect(stamps).toEqual([...stamps].sort((x, y) => x - y));
      expect(Math.abs((stamps.at(-1) as number) - Date.now() / 1000)).toBeLessThan(60);
    }
    // The payload is the feed's event.
    const first = accepted(received)[0];
    expect(first?.body.type).toBe("webhook.created");
    expect(first?.body.data).toMatchObject({ id: owed[0]?.id, type: "webhook.created", cursor: owed[0]?.cursor });
    // The order holds across retries: no event arrived before the one ahead of it was accepted (its last 200).
    const firstArrival = owed.map((e) => received.findIndex((r) => r.id === e.id));
    const acceptedAt = owed.map((e) => received.findLastIndex((r) => r.id === e.id && r.status === 200));
    for (let i = 1; i < owed.length; i++) expect(firstArrival[i]).toBeGreaterThan(acceptedAt[i - 1] as number);
  });

  it("delivers only the types an endpoint asked for", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const name = `picky-${uniqueName("h").replace(/\W/g, "")}`;
    const hook = await register(token, name, { events: ["member.joined"] });
    await configure(name, { secrets: [hook.secret] });
    await join(token);
    await join(token);
    const received = await until(name, token, (r) => r.length >= 2);
    for (let i = 0; i < 3; i++) await runDurableObjectAlarm(dispatcherOf(token));
    expect((await receivedAt(name)).map((r) => r.body.type)).toEqual(["member.joined", "member.joined"]);
    expect(received.every((r) => r.verified[0] && r.status === 200)).toBe(true);
  });

  it("a rotated secret signs beside the old one during the overlap", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const name = `rotated-${uniqueName("h").replace(/\W/g, "")}`;
    const hook = await register(token, name, { events: ["member.joined"] });
    const rotated = await postJson(`/org/webhooks/${hook.id}/rotate-secret`, {}, bearer(token));
    expect(rotated.status).toBe(200);
    const { secret, previous_secret_expires_at } = (await rotated.json()) as { secret: string; previous_secret_expires_at: string };
    expect(secret).not.toBe(hook.secret);
    expect(Date.parse(previous_secret_expires_at) - Date.now()).toBeGreaterThan(23 * 3600_000);
    await configure(name, { secrets: [secret, hook.secret] });
    await join(token);
    const [delivery] = await until(name, token, (r) => r.length >= 1);
    // Both verify: a receiver that has not deployed the new secret yet keeps working.
    expect(delivery?.verified).toEqual([true, true]);
    expect(delivery?.signature.split(" ")).toHaveLength(2);
  });

  it("an endpoint that answers 410 Gone is disabled, and the feed says so", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const name = `gone-${uniqueName("h").replace(/\W/g, "")}`;
    const hook = await register(token, name);
    await configure(name, { secrets: [hook.secret], status: 410 });
    await until(name, token, (r) => r.length >= 1);
    const deadline = Date.now() + 10_000;
    let listed: { status: string; disabled_reason: string | null } | undefined;
    while (Date.now() < deadline) {
      await runDurableObjectAlarm(dispatcherOf(token));
      listed = ((await (await call("/org/webhooks", { headers: bearer(token) })).json()) as { webhooks: { status: string; disabled_reason: string | null }[] })
        .webhooks[0];
      if (listed?.status === "disabled") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(listed).toMatchObject({ status: "disabled", disabled_reason: "the endpoint answered 410 Gone" });
    // The event is carried on the endpoint with the mark and relayed right after it: the listing can show the mark first.
    let feed = await feedOf(token);
    for (let i = 0; i < 50 && feed.at(-1)?.type !== "webhook.disabled"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      feed = await feedOf(token);
    }
    expect(feed.at(-1)).toMatchObject({ type: "webhook.disabled" });
    expect(feed.filter((e) => e.type === "webhook.disabled")).toHaveLength(1);
    // Nothing more is sent to it.
    const before = (await receivedAt(name)).length;
    await join(token);
    for (let i = 0; i < 5; i++) await runDurableObjectAlarm(dispatcherOf(token));
    expect((await receivedAt(name)).length).toBe(before);
  });

  it("a test delivery is sent at once and logged; a logged delivery can be sent again by hand", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const name = `manual-${uniqueName("h").replace(/\W/g, "")}`;
    const hook = await register(token, name);
    await configure(name, { secrets: [hook.secret] });
    await until(name, token, (r) => r.length >= 1);
    const tested = await call(`/org/webhooks/${hook.id}/test`, { method: "POST", headers: bearer(token) });
    expect(await tested.json()).toMatchObject({ delivered: true, response_status: 200, error: null });
    const received = await receivedAt(name);
    expect(received.at(-1)?.body.type).toBe("webhook.test");
    expect(received.at(-1)?.verified).toEqual([true]);

    const created = (await logOf(token, hook.id)).find((d) => d.event_type === "webhook.created");
    expect(created).toBeDefined();
    const again = await call(`/org/webhooks/${hook.id}/deliveries/${created?.id}/redeliver`, { method: "POST", headers: bearer(token) });
    expect(again.status).toBe(202);
    const all = await until(name, token, (r) => r.filter((x) => x.body.type === "webhook.created").length >= 2);
    const copies = all.filter((r) => r.body.type === "webhook.created");
    expect(new Set(copies.map((r) => r.id)).size).toBe(1);
  });
});

describe("endpoints", () => {
  it("refuses what the URL policy refuses, and is for members who manage webhooks", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    for (const url of [
      "http://hooks.example.com/x",
      "https://10.0.0.1/x",
      "https://user:pw@hooks.example.com/x",
      "ftp://hooks.example.com/x",
      "https://printer.local/x",
    ]) {
      const res = await postJson("/org/webhooks", { url }, bearer(token));
      expect(res.status, url).toBe(422);
      expect(await res.json()).toEqual({ detail: ERRORS.WEBHOOK_URL_REFUSED.message });
    }
    expect((await postJson("/org/webhooks", { url: "https://hooks.example.com/x", events: ["no.such"] }, bearer(token))).status).toBe(422);
    const member = await join(token);
    const refused = await postJson("/org/webhooks", { url: "https://hooks.example.com/x" }, bearer(member.token));
    expect(refused.status).toBe(403);
    // The secret is answered once: the listing never shows it.
    const hook = await register(token, "listed");
    const listed = await (await call("/org/webhooks", { headers: bearer(token) })).text();
    expect(listed).not.toContain(hook.secret);
    expect(listed).toContain(hook.id);
  });

  it("a deleted organization's endpoints get its organization.deleted, then nothing of it is left: endpoints, deliveries, events, the dispatcher's storage", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const name = `doomed-${uniqueName("h").replace(/\W/g, "")}`;
    const hook = await register(token, name);
    await configure(name, { secrets: [hook.secret] });
    await until(name, token, (r) => r.length >= 1);
    const orgId = ObjectId.createFromHexString(orgIdOf(token));
    const store = storeClient(env.DATABASE ?? "master_db");
    // The dispatcher logs a delivery once the receiver has answered it: wait for the log, so the
    // delete below has deliveries to remove.
    const logged = () => store.collection(WEBHOOK_DELIVERIES).countDocuments({ org_id: orgId });
    await waitFor(async () => (await logged()) > 0, 5_000);
    expect(await logged()).toBeGreaterThan(0);
    expect((await call(`/org/delete?organization_name=${encodeURIComponent(org.name)}`, { method: "DELETE", headers: bearer(token) })).status).toBe(200);
    for (const collection of [WEBHOOKS, WEBHOOK_DELIVERIES, EVENTS])
      expect(await store.collection(collection).countDocuments({ org_id: orgId }), collection).toBe(0);
    // Handed to the dispatcher before the endpoint went: delivered, verified, after everything before it.
    const received = await until(name, token, (r) => r.some((x) => x.body.type === "organization.deleted" && x.status === 200));
    const deleted = received.find((r) => r.body.type === "organization.deleted");
    expect(deleted?.verified).toEqual([true]);
    expect(received.at(-1)?.body.type).toBe("organization.deleted");
    const stub = dispatcherOf(token);
    const deadline = Date.now() + 10_000;
    let keys = -1;
    while (Date.now() < deadline) {
      await runDurableObjectAlarm(stub);
      keys = await runInDurableObject(
        stub,
        async (_instance, state) => (await state.storage.list()).size + ((await state.storage.getAlarm()) === null ? 0 : 1),
      );
      if (keys === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(keys).toBe(0);
  });
});
