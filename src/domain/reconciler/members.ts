import { type AccountDoc, leaveAccounts, USERS } from "../accounts/accounts";
import { finishAccept } from "../invitations/accept";
import { INVITATIONS, type InvitationDoc } from "../invitations/invitations";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { memberOf } from "../kernel/model";
import { finishDeparture } from "../members/members";

export interface MembershipReport {
  /** Accepted invitations whose later steps a crash interrupted, finished (or undone when the organization went). */
  accepts: number;
  /** Removals whose account step a crash interrupted, finished. */
  departures: number;
  /** Accounts that listed an organization they never joined (a create or accept that died), pruned. */
  accounts: number;
}

const BATCH = 100;

/**
 * The membership steps a crash can leave half-done, settled with the same idempotent steps as
 * the requests, for records older than `olderThan`: departures first (they also drop an accept of
 * the departed member that a crash interrupted, which finished later would bring them back), then
 * claimed invitations (finishing one may confirm an account's join), then accounts still joining.
 */
export const reconcileMemberships = async (deps: Deps, olderThan: Date): Promise<MembershipReport> => {
  const report: MembershipReport = { accepts: 0, departures: 0, accounts: 0 };
  const leaving = await deps.organizations.find({ "departures.at": { $lt: olderThan } }, { limit: BATCH, projection: { departures: 1 } });
  for (const org of leaving) {
    for (const departure of org.departures ?? []) {
      if (departure.at >= olderThan) continue;
      await finishDeparture(deps, org._id, departure, true);
      report.departures++;
    }
  }
  const claimed = await deps.data.collection<InvitationDoc>(INVITATIONS).find({ "claim.at": { $lt: olderThan } }, { limit: BATCH });
  for (const invitation of claimed) {
    try {
      await finishAccept(deps, invitation);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
    }
    report.accepts++;
  }
  const users = deps.data.collection<AccountDoc>(USERS);
  const joining = await users.find({ joining_at: { $lt: olderThan } }, { limit: BATCH });
  for (const account of joining) {
    if (!account.user_id) continue;
    const userId = account.user_id;
    const orgs = await deps.organizations.find({ _id: { $in: account.org_ids ?? [] } }, { projection: { members: 1, status: 1 } });
    // A `creating` organization is the org reconciler's to finish or undo; every other one lists its members.
    const stray = (account.org_ids ?? []).filter((id) => {
      const org = orgs.find((o) => o._id.equals(id));
      return !org || (org.status !== "creating" && !memberOf(org, userId));
    });
    for (const orgId of stray) await leaveAccounts(deps, [userId], orgId);
    await users.updateOne({ _id: account._id, joining_at: account.joining_at }, { $unset: { joining_at: "" } });
    report.accounts++;
  }
  return report;
};
