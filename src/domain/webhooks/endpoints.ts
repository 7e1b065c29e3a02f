import { ObjectId } from "bson";
import type { IndexSpec } from "../../dataapi/engine";
import { type CarriedEvent, carriedEventOperation } from "../events/carried";
import type { Deps, EndpointSecrets } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { actorOf, newEvent } from "../kernel/event";
import { readOrganization, whyRefused } from "../kernel/guard";
import { acquireWriteLease } from "../kernel/leases";
import type { EventType } from "../kernel/model";
import { runForRequest } from "../kernel/operation";
import type { Caller } from "../kernel/principal";
import { insertInSlot, SLOT_INDEX } from "../kernel/slots";
import { checkEndpointUrl, redactedUrl } from "./endpoint-url";
import { generateSecret, rotate } from "./signature";

/**
 * An organization's webhook endpoints (`webhooks` in the master database): where its events are
 * pushed, signed as the Standard Webhooks specification says (signature.ts). Each endpoint keeps
 * its place in the organization's feed (`cursor`, the number of the last event handed over), so
 * delivery is the feed read in order, one endpoint at a time (dispatch.ts).
 */
export const WEBHOOKS = "webhooks";
export const WEBHOOK_DELIVERIES = "webhook_deliveries";

/** How long the delivery log keeps an attempt. */
export const DELIVERY_RETENTION_DAYS = 30;
/** Endpoints per organization. */
export const MAX_WEBHOOKS = 10;

export interface WebhookHealth {
  /** Events in a row whose every attempt failed, since the last accepted delivery. */
  consecutive_exhausted: number;
  /** The first failed attempt since the last accepted delivery. */
  failing_since?: Date;
}

export interface WebhookDoc {
  [key: string]: unknown;
  _id: ObjectId;
  org_id: ObjectId;
  url: string;
  /** The event types delivered; absent: all of them. */
  events?: EventType[];
  secrets: EndpointSecrets;
  status: "enabled" | "disabled";
  disabled_reason?: string;
  created_at: Date;
  /** The feed number of the last event handed over (accepted, given up on, or not subscribed to). */
  cursor: number;
  /** The event being delivered while its attempts fail. */
  retry?: { seq: number; attempts: number; next_at: Date };
  /** Events asked for again (their feed numbers), each delivered once more ahead of the feed. */
  redeliver?: number[];
  health: WebhookHealth;
  /** Which of the organization's MAX_WEBHOOKS places it holds (slots.ts): the limit, kept by a unique index. */
  slot?: string;
  /** Deleted: refused from then on, and removed once its event is relayed. */
  deleted?: true;
  carried?: CarriedEvent[];
}

export const WEBHOOK_INDEXES: IndexSpec[] = [{ key: { org_id: 1 }, name: "org_id" }, SLOT_INDEX];

export interface DeliveryDoc {
  [key: string]: unknown;
  _id: ObjectId;
  org_id: ObjectId;
  webhook_id: ObjectId;
  event_id: string;
  event_type: string;
  seq: number | null;
  attempt: number;
  manual?: true;
  at: Date;
  ok: boolean;
  status: number | null;
  latency_ms: number;
  error?: string;
  response_excerpt?: string;
}

export const DELIVERY_INDEXES: IndexSpec[] = [
  { key: { webhook_id: 1, _id: -1 }, name: "webhook_recent" },
  { key: { at: 1 }, name: "at_ttl", expireAfterSeconds: DELIVERY_RETENTION_DAYS * 86_400 },
];

export interface WebhookView {
  id: string;
  url: string;
  events: EventType[] | null;
  status: "enabled" | "disabled";
  disabled_reason: string | null;
  created_at: string;
  /** Until when the secret a rotation replaced still signs, both signatures sent meanwhile. */
  previous_secret_expires_at: string | null;
}

export const webhookView = (doc: WebhookDoc, now: Date): WebhookView => ({
  id: doc._id.toHexString(),
  url: doc.url,
  events: doc.events ?? null,
  status: doc.status,
  disabled_reason: doc.disabled_reason ?? null,
  created_at: doc.created_at.toISOString(),
  previous_secret_expires_at: doc.secrets.previous && doc.secrets.previous.expiresAt > now ? doc.secrets.previous.expiresAt.toISOString() : null,
});

