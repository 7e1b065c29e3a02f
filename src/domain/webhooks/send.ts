import { ObjectId } from "bson";
import { type CarriedEvent, carriedEventOperation } from "../events/carried";
import { type EventDoc, eventView } from "../events/outbox";
import type { Deps, EndpointSecrets } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { newEvent } from "../kernel/event";
import { runForRequest } from "../kernel/operation";
import { attemptDelivery, type DeliveryResult } from "./deliver";
import { checkEndpointUrl, redactedUrl } from "./endpoint-url";
import { type DeliveryDoc, WEBHOOK_DELIVERIES, WEBHOOKS, type WebhookDoc } from "./endpoints";
import { DEFAULT_JITTER, nextAttemptAt } from "./schedule";
import { webhookHeaders } from "./signature";

/**
 * What every way of calling an endpoint shares (the feed, redeliveries, `/test`, a deleted organization's last deliveries): the
 * URL judged again by the deployment's policy as it stands now, the signed attempt, and its log.
 */

export interface HttpDeps {
  fetch: (input: string, init: RequestInit) => Promise<Response>;
}

/** The body a receiver gets: the Standard Webhooks shape, `type`, `timestamp` and the event as `data`. */
export const payloadOf = (event: EventDoc): string =>
  JSON.stringify({ type: event.type, timestamp: event.at.toISOString(), data: eventView(event.org_id, event) });

const hooks = (deps: Deps) => deps.data.collection<WebhookDoc>(WEBHOOKS);

/**
 * Why the URL policy refuses to call this URL now, or null. An endpoint passed it when it was
 * registered, but the deployment may have tightened it since (loopback no longer allowed, say), and
 * a URL is only called if it would be registered today.
 */
export const destinationRefusal = (deps: Deps, url: string): string | null => {
  const checked = checkEndpointUrl(url, { allowHttpLoopback: deps.settings.webhooks.allowHttpLoopback });
  return checked.ok ? null : checked.reason;
};

/** One attempt, signed when it is made; no log (the caller keeps one, or has nowhere to). */
export const sendSigned = async (deps: Deps, http: HttpDeps, to: { url: string; secrets: EndpointSecrets }, event: { id: string; body: string }) => {
  const headers = await webhookHeaders({ id: event.id, body: event.body, secrets: to.secrets }, deps.now());
  return attemptDelivery(
    { url: to.url, body: event.body, headers: { ...headers } },
    { fetch: http.fetch, timeoutMs: deps.settings.webhooks.timeoutMs, now: () => Date.now() },
  );
};

/**
 * Logs an attempt, then looks whether its endpoint still exists: a delete that marked it (or
 * removed it with its organization) while the attempt was in flight may have removed its log
 * before this insert, so what came late is removed here. Either the delete's removal comes after
 * the insert, or this look sees the endpoint gone: no log outlives its endpoint.
 */
export const logAttempt = async (
  deps: Deps,
  hook: WebhookDoc,
  event: { id: string; type: string; seq: number | null },
  attempt: { number: number; manual: boolean; at: Date },
  result: DeliveryResult,
): Promise<void> => {
  const deliveries = deps.data.collection<DeliveryDoc>(WEBHOOK_DELIVERIES);
  await deliveries.insertOne({
    _id: new ObjectId(),
    org_id: hook.org_id,
    webhook_id: hook._id,
    event_id: event.id,
    event_type: event.type,
    seq: event.seq,
    attempt: attempt.number,
    ...(attempt.manual ? { manual: true as const } : {}),
    at: attempt.at,
    ok: result.ok,
    status: result.status,
    latency_ms: Math.round(result.latencyMs),
    ...(result.error ? { error: result.error } : {}),
    ...(result.responseExcerpt ? { response_excerpt: result.responseExcerpt.slice(0, 512) } : {}),
  });
  const still = await hooks(deps).findOne({ _id: hook._id, deleted: { $exists: false } }, { projection: { _id: 1 } });
  if (!still) await deliveries.deleteMany({ webhook_id: hook._id });
};

/** The retry schedule, divided for development and tests (WEBHOOK_SCHEDULE_DIVISOR). */
export const nextAttempt = (deps: Deps, attemptsMade: number, now: Date): Date | null => {
  const at = nextAttemptAt(attemptsMade, now, { jitter: DEFAULT_JITTER });
  if (!at) return null;
  return new Date(now.getTime() + Math.round((at.getTime() - now.getTime()) / deps.settings.webhooks.scheduleDivisor));
};

export const disableEndpointOperation = carriedEventOperation({ kind: "webhook.disable", collection: WEBHOOKS, type: "webhook.disabled" });

/**
 * Disables an endpoint (it keeps failing, or the URL policy now refuses it), with `webhook.disabled`
 * carried on it and relayed (as for a deletion), so the organization learns it from its feed, and
 * from its other endpoints. `seq`: the event given up on, which the cursor moves past.
 */
export const disableEndpoint = async (deps: Deps, hook: WebhookDoc, reason: string, seq?: number): Promise<void> => {
  const disabled: CarriedEvent = {
    org_ids: [hook.org_id],
    event: newEvent("webhook.disabled", { type: "system" }, { webhook_id: hook._id.toHexString(), url: redactedUrl(hook.url), reason }, deps.now()),
  };
  const marked = await hooks(deps).findOneAndUpdate(
    { _id: hook._id, status: "enabled", deleted: { $exists: false } },
    {
      $set: { status: "disabled", disabled_reason: reason, ...(seq === undefined ? {} : { cursor: seq }) },
      $unset: { retry: "" },
      $push: { carried: disabled },
    },
  );
  if (!marked) return;
  await runForRequest(disableEndpointOperation, deps, { carrier: hook._id, carried: disabled });
};

/** The reason an endpoint is disabled when the URL policy refuses its URL at delivery. */
export const refusedReason = (refusal: string): string => `the URL policy refuses the URL now: ${refusal}`;

/**
 * A `webhook.test` delivery, sent now and logged, never retried: not an event of the feed. Not for
 * a disabled endpoint, nor one whose URL the policy now refuses (which this disables).
 */
export const deliverTest = async (deps: Deps, http: HttpDeps, hook: WebhookDoc) => {
  if (hook.status !== "enabled") throw new AppError("WEBHOOK_DISABLED");
  const refusal = destinationRefusal(deps, hook.url);
  if (refusal) {
    await disableEndpoint(deps, hook, refusedReason(refusal));
    throw new AppError("WEBHOOK_DISABLED");
  }
  const now = deps.now();
  const id = `evt_test_${new ObjectId().toHexString()}`;
  const body = JSON.stringify({
    type: "webhook.test",
    timestamp: now.toISOString(),
    data: { id, type: "webhook.test", created_at: now.toISOString(), organization_id: hook.org_id.toHexString(), webhook_id: hook._id.toHexString() },
  });
  const result = await sendSigned(deps, http, hook, { id, body });
  await logAttempt(deps, hook, { id, type: "webhook.test", seq: null }, { number: 1, manual: true, at: now }, result);
  return { delivered: result.ok, response_status: result.status, latency_ms: Math.round(result.latencyMs), error: result.error ?? null };
};
