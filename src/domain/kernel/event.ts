import { ObjectId } from "bson";
import { type Actor, EVENT_TYPES, type EventType, type OrganizationDoc, type OutboxEvent } from "./model";
import { type Caller, isApiKey, type Principal } from "./principal";

/**
 * What an event is, as a change records it on its organization's document (the outbox,
 * src/domain/events/outbox.ts publishes it to the feed).
 */
export const isEventType = (value: string): value is EventType => (EVENT_TYPES as readonly string[]).includes(value);

export const userActor = (principal: Pick<Principal, "userId">): Actor => ({ type: "user", id: principal.userId.toHexString() });

/** Who a change is recorded as made by: the member, or the key (never its secret). */
export const actorOf = (caller: Caller): Actor => (isApiKey(caller) ? { type: "api_key", id: caller.keyId } : userActor(caller));

export const newEvent = (type: EventType, actor: Actor, data: Record<string, unknown>, at: Date): OutboxEvent => ({
  id: `evt_${new ObjectId().toHexString()}`,
  type,
  at,
  actor,
  data,
});

/** Adds the events to an update: `$push` onto the outbox, beside any other `$push` the update makes. */
export const withEvents = (update: Record<string, unknown>, ...events: OutboxEvent[]): Record<string, unknown> => {
  if (events.length === 0) return update;
  const push = (update.$push ?? {}) as Record<string, unknown>;
  return { ...update, $push: { ...push, outbox: { $each: events } } };
};

/** The organization document's share of events: what the feed and the publisher read. */
export type EventState = Pick<OrganizationDoc, "_id" | "outbox" | "event_seq" | "has_webhooks">;
