import type { ObjectId } from "bson";
import type { Doc } from "../../dataapi/engine";
import type { Deps } from "../kernel/deps";
import { CLOCK_SKEW_MS } from "../kernel/leases";
import type { EventType, OutboxEvent } from "../kernel/model";
import { defineOperation, type Operation } from "../kernel/operation";
import { eventKey, eventsOf, publishAllLater, pushFresh } from "./outbox";

/**
 * An event whose change is made on another document than the organization's (an invitation, a
 * webhook endpoint, an account): it is carried on that document, in the same write as the change,
 * and relayed from there to each organization's outbox (the same id in each), then cleared. The
 * request relays it before answering, so whatever the client does next comes after it in the
 * feed; after a crash the reconciler relays what was left.
 */
export interface CarriedEvent {
  org_ids: ObjectId[];
  event: OutboxEvent;
}

/**
 * How long a request may take to relay what it carried: its relay carries this deadline to the
 * store (which refuses to begin it later), and the reconciler relays only events older than this
 * and the clock skew, so the two never both push one event.
 */
export const RELAY_WINDOW_MS = 30_000;

/** The request's relay: the event is new, so no organization can have it yet; one update for all of them. */
export const relayNew = async (deps: Deps, carried: CarriedEvent): Promise<void> => {
  const deadline = new Date(carried.event.at.getTime() + RELAY_WINDOW_MS);
  await pushFresh(deps, carried.org_ids, [carried.event], deadline);
};

/** Which carried events the reconciler relays: those no request can still be relaying. */
const relayCutoff = (deps: Deps, olderThan: Date): Date => new Date(Math.min(olderThan.getTime(), deps.now().getTime() - RELAY_WINDOW_MS - CLOCK_SKEW_MS));

/**
 * The reconciler's relay of an event a request may or may not have relayed before it stopped.
 * Pushed only if the organization has it neither in its outbox nor published; the push is guarded
 * by the published count read before looking, so a publisher moving it out of the outbox meanwhile
 * makes the push miss, and the next look finds it published.
 */
const relayIfMissing = async (deps: Deps, carried: CarriedEvent): Promise<void> => {
  for (const orgId of carried.org_ids) {
    for (let attempt = 0; attempt < 5; attempt++) {
      const org = await deps.organizations.findOne({ _id: orgId }, { projection: { event_seq: 1, outbox: 1, status: 1 } });
      if (!org || org.status === "deleting" || (org.outbox ?? []).some((e) => e.id === carried.event.id)) break;
      if (await eventsOf(deps).findOne({ _id: eventKey(orgId, carried.event.id) }, { projection: { _id: 1 } })) break;
      const seq = org.event_seq ?? 0;
      const { matchedCount } = await deps.organizations.updateOne(
        { _id: orgId, event_seq: seq === 0 ? { $in: [null, 0] } : seq, "outbox.id": { $ne: carried.event.id } },
        { $push: { outbox: carried.event } },
      );
      if (matchedCount > 0) break;
    }
  }
  publishAllLater(deps, carried.org_ids);
};

/** The marker of a carried event: the document carrying it, and the event. */
export interface Carrying {
  carrier: unknown;
  carried: CarriedEvent;
}

type Carrier = Doc & { _id: unknown; carried?: CarriedEvent[] };

/**
 * Declares the operation of a change that carries its event on a document of `collection`: relay
 * the event, then clear it. `removes`: the change ends the document (a revoke, an endpoint's
 * deletion), which goes once its event is relayed; its filter names the mark it must still bear.
 * `clearAfterAnswer`: the request clears after answering (the document stays, so nothing waits on it).
 */
export const carriedEventOperation = (declaration: {
  kind: string;
  collection: string;
  type: EventType;
  removes?: Record<string, unknown>;
  clearAfterAnswer?: true;
}): Operation<Carrying> => {
  const { kind, collection, type, removes } = declaration;
  const carriers = (deps: Deps) => deps.data.collection<Carrier>(collection);
  return defineOperation<Carrying>({
    kind,
    marker: `the document in \`${collection}\` carrying its \`${type}\` event`,
    abandoned: async (deps, olderThan, limit) => {
      const cutoff = relayCutoff(deps, olderThan);
      const docs = await carriers(deps).find({ "carried.event.type": type, "carried.event.at": { $lt: cutoff } }, { limit, projection: { carried: 1 } });
      return docs.flatMap((doc) =>
        (doc.carried ?? []).filter(({ event }) => event.type === type && event.at < cutoff).map((carried) => ({ carrier: doc._id, carried })),
      );
    },
    steps: [
      { name: "relay", run: (deps, { carried }) => relayIfMissing(deps, carried), onRequest: (deps, { carried }) => relayNew(deps, carried) },
      {
        name: removes ? "remove the carrier" : "clear",
        run: (deps, { carrier, carried }) =>
          removes ? carriers(deps).deleteOne({ _id: carrier, ...removes }) : carriers(deps).updateOne({ _id: carrier }, { $pullAll: { carried: [carried] } }),
        ...(declaration.clearAfterAnswer ? { afterAnswer: true as const } : {}),
      },
    ],
  });
};
