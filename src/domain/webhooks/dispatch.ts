import { ObjectId } from "bson";
import { type CarriedEvent, EVENTS, type EventDoc, eventView, newEvent, relay } from "../events";
import type { Deps, OrganizationDoc } from "../organization";
import { attemptDelivery, type DeliveryResult } from "./deliver";
import { type DeliveryDoc, WEBHOOK_DELIVERIES, WEBHOOKS, type WebhookDoc } from "./endpoints";
import { DEFAULT_JITTER, MAX_ATTEMPTS, nextAttemptAt, shouldDisableEndpoint } from "./schedule";
import { type EndpointSecrets, webhookHeaders } from "./signature";

/**
 * Delivery: each endpoint reads the organization's feed in order from its `cursor`, one event at a
 * time, and moves the cursor on only once the event was accepted (a 2xx) or every attempt failed.
 * So an endpoint receives its events in the feed's order, each at least once: a crash between an
 * accepted attempt and the cursor's move sends the same event again, with the same `webhook-id`
 * (the event's id), which is the receiver's key to drop the duplicate. While an event's attempts
 * fail, the events after it wait (order over speed): the schedule gives up after about a day.
 *
 * One dispatcher runs per organization at a time (the WebhookDispatcher Durable Object, whose
 * alarm calls this), so the endpoint documents are only written here and by their owners' calls
 * (delete, rotate, redeliver), which touch other fields.
 */

/** At most this many attempts per endpoint per run: a long backlog goes on in the next run, at once. */
const ATTEMPTS_PER_RUN = 25;

export interface HttpDeps {
  fetch: (input: string, init: RequestInit) => Promise<Response>;
}

/** The body a receiver gets: the Standard Webhooks shape, `type`, `timestamp` and the event as `data`. */
export const payloadOf = (event: EventDoc): string =>
  JSON.stringify({ type: event.type, timestamp: event.at.toISOString(), data: eventView(event.org_id, event) });

const hooks = (deps: Deps) => deps.data.collection<WebhookDoc>(WEBHOOKS);

/** Signs and sends one event to one endpoint, and logs the attempt. */
export const deliverOnce = async (
  deps: Deps,
  http: HttpDeps,
  hook: WebhookDoc,
  event: { id: string; type: string; seq: number | null; body: string },
  attempt: number,
  manual = false,
): Promise<DeliveryResult> => {
  const now = deps.now();
  const headers = await webhookHeaders({ id: event.id, body: event.body, secrets: hook.secrets }, now);
  const result = await attemptDelivery(
    { url: hook.url, body: event.body, headers: { ...headers } },
    { fetch: http.fetch, timeoutMs: deps.settings.webhooks.timeoutMs, now: () => Date.now() },
  );
  const log: DeliveryDoc = {
    _id: new ObjectId(),
    org_id: hook.org_id,
    webhook_id: hook._id,
    event_id: event.id,
    event_type: event.type,
    seq: event.seq,
    attempt,
    ...(manual ? { manual: true as const } : {}),
    at: now,
    ok: result.ok,
    status: result.status,
    latency_ms: Math.round(result.latencyMs),
    ...(result.error ? { error: result.error } : {}),
    ...(result.responseExcerpt ? { response_excerpt: result.responseExcerpt.slice(0, 512) } : {}),
  };
  await deps.data.collection<DeliveryDoc>(WEBHOOK_DELIVERIES).insertOne(log);
  return result;
};

/** The retry schedule, divided for development and tests (WEBHOOK_SCHEDULE_DIVISOR). */
const nextAttempt = (deps: Deps, attemptsMade: number, now: Date): Date | null => {
  const at = nextAttemptAt(attemptsMade, now, { jitter: DEFAULT_JITTER });
  if (!at) return null;
  return new Date(now.getTime() + Math.round((at.getTime() - now.getTime()) / deps.settings.webhooks.scheduleDivisor));
};

/**
 * Delivers what the organization's endpoints are owed, within this run's bounds. Answers when to
 * run again: the earliest retry due, now (more is owed than one run sends), or null when every
 * endpoint has caught up (the dispatcher then looks again after a while, or when poked). `gone`
 * says no endpoint is left.
 */
export const dispatchOrganization = async (deps: Deps, http: HttpDeps, orgId: ObjectId): Promise<{ wake: Date | null; gone: boolean }> => {
  const endpoints = await hooks(deps).find({ org_id: orgId, status: "enabled", deleted: { $exists: false } });
  if (endpoints.length === 0) {
    // None left (deleted, disabled, or the organization with them): nor is their log, including
    // anything a run racing a delete logged after the delete removed the rest.
    const left = await hooks(deps).countDocuments({ org_id: orgId });
    if (left === 0) await deps.data.collection(WEBHOOK_DELIVERIES).deleteMany({ org_id: orgId });
    return { wake: null, gone: true };
  }
  let wake: Date | null = null;
  for (const hook of endpoints) {
    const next = await drain(deps, http, hook);
    if (next && (!wake || next < wake)) wake = next;
  }
  return { wake, gone: endpoints.length === 0 };
};

