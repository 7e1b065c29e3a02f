import type { ObjectId } from "bson";
import { EVENTS, type EventDoc } from "../events/outbox";
import type { Deps } from "../kernel/deps";
import type { DeliveryResult } from "./deliver";
import { WEBHOOK_DELIVERIES, WEBHOOKS, type WebhookDoc } from "./endpoints";
import { MAX_ATTEMPTS, shouldDisableEndpoint } from "./schedule";
import { destinationRefusal, disableEndpoint, type HttpDeps, logAttempt, nextAttempt, payloadOf, refusedReason, sendSigned } from "./send";

/**
 * Delivery: each endpoint reads the organization's feed in order from its `cursor`, one event at a
 * time, and moves the cursor on only once the event was accepted (a 2xx) or every attempt failed.
 * So an endpoint receives its events in the feed's order, each at least once: a crash between an
 * accepted attempt and the cursor's move sends the same event again, with the same `webhook-id`
 * (the event's id), which is the receiver's key to drop the duplicate. While an event's attempts
 * fail, the events after it wait (order over speed): the schedule gives up after about a day.
 * Endpoints are served side by side: one that is slow or failing holds up only its own events.
 *
 * Before each attempt the endpoint is read again: one deleted or disabled meanwhile is not called
 * (at most the attempt already in flight completes), nor one whose URL the policy now refuses
 * (it is disabled, and the feed says why).
 *
 * One dispatcher runs per organization at a time (the WebhookDispatcher Durable Object, whose
 * alarm calls this), so the endpoint documents are only written here and by their owners' calls
 * (delete, rotate, redeliver), which touch other fields.
 */

/** At most this many attempts per endpoint per run: a long backlog goes on in the next run, at once. */
const ATTEMPTS_PER_RUN = 25;
/**
 * Nor does an endpoint start an attempt this many attempt timeouts into a run: a run ends within
 * about three timeouts, so an event for a healthy endpoint never waits long behind a slow
 * sibling's run (the next run starts at once).
 */
const RUN_TIMEOUTS = 2;

const hooks = (deps: Deps) => deps.data.collection<WebhookDoc>(WEBHOOKS);

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
  const stopAt = Date.now() + RUN_TIMEOUTS * deps.settings.webhooks.timeoutMs;
  const wakes = await Promise.all(endpoints.map((hook) => drain(deps, http, hook, stopAt)));
  let wake: Date | null = null;
  for (const next of wakes) if (next && (!wake || next < wake)) wake = next;
  return { wake, gone: false };
};

const eventAt = (deps: Deps, orgId: ObjectId, seq: number) => deps.data.collection<EventDoc>(EVENTS).findOne({ org_id: orgId, seq });

/**
 * One attempt of an event at an endpoint read again just before it: null when it was not called
 * (deleted or disabled meanwhile, or its URL refused now, which disables it).
 */
const attemptAt = async (
  deps: Deps,
  http: HttpDeps,
  hook: WebhookDoc,
  event: EventDoc,
  attempt: { number: number; manual: boolean },
): Promise<{ hook: WebhookDoc; result: DeliveryResult } | null> => {
  const current = await hooks(deps).findOne({ _id: hook._id, status: "enabled", deleted: { $exists: false } });
  if (!current) return null;
  const refusal = destinationRefusal(deps, current.url);
  if (refusal) {
    await disableEndpoint(deps, current, refusedReason(refusal));
    return null;
  }
  const at = deps.now();
  const result = await sendSigned(deps, http, current, { id: event.id, body: payloadOf(event) });
  await logAttempt(deps, current, event, { ...attempt, at }, result);
  return { hook: current, result };
};

/** Serves one endpoint; null when it stops (caught up, gone or disabled), else when to come back. */
const drain = async (deps: Deps, http: HttpDeps, start: WebhookDoc, stopAt: number): Promise<Date | null> => {
  let hook: WebhookDoc | null = start;
  for (let sent = 0; sent < ATTEMPTS_PER_RUN && Date.now() < stopAt; ) {
    const now = deps.now();
    // Redeliveries asked for by hand go first, once each, outside the schedule.
    const again = hook.redeliver?.[0];
    if (again !== undefined) {
      const event = await eventAt(deps, hook.org_id, again);
      if (event && !(await attemptAt(deps, http, hook, event, { number: 1, manual: true }))) return null;
      sent++;
      hook = await hooks(deps).findOneAndUpdate(
        { _id: hook._id, status: "enabled", deleted: { $exists: false } },
        { $pull: { redeliver: again } },
        { returnNewDocument: true },
      );
      if (!hook) return null;
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
      if (!hook) return null;
      continue;
    }
    if (hook.events && !hook.events.includes(event.type)) {
      hook = await moveOn(deps, hook, event.seq, {});
      if (!hook) return null;
      continue;
    }
    const attempt = (hook.retry?.attempts ?? 0) + 1;
    const made = await attemptAt(deps, http, hook, event, { number: attempt, manual: false });
    if (!made) return null;
    const { result } = made;
    hook = made.hook;
    sent++;
    if (result.ok) {
      hook = await moveOn(deps, hook, event.seq, { $set: { "health.consecutive_exhausted": 0 }, $unset: { "health.failing_since": "" } });
      if (!hook) return null;
      continue;
    }
    const failingSince = hook.health.failing_since ?? now;
    const retryAt = attempt < MAX_ATTEMPTS ? nextAttempt(deps, attempt, now) : null;
    if (retryAt && result.status !== 410) {
      hook = await updated(deps, hook, { $set: { retry: { seq: event.seq, attempts: attempt, next_at: retryAt }, "health.failing_since": failingSince } });
      if (!hook) return null;
      continue;
    }
    // Given up on this event (or told to stop: 410 Gone): the endpoint moves on, or is disabled.
    const exhausted = hook.health.consecutive_exhausted + 1;
    const health = { consecutiveExhausted: exhausted, failingSince, lastStatus: result.status };
    if (shouldDisableEndpoint(health, now)) {
      await disableEndpoint(deps, hook, result.status === 410 ? "the endpoint answered 410 Gone" : "every delivery failed for days", event.seq);
      return null;
    }
    hook = await moveOn(deps, hook, event.seq, { $set: { "health.consecutive_exhausted": exhausted, "health.failing_since": failingSince } });
    if (!hook) return null;
  }
  return deps.now();
};

/**
 * The endpoint updated where this run left it; null when the update matched nothing: the endpoint
 * was deleted or disabled meanwhile, and this run stops serving it (never goes on from a stale copy).
 */
const updated = (deps: Deps, hook: WebhookDoc, update: Record<string, unknown>): Promise<WebhookDoc | null> =>
  hooks(deps).findOneAndUpdate({ _id: hook._id, cursor: hook.cursor, status: "enabled", deleted: { $exists: false } }, update, { returnNewDocument: true });

/** The cursor past `seq`, the retry over. */
const moveOn = (deps: Deps, hook: WebhookDoc, seq: number, more: { $set?: Record<string, unknown>; $unset?: Record<string, ""> }) =>
  updated(deps, hook, { $set: { cursor: seq, ...more.$set }, $unset: { retry: "", ...more.$unset } });
