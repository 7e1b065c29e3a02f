import { ObjectId } from "bson";
import { type Account, type AccountDoc, attemptKey, hasAccount, joinAccount, leaveAccounts, openAccount, USERS } from "../accounts/accounts";
import { confirmJoin } from "../accounts/joining";
import { hashPassword } from "../accounts/passwords";
import { checkAccountPassword, tokenFor } from "../auth/auth";
import { publishLater } from "../events/outbox";
import { ADMITS_CALLERS, admitsCallers } from "../kernel/admission";
import { hashSecret } from "../kernel/api-key-secret";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { newEvent, userActor, withEvents } from "../kernel/event";
import { freshTokenVersion, type MemberRecord, memberOf, memberPath, type OrganizationDoc } from "../kernel/model";
import { readIdSecret } from "../kernel/one-time-secret";
import { defineOperation, runForRequest } from "../kernel/operation";
import { isCurrent, type Principal } from "../kernel/principal";
import { invitersOf } from "../kernel/roles";
import { INVITATIONS, type InvitationDoc, mayFillTeam, mayInvite } from "./invitations";

/**
 * Accepting an invitation: the claim first (one atomic update: of two accepts of one token, one
 * wins), then the account, then the membership, then the invitation goes; the claim is the record
 * the reconciler finishes from after a crash.
 */
const invitations = (deps: Deps) => deps.data.collection<InvitationDoc>(INVITATIONS);

export interface AcceptInput {
  token: string;
  password?: string;
}

/**
 * Who accepts: an invitation for an e-mail that has an account needs that account's password or a
 * current bearer token of it, so the invitation's token alone never takes an account over; a new
 * e-mail needs a password, with the rules of a create.
 */
const acceptingAccount = async (deps: Deps, invitation: InvitationDoc, input: AcceptInput, principal?: Principal) => {
  const key = await attemptKey(invitation.email_key);
  if (principal) {
    const [account, own] = await Promise.all([
      deps.data.collection<AccountDoc>(USERS).findOne({ _id: key }),
      deps.organizations.findOne({ _id: principal.orgId }, { projection: { members: 1, suspended: 1 } }),
    ]);
    if (!hasAccount(account) || !account.user_id.equals(principal.userId) || !isCurrent(own, principal)) throw new AppError("INVALID_TOKEN");
    // The token of a suspended organization admits its member nowhere, accepting elsewhere included.
    if (own && !admitsCallers(own)) throw new AppError("ORGANIZATION_SUSPENDED");
    return { key, account: account as Account };
  }
  if (input.password === undefined) {
    // Without a password only a new e-mail could go on, and it needs one: say which is missing.
    const existing = await deps.data.collection<AccountDoc>(USERS).findOne({ _id: key }, { projection: { user_id: 1 } });
    throw new AppError(existing?.user_id ? "ACCOUNT_EXISTS" : "NEW_ACCOUNT_PASSWORD");
  }
  // The password is checked as a login checks it (throttle, lockout counted first) when the e-mail has an account.
  return { key, account: await checkAccountPassword(deps, invitation.email_key, input.password) };
};

/** Accepts an invitation; answers a token for its organization. */
export const acceptInvitation = async (deps: Deps, input: AcceptInput, principal?: Principal) => {
  // Token guesses count against the caller's address before any lookup, as password guesses do.
  await deps.throttleCredentials?.();
  // The mailed link names its invitation; the inviter's token is found by its hash.
  const mailed = await readIdSecret(input.token);
  const invitation = await invitations(deps).findOne(mailed ? { _id: mailed.id, mail_token_hash: mailed.hash } : { token_hash: await hashSecret(input.token) });
  const now = deps.now();
  if (!invitation || invitation.claim || invitation.revoked || invitation.expires_at <= now) throw new AppError("INVITATION_INVALID");
  const { key, account } = await acceptingAccount(deps, invitation, input, principal);
  if (!account && (input.password === undefined || input.password.length < 8)) throw new AppError("NEW_ACCOUNT_PASSWORD");
  const userId = account?.user_id ?? new ObjectId();
  const password_hash = account ? undefined : await hashPassword(input.password as string, deps.settings.pbkdf2Iterations);
  const claimed = await invitations(deps).findOneAndUpdate(
    { _id: invitation._id, claim: { $exists: false }, revoked: { $exists: false }, expires_at: { $gt: now } },
    {
      $set: {
        claim: { user_id: userId, at: now, new_account: !account, ...(password_hash ? { password_hash } : {}), ...(mailed ? { verified: true } : {}) },
      },
    },
    { returnNewDocument: true },
  );
  if (!claimed) throw new AppError("INVITATION_INVALID");
  const run: Accepting = { claimed, key };
  await runForRequest(acceptOperation, deps, run);
  const org = run.org as OrganizationDoc;
  // Joined before a suspension (an earlier attempt of this accept): the membership stands, but no token is issued.
  if (!admitsCallers(org)) throw new AppError("ORGANIZATION_SUSPENDED");
  const member = memberOf(org, userId) as MemberRecord;
  const verified = account?.email_verified === true || mailed !== null;
  return { access_token: await tokenFor(deps, org, member, member.token_version, verified), token_type: "bearer" as const, org };
};