const eventAt = (deps: Deps, orgId: ObjectId, seq: number) => deps.data.collection<EventDoc>(EVENTS).findOne({ org_id: orgId, seq });

const drain = async (deps: Deps, http: HttpDeps, start: WebhookDoc): Promise<Date | null> => {
  let hook = start;
  for (let sent = 0; sent < ATTEMPTS_PER_RUN; ) {
    const now = deps.now();
    // Redeliveries asked for by hand go first, once each, outside the schedule.
    const again = hook.redeliver?.[0];
    if (again !== undefined) {
      const event = await eventAt(deps, hook.org_id, again);
      if (event) await deliverOnce(deps, http, hook, { ...event, body: payloadOf(event) }, 1, true);
      sent++;
      hook = (await hooks(deps).findOneAndUpdate({ _id: hook._id }, { $pull: { redeliver: again } }, { returnNewDocument: true })) ?? hook;
      continue;
    }
    if (hook.retry && hook.retry.next_at > now) return hook.retry.next_at;
    const event = hook.retry
      ? await eventAt(deps, hook.org_id, hook.retry.seq)
      : (await deps.data.collection<EventDoc>(EVENTS).find({ org_id: hook.org_id, seq: { $gt: hook.cursor } }, { sort: { seq: 1 }, limit: 1 }))[0];
    if (!event) {
      // Caught up; or the event being retried expired from the feed (past its retention): pass it.
      if (!hook.retry) return null;
      hook = await moveOn(deps, hook, hook.retry.seq, {});
      continue;
    }
    if (hook.events && !hook.events.includes(event.type)) {
      hook = await moveOn(deps, hook, event.seq, {});
      continue;
    }
    const attempt = (hook.retry?.attempts ?? 0) + 1;
    const result = await deliverOnce(deps, http, hook, { ...event, body: payloadOf(event) }, attempt);
    sent++;
    if (result.ok) {
      hook = await moveOn(deps, hook, event.seq, { $set: { "health.consecutive_exhausted": 0 }, $unset: { "health.failing_since": "" } });
      continue;
    }
    const failingSince = hook.health.failing_since ?? now;
    const retryAt = attempt < MAX_ATTEMPTS ? nextAttempt(deps, attempt, now) : null;
    if (retryAt && result.status !== 410) {
      hook = await updated(deps, hook, { $set: { retry: { seq: event.seq, attempts: attempt, next_at: retryAt }, "health.failing_since": failingSince } });
      continue;
    }
    // Given up on this event (or told to stop: 410 Gone): the endpoint moves on, or is disabled.
    const exhausted = hook.health.consecutive_exhausted + 1;
    const health = { consecutiveExhausted: exhausted, failingSince, lastStatus: result.status };
    if (shouldDisableEndpoint(health, now)) {
      await disable(deps, hook, result.status === 410 ? "the endpoint answered 410 Gone" : "every delivery failed for days", event.seq);
      return null;
    }
    hook = await moveOn(deps, hook, event.seq, { $set: { "health.consecutive_exhausted": exhausted, "health.failing_since": failingSince } });
  }
  return deps.now();
};

const updated = async (deps: Deps, hook: WebhookDoc, update: Record<string, unknown>): Promise<WebhookDoc> =>
  (await hooks(deps).findOneAndUpdate({ _id: hook._id, cursor: hook.cursor }, update, { returnNewDocument: true })) ?? hook;

/** The cursor past `seq`, the retry over. */
const moveOn = (deps: Deps, hook: WebhookDoc, seq: number, more: { $set?: Record<string, unknown>; $unset?: Record<string, ""> }) =>
  updated(deps, hook, { $set: { cursor: seq, ...more.$set }, $unset: { retry: "", ...more.$unset } });

/**
 * Disables an endpoint that keeps failing, with `webhook.disabled` carried on it and relayed (as
 * for a deletion), so the organization learns it from its feed, and from its other endpoints.
 */
const disable = async (deps: Deps, hook: WebhookDoc, reason: string, seq: number): Promise<void> => {
  const disabled: CarriedEvent = {
    org_ids: [hook.org_id],
    event: newEvent("webhook.disabled", { type: "system" }, { webhook_id: hook._id.toHexString(), url: hook.url, reason }, deps.now()),
  };
  const marked = await hooks(deps).findOneAndUpdate(
    { _id: hook._id, status: "enabled" },
    { $set: { status: "disabled", disabled_reason: reason, cursor: seq }, $unset: { retry: "" }, $push: { carried: disabled } },
  );
  if (!marked) return;
  await relay(deps, disabled);
  await hooks(deps).updateOne({ _id: hook._id }, { $pullAll: { carried: [disabled] } });
};

