import type { ObjectId } from "bson";
import { DuplicateKeyError } from "../../data/errors";
import type { IndexSpec } from "../../dataapi/engine";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import type { EventState } from "../kernel/event";
import { readOrganization } from "../kernel/guard";
import { acquireEventLease } from "../kernel/leases";
import type { Actor, EventType, OutboxEvent } from "../kernel/model";
import { ORGANIZATIONS, type OrganizationDoc } from "../kernel/model";
import { defineOperation, runSteps } from "../kernel/operation";
import type { Caller } from "../kernel/principal";

/**
 * An organization's events: a transactional outbox on its own document, published to a feed.
 *
 * 1. A change to an organization (it activates, is renamed, a member joins, …) pushes its event
 *    onto the document's `outbox` in the same single-document update that makes the change. So an
 *    event exists if and only if its change happened: a crash can neither lose nor invent one,
 *    and an update whose guard fails pushes nothing. An event's id is made before the update, so
 *    a step repeated by the reconciler cannot record it twice (the update's guard refuses).
 * 2. Publishing moves a prefix of the outbox into the `events` collection, numbering it on from
 *    the document's `event_seq`: position in the outbox decides the number, so two publishers of
 *    one outbox write identical documents, and the document's update (guarded by `event_seq`)
 *    takes the published events off the outbox and advances the count at once. Publishing runs
 *    after the answer and, for anything a crash left, from the reconciler.
 * 3. The feed reads the document (outbox and count in one snapshot), then the collection up to
 *    that count: an event is in one or the other throughout, so every page lists each event
 *    once, in the order their changes were made.
 *
 * Publishing holds a lease (kernel/leases.ts), so a delete, which drains leases before it
 * removes the organization's events, never leaves an event behind.
 */
export const EVENTS = "events";

/**
 * A published event: its number in the organization's feed beside it. One change can report to
 * several organizations under one event id (a password change, to each of the account's), so the
 * document's key is the pair.
 */
export interface EventDoc extends Omit<OutboxEvent, "id"> {
  [key: string]: unknown;
  _id: string;
  id: string;
  org_id: ObjectId;
  seq: number;
}

export const eventKey = (orgId: ObjectId, id: string): string => `${orgId.toHexString()}:${id}`;

/** How long the feed keeps an event (its outbox keeps it until published, whatever its age). */
export const EVENT_RETENTION_DAYS = 30;

export const EVENT_INDEXES: IndexSpec[] = [
  { key: { org_id: 1, seq: 1 }, name: "org_seq", unique: true },
  { key: { at: 1 }, name: "at_ttl", expireAfterSeconds: EVENT_RETENTION_DAYS * 86_400 },
];

/** The outbox events with the numbers they take when published. */
const numbered = (org: EventState): (OutboxEvent & { seq: number })[] =>
  (org.outbox ?? []).map((event, i) => ({ ...event, seq: (org.event_seq ?? 0) + i + 1 }));

export const eventsOf = (deps: Deps, deadline?: Date) => deps.data.collection<EventDoc>(EVENTS, deadline ? { deadline } : undefined);

/**
 * Publishes the organization's outbox, if it has one (a no-op otherwise: one read-free update that
 * matches nothing). Repeats harmlessly: see the module's note.
 */
export const publishEvents = async (deps: Deps, orgId: ObjectId): Promise<number> => {
  let published = 0;
  // Bounded, whatever happens: what is left waits for the next publish or the reconciler.
  for (let step = 0; step < 20; step++) {
    const count = await publishBatch(deps, orgId);
    published += count;
    if (count < PUBLISH_BATCH) break;
  }
  return published;
};

/** Events published per step: within one insert's bound, and a long outbox (after an outage of the publisher) drains in steps. */
const PUBLISH_BATCH = 100;

const publishBatch = async (deps: Deps, orgId: ObjectId): Promise<number> => {
  const lease = await acquireEventLease(deps, orgId);
  if (!lease) return 0;
  const { org } = lease;
  try {
    const base = org.event_seq ?? 0;
    const outbox = (org.outbox ?? []).slice(0, PUBLISH_BATCH);
    const docs: EventDoc[] = numbered({ ...org, outbox }).map((event) => ({ ...event, _id: eventKey(orgId, event.id), org_id: orgId }));
    const events = eventsOf(deps, lease.until);
    try {
      await events.insertMany(docs);
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
      // Another publisher of the same outbox got some in first: its documents are these, field for field.
      for (const doc of docs) await events.updateOne({ _id: doc._id }, { $setOnInsert: doc }, { upsert: true });
    }
    // The outbox's published prefix goes, element by element (FerretDB pulls by equal value).
    const { matchedCount } = await deps.organizations.updateOne(
      { _id: orgId, event_seq: base === 0 ? { $in: [null, 0] } : base },
      { $pullAll: { outbox }, $set: { event_seq: base + docs.length }, $unset: lease.unset },
    );
    if (matchedCount > 0) {
      if (org.has_webhooks) deps.wakeWebhooks?.(orgId);
      return docs.length;
    }
    // Another publisher moved the count on: it took these off the outbox; the caller's loop goes on from there.
    lease.release();
    return PUBLISH_BATCH;
  } catch (error) {
    lease.release();
    throw error;
  }
};

