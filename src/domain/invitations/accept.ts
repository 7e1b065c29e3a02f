import { ObjectId } from "bson";
import { type Account, type AccountDoc, attemptKey, hasAccount, joinAccount, leaveAccounts, openAccount, USERS } from "../accounts/accounts";
import { hashPassword } from "../accounts/passwords";
import { checkAccountPassword, tokenFor } from "../auth/auth";
import { publishLater } from "../events/outbox";
import { ADMITS_CALLERS, admitsCallers } from "../kernel/admission";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { newEvent, userActor, withEvents } from "../kernel/event";
import { freshTokenVersion, type MemberRecord, memberOf, memberPath, type OrganizationDoc } from "../kernel/model";
import { isCurrent, type Principal } from "../kernel/principal";
import { invitersOf } from "../kernel/roles";
import { INVITATIONS, type InvitationDoc, inviterHoldsAuthority, tokenHash } from "./invitations";

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
  const hash = await tokenHash(input.token);
  const invitation = await invitations(deps).findOne({ token_hash: hash });
  const now = deps.now();
  if (!invitation || invitation.claim || invitation.revoked || invitation.expires_at <= now) throw new AppError("INVITATION_INVALID");
  const { key, account } = await acceptingAccount(deps, invitation, input, principal);
  if (!account && (input.password === undefined || input.password.length < 8)) throw new AppError("NEW_ACCOUNT_PASSWORD");
  const userId = account?.user_id ?? new ObjectId();
  const password_hash = account ? undefined : await hashPassword(input.password as string, deps.settings.pbkdf2Iterations);
  const claimed = await invitations(deps).findOneAndUpdate(
    { _id: invitation._id, claim: { $exists: false }, revoked: { $exists: false }, expires_at: { $gt: now } },
    { $set: { claim: { user_id: userId, at: now, new_account: !account, ...(password_hash ? { password_hash } : {}) } } },
    { returnNewDocument: true },
  );
  if (!claimed) throw new AppError("INVITATION_INVALID");
  const org = await finishAccept(deps, claimed, key);
  // Joined before a suspension (an earlier attempt of this accept): the membership stands, but no token is issued.
  if (!admitsCallers(org)) throw new AppError("ORGANIZATION_SUSPENDED");
  const member = memberOf(org, userId) as MemberRecord;
  deps.background((later) => later.data.collection(USERS).updateOne({ user_id: userId }, { $unset: { joining_at: "" } }));
  return { access_token: await tokenFor(deps, org, member), token_type: "bearer" as const, org };
};

/**
 * The steps after the claim, shared with the reconciler; each repeats harmlessly. The account
 * first (so it never vanishes while it belongs somewhere), then the membership, then the invitation.
 */
export const finishAccept = async (deps: Deps, claimed: InvitationDoc, key?: string): Promise<OrganizationDoc> => {
  const claim = claimed.claim;
  if (!claim) throw new AppError("INVITATION_INVALID");
  const accountKey = key ?? (await attemptKey(claimed.email_key));
  let joined: Account | null = null;
  if (claim.new_account && claim.password_hash) {
    const opened = await openAccount(deps, accountKey, {
      user_id: claim.user_id,
      email: claimed.email,
      password_hash: claim.password_hash,
      org_id: claimed.org_id,
    });
    // Taken meanwhile: by this very claim on an earlier attempt (then join), or by someone else.
    joined = opened ? null : await joinAccount(deps, claim.user_id, claimed.org_id);
    if (!opened && !joined) return abandonAccept(deps, claimed, "ACCOUNT_EXISTS");
  } else {
    joined = await joinAccount(deps, claim.user_id, claimed.org_id);
    // The account closed meanwhile (its last membership ended): the invitation stays, to accept again as a new account.
    if (!joined) return abandonAccept(deps, claimed, "ORGANIZATION_BUSY");
  }
  const member: MemberRecord = {
    user_id: claim.user_id,
    email: claimed.email,
    email_key: claimed.email_key,
    role: claimed.role,
    token_version: freshTokenVersion(),
    joined_at: claim.at,
  };
  const path = memberPath(claim.user_id);
  const at = deps.now();
  const joinedEvent = newEvent(
    "member.joined",
    userActor({ userId: claim.user_id }),
    { user_id: claim.user_id.toHexString(), email: claimed.email, role: claimed.role, invitation_id: claimed._id.toHexString() },
    at,
  );
  // The inviter is checked in the same update that adds the member: still a member whose role may
  // invite this role now. A removal or demotion of the inviter, even one racing the invitation's
  // create, leaves the invitation unusable, and no sweep at removal could miss one.
  let org = await deps.organizations.findOneAndUpdate(
    {
      _id: claimed.org_id,
      status: "active",
      ...ADMITS_CALLERS,
      [path]: { $exists: false },
      [memberPath(claimed.invited_by, "role")]: { $in: invitersOf(claimed.role) },
    },
    withEvents({ $set: { [path]: member, updated_at: at }, $inc: { owner_count: claimed.role === "owner" ? 1 : 0 } }, joinedEvent),
    { returnNewDocument: true },
  );
  if (org) publishLater(deps, org._id);
  if (!org) {
    // Already a member (an earlier attempt of this accept got that far), or why not.
    const now = await deps.organizations.findOne({ _id: claimed.org_id });
    if (now && memberOf(now, claim.user_id)) org = now;
    // The inviter lost the authority to invite: the invitation is dead, answered as any used one.
    else if (now && !inviterHoldsAuthority(now, claimed)) return abandonAccept(deps, claimed, "INVITATION_INVALID");
    // Suspended: nobody joins meanwhile; the invitation is pending again, to accept once reactivated.
    else if (now && now.status !== "deleting" && !admitsCallers(now)) return abandonAccept(deps, claimed, "ORGANIZATION_SUSPENDED");
    else if (now && now.status !== "deleting") return abandonAccept(deps, claimed, "ORGANIZATION_BUSY");
    else return abandonAccept(deps, claimed, "INVITATION_INVALID");
  }
  // Before the answer, never after: a claim left behind would be finished again by the reconciler, re-adding a member removed since.
  await invitations(deps).deleteOne({ _id: claimed._id });
  return org;
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