/** A `webhook.test` delivery, sent now and logged, never retried: not an event of the feed. */
export const deliverTest = async (deps: Deps, http: HttpDeps, hook: WebhookDoc) => {
  const now = deps.now();
  const id = `evt_test_${new ObjectId().toHexString()}`;
  const body = JSON.stringify({
    type: "webhook.test",
    timestamp: now.toISOString(),
    data: { id, type: "webhook.test", created_at: now.toISOString(), organization_id: hook.org_id.toHexString(), webhook_id: hook._id.toHexString() },
  });
  const result = await deliverOnce(deps, http, hook, { id, type: "webhook.test", seq: null, body }, 1, true);
  return { delivered: result.ok, response_status: result.status, latency_ms: Math.round(result.latencyMs), error: result.error ?? null };
};

/**
 * The last deliveries of an organization being deleted: what each of its endpoints is still owed
 * (its `organization.deleted` among them), self-contained (URL, secrets, signed body's parts), so
 * that they outlive the endpoints, the feed and the organization, which the delete removes next.
 * The dispatcher keeps them in its own storage until each is accepted or its attempts run out, then
 * forgets them: that is all that remains of a deleted organization, for at most the retry schedule.
 */
export interface Farewell {
  /** The endpoint and the event: handing the same over twice (a delete the reconciler finishes) keeps one. */
  key: string;
  url: string;
  secrets: EndpointSecrets;
  id: string;
  body: string;
  attempts: number;
  /** Milliseconds since the epoch; 0: now. */
  next_at: number;
}

/** At most this many events per endpoint are handed over (the feed's backlog at the delete, oldest first). */
const FAREWELL_LIMIT = 100;

export const farewellsOf = async (deps: Deps, org: Pick<OrganizationDoc, "_id" | "outbox" | "event_seq">): Promise<Farewell[]> => {
  const endpoints = await hooks(deps).find({ org_id: org._id, status: "enabled", deleted: { $exists: false } });
  if (endpoints.length === 0) return [];
  const base = org.event_seq ?? 0;
  const from = (hook: WebhookDoc) => (hook.retry ? hook.retry.seq - 1 : hook.cursor);
  const lowest = Math.min(...endpoints.map(from));
  const published =
    lowest < base
      ? await deps.data.collection<EventDoc>(EVENTS).find({ org_id: org._id, seq: { $gt: lowest, $lte: base } }, { sort: { seq: 1 }, limit: FAREWELL_LIMIT })
      : [];
  const waiting: EventDoc[] = (org.outbox ?? []).map((event, i) => ({ ...event, _id: event.id, org_id: org._id, seq: base + i + 1 }));
  const owed = [...published, ...waiting];
  return endpoints.flatMap((hook) =>
    owed
      .filter((event) => event.seq > from(hook) && (!hook.events || hook.events.includes(event.type)))
      .slice(0, FAREWELL_LIMIT)
      .map((event) => ({
        key: `${hook._id.toHexString()}:${event.id}`,
        url: hook.url,
        secrets: hook.secrets,
        id: event.id,
        body: payloadOf(event),
        attempts: 0,
        next_at: 0,
      })),
  );
};

/**
 * One pass over the farewells: each due one is attempted, in order per endpoint (one that fails
 * holds the ones after it to the same URL); answers those left and when the next is due.
 */
export const sendFarewells = async (deps: Deps, http: HttpDeps, farewells: Farewell[]): Promise<{ left: Farewell[]; wake: number | null }> => {
  const left: Farewell[] = [];
  const held = new Set<string>();
  let wake: number | null = null;
  for (const farewell of farewells) {
    const now = deps.now();
    if (held.has(farewell.url) || farewell.next_at > now.getTime()) {
      held.add(farewell.url);
      left.push(farewell);
      if (farewell.next_at > now.getTime()) wake = Math.min(wake ?? farewell.next_at, farewell.next_at);
      continue;
    }
    const headers = await webhookHeaders({ id: farewell.id, body: farewell.body, secrets: farewell.secrets }, now);
    const result = await attemptDelivery(
      { url: farewell.url, body: farewell.body, headers: { ...headers } },
      { fetch: http.fetch, timeoutMs: deps.settings.webhooks.timeoutMs, now: () => Date.now() },
    );
    if (result.ok) continue;
    const attempts = farewell.attempts + 1;
    const retryAt = attempts < MAX_ATTEMPTS && result.status !== 410 ? nextAttempt(deps, attempts, now) : null;
    // Given up: nothing is left to log it in, the organization is gone.
    if (!retryAt) continue;
    left.push({ ...farewell, attempts, next_at: retryAt.getTime() });
    held.add(farewell.url);
    wake = Math.min(wake ?? retryAt.getTime(), retryAt.getTime());
  }
  return { left, wake };
};
