import type { Collection } from "../../data/client";
import type { Doc } from "../../dataapi/engine";
import { type AccountDoc, USERS } from "../accounts/accounts";
import { type CarriedEvent, relayCarefully, relayCutoff } from "../events/outbox";
import { INVITATIONS, type InvitationDoc } from "../invitations/invitations";
import type { Deps } from "../kernel/deps";
import { WEBHOOKS, type WebhookDoc } from "../webhooks/endpoints";

const BATCH = 100;

type Carrier = Doc & { _id: unknown; carried?: CarriedEvent[] };

/** Relays what the documents of one collection carry past `cutoff`, then `settle`s each (clears it, or removes it). */
const relayFrom = async <T extends Carrier>(
  deps: Deps,
  carriers: Collection<T>,
  cutoff: Date,
  /** Whether the document goes once relayed (a revoked invitation, a deleted endpoint). */
  goes: (doc: T) => boolean,
): Promise<number> => {
  let relayed = 0;
  for (const doc of await carriers.find({ "carried.event.at": { $lt: cutoff } }, { limit: BATCH })) {
    const due = (doc.carried ?? []).filter((carried) => carried.event.at < cutoff);
    for (const carried of due) await relayCarefully(deps, carried);
    relayed += due.length;
    if (goes(doc)) await carriers.deleteOne({ _id: doc._id });
    else await carriers.updateOne({ _id: doc._id }, { $pullAll: { carried: due } });
  }
  return relayed;
};

/**
 * Relays the events a request carried on an invitation, a webhook endpoint or an account but did not
 * relay before it stopped (events.ts, "carried"), once no request can still be relaying them; then
 * clears them, and removes a revoked invitation or a deleted endpoint. Answers how many events it relayed.
 */
export const relayLeftovers = async (deps: Deps, olderThan: Date): Promise<number> => {
  const cutoff = relayCutoff(deps, olderThan);
  const counts = [
    await relayFrom(deps, deps.data.collection<InvitationDoc>(INVITATIONS), cutoff, (doc) => doc.revoked === true),
    await relayFrom(deps, deps.data.collection<WebhookDoc>(WEBHOOKS), cutoff, (doc) => doc.deleted === true),
    await relayFrom(deps, deps.data.collection<AccountDoc>(USERS), cutoff, () => false),
  ];
  return counts.reduce((sum, n) => sum + n, 0);
};