const hooks = (deps: Deps, deadline?: Date) => deps.data.collection<WebhookDoc>(WEBHOOKS, deadline ? { deadline } : undefined);

/** A registration carries its `webhook.created`, cleared after the answer. */
export const createWebhookOperation = carriedEventOperation({ kind: "webhook.create", collection: WEBHOOKS, type: "webhook.created", clearAfterAnswer: true });

/** A deletion marks the endpoint (nothing more is delivered to it) with its `webhook.deleted`; the endpoint goes once that is relayed. */
export const deleteWebhookOperation = carriedEventOperation({
  kind: "webhook.delete",
  collection: WEBHOOKS,
  type: "webhook.deleted",
  removes: { deleted: true },
});

/**
 * Registers an endpoint; answers it with its signing secret, shown only here. Under a write lease
 * (a delete waits for it, so no endpoint outlives its organization), which also marks the
 * organization as having webhooks (its publisher then wakes the dispatcher) and reads where its
 * feed stands: the endpoint receives the events recorded after it.
 */
export const createWebhook = async (deps: Deps, principal: Caller, input: { url: string; events?: EventType[] }) => {
  const checked = checkEndpointUrl(input.url, { allowHttpLoopback: deps.settings.webhooks.allowHttpLoopback });
  if (!checked.ok) throw new AppError("WEBHOOK_URL_REFUSED");
  const lease = await acquireWriteLease(deps, principal, { set: { has_webhooks: true }, fields: { event_seq: 1, outbox: 1 } });
  if (!lease) throw await whyRefused(deps, principal);
  try {
    const leased = hooks(deps, lease.until);
    const now = deps.now();
    const secret = generateSecret();
    const id = new ObjectId();
    const created: CarriedEvent = {
      org_ids: [lease.org._id],
      event: newEvent(
        "webhook.created",
        actorOf(principal),
        { webhook_id: id.toHexString(), url: redactedUrl(checked.url), events: input.events ?? null },
        now,
      ),
    };
    const doc: WebhookDoc = {
      _id: id,
      org_id: lease.org._id,
      url: checked.url,
      ...(input.events ? { events: input.events } : {}),
      secrets: { current: secret },
      status: "enabled",
      created_at: now,
      // Events already recorded (published or waiting in the outbox) came before it; its own `webhook.created` is its first.
      cursor: (lease.org.event_seq ?? 0) + (lease.org.outbox?.length ?? 0),
      health: { consecutive_exhausted: 0 },
    };
    // A deleted endpoint keeps its slot until its document is removed, as it counted before.
    const placed = await insertInSlot(leased, { ...doc, carried: [created] }, MAX_WEBHOOKS, { readFirst: true });
    if (placed === "full") throw new AppError("WEBHOOK_LIMIT");
    if (placed !== "inserted") throw new AppError("ORGANIZATION_BUSY");
    await runForRequest(createWebhookOperation, deps, { carrier: id, carried: created });
    return { ...webhookView(doc, now), secret };
  } finally {
    lease.release();
  }
};

export const listWebhooks = async (deps: Deps, principal: Caller): Promise<{ webhooks: WebhookView[] }> => {
  await readOrganization(deps, principal, { _id: 1 });
  // Uncapped: every live endpoint is shown, including any an older version let past the limit.
  const docs = await hooks(deps).find({ org_id: principal.orgId, deleted: { $exists: false } }, { sort: { _id: 1 } });
  const now = deps.now();
  return { webhooks: docs.map((doc) => webhookView(doc, now)) };
};

/** Deletes an endpoint: marked (nothing more is delivered to it) with its event, relayed, then removed. */
export const deleteWebhook = async (deps: Deps, principal: Caller, id: ObjectId): Promise<void> => {
  const lease = await acquireWriteLease(deps, principal);
  if (!lease) throw await whyRefused(deps, principal);
  try {
    const leased = hooks(deps, lease.until);
    const deleted: CarriedEvent = {
      org_ids: [lease.org._id],
      event: newEvent("webhook.deleted", actorOf(principal), { webhook_id: id.toHexString() }, deps.now()),
    };
    const marked = await leased.findOneAndUpdate(
      { _id: id, org_id: lease.org._id, deleted: { $exists: false } },
      { $set: { deleted: true, status: "disabled" }, $push: { carried: deleted } },
    );
    if (!marked) throw new AppError("WEBHOOK_NOT_FOUND");
    await runForRequest(deleteWebhookOperation, deps, { carrier: id, carried: deleted });
    deps.background((background) => background.data.collection(WEBHOOK_DELIVERIES).deleteMany({ webhook_id: id }));
  } finally {
    lease.release();
  }
};