/**
 * Publishing: the organization's outbox holding events is the marker, and the one step moves them
 * to the feed. Requests publish after the answer; the reconciler publishes every outbox waiting
 * now, not only those whose publisher died: failed logins are published only here (auth/auth.ts).
 */
export const publishOperation = defineOperation<Pick<OrganizationDoc, "_id">>({
  kind: "events.publish",
  marker: "the organization, events in its `outbox`",
  abandoned: (deps, olderThan, limit) => {
    const waitingSince = new Date(Math.max(olderThan.getTime(), deps.now().getTime()));
    return deps.organizations.find({ status: "active", "outbox.0.at": { $lt: waitingSince } }, { limit, projection: { _id: 1 } });
  },
  steps: [{ name: "publish", run: (deps, org) => publishEvents(deps, org._id) }],
});

/** Publishes after the answer: the change's caller waits for nothing. */
export const publishLater = (deps: Deps, orgId: ObjectId): void => deps.background((after) => runSteps(publishOperation, after, { _id: orgId }));

export interface EventView {
  id: string;
  type: EventType;
  created_at: string;
  cursor: string;
  organization_id: string;
  actor: Actor;
  data: Record<string, unknown>;
}

export const eventView = (orgId: ObjectId, event: { id: string; seq: number } & Omit<OutboxEvent, "id">): EventView => ({
  id: event.id,
  type: event.type,
  created_at: event.at.toISOString(),
  cursor: String(event.seq),
  organization_id: orgId.toHexString(),
  actor: event.actor,
  data: event.data,
});

export interface EventPage {
  events: EventView[];
  /** Where the next page starts: after the last event listed, or after every event so far. */
  next_cursor: string;
  has_more: boolean;
}

/** The caller's organization's feed: one read of its document (the authorisation), then the published events it needs. */
export const organizationEvents = async (deps: Deps, principal: Caller, page: { after?: number; limit: number; types?: EventType[] }): Promise<EventPage> => {
  const org = await readOrganization(deps, principal, { outbox: 1, event_seq: 1 });
  const listed = await listEvents(deps, org, { ...page, after: page.after ?? 0 });
  if (!listed) throw new AppError("EVENT_CURSOR_INVALID");
  return listed;
};

/**
 * A page of the organization's events after `after` (0: from the first kept), in order. `org` is
 * the document the caller's authorisation read: its outbox and count are the snapshot the page is
 * cut from. A cursor past every event yet recorded is refused (null): no client was given one.
 */
export const listEvents = async (deps: Deps, org: EventState, page: { after: number; limit: number; types?: EventType[] }): Promise<EventPage | null> => {
  const base = org.event_seq ?? 0;
  const pending = numbered(org);
  const last = base + pending.length;
  if (page.after > last) return null;
  const typeFilter = page.types ? { type: { $in: page.types } } : {};
  const published =
    page.after < base
      ? await eventsOf(deps).find({ org_id: org._id, seq: { $gt: page.after, $lte: base }, ...typeFilter }, { sort: { seq: 1 }, limit: page.limit + 1 })
      : [];
  const listed = [...published, ...pending.filter((event) => event.seq > page.after && (!page.types || page.types.includes(event.type)))];
  const shown = listed.slice(0, page.limit);
  const has_more = listed.length > page.limit;
  const tail = shown.at(-1);
  return {
    events: shown.map((event) => eventView(org._id, event)),
    next_cursor: String(has_more && tail ? tail.seq : last),
    has_more,
  };
};

/** Pushes events made just now (no organization can have them) onto the organizations' outboxes, in one update, and publishes them after the answer. */
export const pushFresh = async (deps: Deps, orgIds: ObjectId[], events: OutboxEvent[], deadline?: Date): Promise<void> => {
  await pushUnpublished(deps, orgIds, events, deadline);
  publishAllLater(deps, orgIds);
};

/**
 * The same update without the publish: the events wait in the outboxes (listed by the feed at
 * once) for the organization's next publish or the minute cron's (the reconciler's `events.publish`). No
 * organization matches when `orgIds` is empty; the update is made all the same.
 */
export const pushUnpublished = async (deps: Deps, orgIds: ObjectId[], events: OutboxEvent[], deadline?: Date): Promise<void> => {
  const organizations = deadline ? deps.data.collection<OrganizationDoc>(ORGANIZATIONS, { deadline }) : deps.organizations;
  await organizations.updateMany({ _id: { $in: orgIds }, status: { $ne: "deleting" } }, { $push: { outbox: { $each: events } } });
};

/** Publishes each organization's outbox after the answer. */
export const publishAllLater = (deps: Deps, orgIds: ObjectId[]): void => {
  for (const orgId of orgIds) publishLater(deps, orgId);
};
