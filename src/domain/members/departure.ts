import type { ObjectId } from "bson";
import { leaveAccounts } from "../accounts/accounts";
import { INVITATIONS } from "../invitations/invitations";
import type { Departure } from "../kernel/model";
import { defineOperation } from "../kernel/operation";

/** A membership ending: the organization, the departure it recorded, and whether it ever had invitations. */
export interface Leaving {
  orgId: ObjectId;
  departure: Departure;
  /** Without invitations there are no claims to drop (one call saved for the many that never invite). */
  hasInvitations: boolean;
}

/**
 * A removal or a leave: one guarded update takes the member off the organization and records a
 * departure (the marker) with the event; then the account drops the organization (closing it if it
 * was the last), and the departure goes.
 */
export const endMembershipOperation = defineOperation<Leaving>({
  kind: "membership.end",
  marker: "a departure on the organization (`departures[]`)",
  abandoned: async (deps, olderThan, limit) => {
    const leaving = await deps.organizations.find({ "departures.at": { $lt: olderThan } }, { limit, projection: { departures: 1 } });
    return leaving.flatMap((org) =>
      (org.departures ?? []).filter((departure) => departure.at < olderThan).map((departure) => ({ orgId: org._id, departure, hasInvitations: true })),
    );
  },
  steps: [
    {
      name: "leave the account",
      run: async (deps, { orgId, departure, hasInvitations }) => {
        const userId = departure.user_id;
        await Promise.all([
          leaveAccounts(deps, [userId], orgId),
          // An accept of theirs that a crash interrupted goes too: finished later, it would bring back
          // the member just removed. Only claims from before the departure: a later one is an invitation accepted anew.
          hasInvitations
            ? deps.data.collection(INVITATIONS).deleteMany({ org_id: orgId, "claim.user_id": userId, "claim.at": { $lt: departure.at } })
            : undefined,
        ]);
      },
    },
    {
      name: "clear the departure",
      afterAnswer: true,
      // Field for field: FerretDB pulls by equal value, not by a condition on the element.
      run: (deps, { orgId, departure }) =>
        deps.organizations.updateOne({ _id: orgId }, { $pull: { departures: { user_id: departure.user_id, at: departure.at } } }),
    },
  ],
});
