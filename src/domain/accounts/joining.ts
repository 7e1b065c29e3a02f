import type { ObjectId } from "bson";
import type { Deps } from "../kernel/deps";
import { memberOf } from "../kernel/model";
import { defineOperation } from "../kernel/operation";
import { type AccountDoc, leaveAccounts, USERS } from "./accounts";

/** An account gaining an organization: who, and (from the reconciler) the account as it was found. */
export interface Joining {
  userId: ObjectId;
  account?: AccountDoc;
}

const users = (deps: Deps) => deps.data.collection<AccountDoc>(USERS);

/** The last step of an operation that made a membership: the account's join is confirmed, nothing left to prune. */
export const confirmJoin = (deps: Deps, userId: ObjectId) => users(deps).updateOne({ user_id: userId }, { $unset: { joining_at: "" } });

/**
 * An account lists an organization before the membership exists (a create or an accept takes the
 * e-mail first, so an account never vanishes while it belongs somewhere), and `joining_at` marks
 * that; the create or the accept confirms the join as its last step. An account still joining
 * after that is one whose operation died before its own marker was written (a create before its
 * insert, an accept before its claim): the reconciler drops the organizations it lists but never
 * joined, then confirms.
 */
export const joinOperation = defineOperation<Joining>({
  kind: "account.join",
  marker: "the account, `joining_at` set",
  abandoned: async (deps, olderThan, limit) => {
    const joining = await users(deps).find({ joining_at: { $lt: olderThan } }, { limit });
    return joining.flatMap((account) => (account.user_id ? [{ userId: account.user_id, account }] : []));
  },
  steps: [
    {
      name: "leave organizations never joined",
      run: async (deps, { userId, account }) => {
        const listed = account?.org_ids ?? [];
        const orgs = await deps.organizations.find({ _id: { $in: listed } }, { projection: { members: 1, status: 1 } });
        // A `creating` organization is its create's to finish or undo; every other one lists its members.
        // An organization a join by domain is adding is that join's to settle (domains/joining.ts).
        const stray = listed.filter((id) => {
          if (account?.domain_join?.org_id.equals(id)) return false;
          const org = orgs.find((o) => o._id.equals(id));
          return !org || (org.status !== "creating" && !memberOf(org, userId));
        });
        for (const orgId of stray) await leaveAccounts(deps, [userId], orgId);
      },
    },
    {
      name: "confirm",
      // Guarded by the mark as read: a join that began since is its own operation's to confirm.
      run: (deps, { userId, account }) => users(deps).updateOne({ user_id: userId, joining_at: account?.joining_at }, { $unset: { joining_at: "" } }),
    },
  ],
});
