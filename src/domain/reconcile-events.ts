import { type AccountDoc, USERS } from "./accounts";
import { relayCarefully, relayCutoff } from "./events";
import { INVITATIONS, type InvitationDoc } from "./invitations";
import type { Deps } from "./organization";
import { WEBHOOKS, type WebhookDoc } from "./webhooks/endpoints";

const BATCH = 100;

/**
 * Relays the events a request carried on an invitation, a webhook endpoint or an account but did not
 * relay before it stopped (events.ts, "carried"), once no request can still be relaying them; then
 * clears them, and removes a revoked invitation or a deleted endpoint. Answers how many events it relayed.
 */
export const relayLeftovers = async (deps: Deps, olderThan: Date): Promise<number> => {
  const cutoff = relayCutoff(deps, olderThan);
  const waiting = { "carried.event.at": { $lt: cutoff } };
  let relayed = 0;
  const invitations = deps.data.collection<InvitationDoc>(INVITATIONS);
  for (const doc of await invitations.find(waiting, { limit: BATCH })) {
    const due = (doc.carried ?? []).filter((carried) => carried.event.at < cutoff);
    for (const carried of due) await relayCarefully(deps, carried);
    relayed += due.length;
    if (doc.revoked) await invitations.deleteOne({ _id: doc._id, revoked: true });
    else await invitations.updateOne({ _id: doc._id }, { $pullAll: { carried: due } });
  }
  const endpoints = deps.data.collection<WebhookDoc>(WEBHOOKS);
  for (const doc of await endpoints.find(waiting, { limit: BATCH })) {
    const due = (doc.carried ?? []).filter((carried) => carried.event.at < cutoff);
    for (const carried of due) await relayCarefully(deps, carried);
    relayed += due.length;
    if (doc.deleted) await endpoints.deleteOne({ _id: doc._id, deleted: true });
    else await endpoints.updateOne({ _id: doc._id }, { $pullAll: { carried: due } });
  }
  const accounts = deps.data.collection<AccountDoc>(USERS);
  for (const doc of await accounts.find(waiting, { limit: BATCH })) {
    const due = (doc.carried ?? []).filter((carried) => carried.event.at < cutoff);
    for (const carried of due) await relayCarefully(deps, carried);
    relayed += due.length;
    await accounts.updateOne({ _id: doc._id }, { $pullAll: { carried: due } });
  }
  return relayed;
};