/** An accept under way: the claimed invitation (the marker), and what the run learns. */
export interface Accepting {
  claimed: InvitationDoc;
  /** The e-mail's account key, when the request already worked it out. */
  key?: string;
  /** The organization joined, once the membership step ran. */
  org?: OrganizationDoc;
}

/**
 * After the claim: the account first (so it never vanishes while it belongs somewhere), then the
 * membership, then the invitation goes. A step that finds the accept cannot finish undoes it and
 * throws why (abandonAccept).
 */
export const acceptOperation = defineOperation<Accepting>({
  kind: "invitation.accept",
  marker: "the invitation, `claim` set",
  abandoned: async (deps, olderThan, limit) => (await invitations(deps).find({ "claim.at": { $lt: olderThan } }, { limit })).map((claimed) => ({ claimed })),
  steps: [
    {
      name: "open or join the account",
      run: async (deps, run) => {
        const { claimed } = run;
        const claim = claimOf(claimed);
        const accountKey = run.key ?? (await attemptKey(claimed.email_key));
        if (claim.new_account && claim.password_hash) {
          const opened = await openAccount(deps, accountKey, {
            user_id: claim.user_id,
            email: claimed.email,
            password_hash: claim.password_hash,
            org_id: claimed.org_id,
          });
          // Taken meanwhile: by this very claim on an earlier attempt (then join), or by someone else.
          if (!opened && !(await joinAccount(deps, claim.user_id, claimed.org_id))) return abandonAccept(deps, claimed, "ACCOUNT_EXISTS");
        } else if (!(await joinAccount(deps, claim.user_id, claimed.org_id))) {
          // The account closed meanwhile (its last membership ended): the invitation stays, to accept again as a new account.
          return abandonAccept(deps, claimed, "ORGANIZATION_BUSY");
        }
        // Accepted from the mailed link: the address is the accepter's.
        if (claim.verified)
          await deps.data.collection<AccountDoc>(USERS).updateOne({ _id: accountKey, user_id: claim.user_id }, { $set: { email_verified: true } });
      },
    },
    {
      name: "add the member",
      run: async (deps, run) => {
        run.org = await addMember(deps, run.claimed);
      },
    },
    {
      // Before the answer, never after: a claim left behind would be finished again by the reconciler, re-adding a member removed since.
      name: "remove the invitation",
      run: (deps, { claimed }) => invitations(deps).deleteOne({ _id: claimed._id }),
    },
    {
      name: "confirm the account's join",
      afterAnswer: true,
      run: (deps, { claimed }) => confirmJoin(deps, claimOf(claimed).user_id),
    },
  ],
});

const claimOf = (claimed: InvitationDoc) => {
  if (!claimed.claim) throw new AppError("INVITATION_INVALID");
  return claimed.claim;
};

/** How often a join decided on a read is tried again when the organization changed in between. */
const JOIN_ATTEMPTS = 6;

/** The update that adds the invitee, in the named teams as a plain member, with its events. */
const joinUpdate = (deps: Deps, claimed: InvitationDoc, teams: string[]) => {
  const claim = claimOf(claimed);
  const member: MemberRecord = {
    user_id: claim.user_id,
    email: claimed.email,
    email_key: claimed.email_key,
    role: claimed.role,
    token_version: freshTokenVersion(),
    joined_at: claim.at,
    ...(teams.length ? { teams: Object.fromEntries(teams.map((id) => [id, "member" as const])) } : {}),
  };
  const actor = userActor({ userId: claim.user_id });
  const at = deps.now();
  const user_id = claim.user_id.toHexString();
  const joined = newEvent(
    "member.joined",
    actor,
    { user_id, email: claimed.email, role: claimed.role, ...(teams.length ? { teams } : {}), invitation_id: claimed._id.toHexString() },
    at,
  );
  const added = teams.map((team_id) => newEvent("team.member_added", actor, { team_id, user_id, role: "member" }, at));
  return withEvents(
    {
      $set: { [memberPath(claim.user_id)]: member, updated_at: at },
      // Joining teams is a change of who is in them: a team change decided on an earlier read tries again.
      $inc: { owner_count: claimed.role === "owner" ? 1 : 0, ...(teams.length ? { teams_rev: 1 } : {}) },
    },
    joined,
    ...added,
  );
};