/** A new signing secret, answered once; the one it replaces keeps signing for a day (both signatures sent). */
export const rotateWebhookSecret = async (deps: Deps, principal: Caller, id: ObjectId) => {
  // A change to the organization's data, as a create or delete of an endpoint: under a write lease.
  const lease = await acquireWriteLease(deps, principal);
  if (!lease) throw await whyRefused(deps, principal);
  try {
    const leased = hooks(deps, lease.until);
    const now = deps.now();
    const found = await leased.findOne({ _id: id, org_id: lease.org._id, deleted: { $exists: false } });
    if (!found) throw new AppError("WEBHOOK_NOT_FOUND");
    const secret = generateSecret();
    const updated = await leased.findOneAndUpdate(
      { _id: id, "secrets.current": found.secrets.current, deleted: { $exists: false } },
      { $set: { secrets: rotate(found.secrets, secret, now) } },
      { returnNewDocument: true },
    );
    // Rotated by another request meanwhile: this one's secret was never stored, so it is not answered.
    if (!updated) throw new AppError("ORGANIZATION_BUSY");
    return { ...webhookView(updated, now), secret };
  } finally {
    lease.release();
  }
};

/** A webhook of the caller's organization, readable by them. */
export const ownWebhook = async (deps: Deps, principal: Caller, id: ObjectId): Promise<WebhookDoc> => {
  await readOrganization(deps, principal, { _id: 1 });
  const found = await hooks(deps).findOne({ _id: id, org_id: principal.orgId, deleted: { $exists: false } });
  if (!found) throw new AppError("WEBHOOK_NOT_FOUND");
  return found;
};

export interface DeliveryView {
  id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  manual: boolean;
  at: string;
  status: "succeeded" | "failed";
  response_status: number | null;
  latency_ms: number;
  error: string | null;
}

export const deliveryView = (doc: DeliveryDoc): DeliveryView => ({
  id: doc._id.toHexString(),
  event_id: doc.event_id,
  event_type: doc.event_type,
  attempt: doc.attempt,
  manual: doc.manual === true,
  at: doc.at.toISOString(),
  status: doc.ok ? "succeeded" : "failed",
  response_status: doc.status,
  latency_ms: doc.latency_ms,
  error: doc.error ?? null,
});

/** The endpoint's delivery log, newest first, a page at a time (cursor: the last delivery's id). */
export const listDeliveries = async (deps: Deps, principal: Caller, id: ObjectId, page: { limit: number; before?: ObjectId }) => {
  const hook = await ownWebhook(deps, principal, id);
  const docs = await deps.data
    .collection<DeliveryDoc>(WEBHOOK_DELIVERIES)
    .find({ webhook_id: hook._id, ...(page.before ? { _id: { $lt: page.before } } : {}) }, { sort: { _id: -1 }, limit: page.limit + 1 });
  const shown = docs.slice(0, page.limit);
  return { deliveries: shown.map(deliveryView), next_cursor: docs.length > page.limit ? (shown.at(-1)?._id.toHexString() ?? null) : null };
};

/** Asks for an event to be delivered to the endpoint once more, ahead of the feed; answers at once (the dispatcher sends it). */
export const redeliver = async (deps: Deps, principal: Caller, id: ObjectId, deliveryId: ObjectId): Promise<void> => {
  const hook = await ownWebhook(deps, principal, id);
  const delivery = await deps.data.collection<DeliveryDoc>(WEBHOOK_DELIVERIES).findOne({ _id: deliveryId, webhook_id: hook._id });
  if (!delivery || delivery.seq === null) throw new AppError("DELIVERY_NOT_FOUND");
  if (hook.status !== "enabled") throw new AppError("WEBHOOK_DISABLED");
  await hooks(deps).updateOne({ _id: hook._id, deleted: { $exists: false } }, { $addToSet: { redeliver: delivery.seq } });
};