/** Where the invitee may join: the organization active, admitting callers, and they not in it yet. */
const joinable = (claimed: InvitationDoc) => ({
  _id: claimed.org_id,
  status: "active",
  ...ADMITS_CALLERS,
  [memberPath(claimOf(claimed).user_id)]: { $exists: false },
});

/**
 * The inviter is checked in the same update that adds the member: still a member who may invite
 * this role now. A removal or demotion of the inviter, even one racing the invitation's create,
 * leaves the invitation unusable, and no sweep at removal could miss one.
 *
 * An owner's or admin's invitation whose teams all still exist joins in one update, its guard the
 * inviter's role. Any other (an inviter whose `member:invite` comes from a role of the
 * organization's own, a team deleted meanwhile) is decided on a read and applied while the inviter,
 * the roles and the teams it keeps are as read: the invitee joins the named teams that are still
 * there and still the inviter's to fill.
 */
const addMember = async (deps: Deps, claimed: InvitationDoc): Promise<OrganizationDoc> => {
  const claim = claimOf(claimed);
  const teams = claimed.teams ?? [];
  const direct = await deps.organizations.findOneAndUpdate(
    {
      ...joinable(claimed),
      [memberPath(claimed.invited_by, "role")]: { $in: invitersOf(claimed.role) },
      ...Object.fromEntries(teams.map((id) => [`teams.${id}`, { $exists: true }])),
    },
    joinUpdate(deps, claimed, teams),
    { returnNewDocument: true },
  );
  if (direct) {
    publishLater(deps, direct._id);
    return direct;
  }
  for (let attempt = 0; attempt < JOIN_ATTEMPTS; attempt++) {
    const now = await deps.organizations.findOne({ _id: claimed.org_id });
    // Already a member (an earlier attempt of this accept got that far), or why not.
    if (now && memberOf(now, claim.user_id)) return now;
    const inviter = now && memberOf(now, claimed.invited_by);
    // The inviter lost the authority to invite: the invitation is dead, answered as any used one.
    if (!now || now.status === "deleting" || !inviter || !mayInvite(now, inviter, claimed.role)) return abandonAccept(deps, claimed, "INVITATION_INVALID");
    // Suspended: nobody joins meanwhile; the invitation is pending again, to accept once reactivated.
    if (!admitsCallers(now)) return abandonAccept(deps, claimed, "ORGANIZATION_SUSPENDED");
    if (now.status !== "active") return abandonAccept(deps, claimed, "ORGANIZATION_BUSY");
    const kept = teams.filter((id) => now.teams?.[id] && mayFillTeam(now, inviter, id));
    // Guarded by what the decision read, and no more: the teams kept (and a lead's standing in each),
    // not every team change, so parallel accepts into the same teams do not send each other back.
    const keptAsRead = Object.fromEntries(
      kept.flatMap((id) => [
        [`teams.${id}`, { $exists: true }],
        ...(inviter.teams?.[id] === "lead" ? [[`${memberPath(inviter.user_id, "teams")}.${id}`, "lead"]] : []),
      ]),
    );
    const org = await deps.organizations.findOneAndUpdate(
      {
        ...joinable(claimed),
        [memberPath(inviter.user_id, "token_version")]: inviter.token_version,
        roles_rev: now.roles_rev ?? { $exists: false },
        ...keptAsRead,
      },
      joinUpdate(deps, claimed, kept),
      { returnNewDocument: true },
    );
    if (org) {
      publishLater(deps, org._id);
      return org;
    }
  }
  return abandonAccept(deps, claimed, "ORGANIZATION_BUSY");
};

/**
 * Nothing of an accept that cannot finish stays: the organization went away (the invitation goes
 * too), it is suspended, or the account changed under it (an account took the e-mail, or the invitee's account
 * closed): the invitation is pending again, to accept as the account now stands.
 */
const abandonAccept = async (
  deps: Deps,
  claimed: InvitationDoc,
  code: "INVITATION_INVALID" | "ACCOUNT_EXISTS" | "ORGANIZATION_BUSY" | "ORGANIZATION_SUSPENDED",
): Promise<never> => {
  const claim = claimed.claim;
  if (claim) await leaveAccounts(deps, [claim.user_id], claimed.org_id);
  if (code === "INVITATION_INVALID") await invitations(deps).deleteOne({ _id: claimed._id });
  else await invitations(deps).updateOne({ _id: claimed._id }, { $unset: { claim: "" } });
  throw new AppError(code);
};
