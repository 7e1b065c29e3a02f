import { ObjectId } from "bson";
import { DuplicateKeyError } from "../data/errors";
import type { IndexSpec } from "../dataapi/engine";
import { type Account, type AccountDoc, attemptKey, hasAccount, joinAccount, leaveAccounts, openAccount, USERS } from "./accounts";
import { ADMITS_CALLERS, admitsCallers } from "./admission";
import { checkAccountPassword, currentToken, isCurrent, type Principal, tokenFor } from "./auth";
import { AppError } from "./errors";
import { type CarriedEvent, newEvent, publishLater, relay, userActor, withEvents } from "./events";
import { type Deps, freshTokenVersion, type MemberRecord, memberOf, memberPath, normalizeEmail, type OrganizationDoc } from "./organization";
import { hashPassword } from "./passwords";
import { mayAssign, type Role } from "./roles";
import { acquireWriteLease } from "./write-leases";

/**
 * Invitations, in the master database's `invitations` collection: one pending per e-mail and
 * organization (a unique index), its token stored only as a SHA-256. Accepting claims the
 * invitation first (one atomic update: of two accepts of one token, one wins), then takes the
 * account, then the membership, then removes the invitation; the claim is the record the
 * reconciler finishes from after a crash.
 */
export const INVITATIONS = "invitations";

export interface InvitationDoc {
  [key: string]: unknown;
  _id: ObjectId;
  org_id: ObjectId;
  email: string;
  email_key: string;
  role: Role;
  token_hash: string;
  expires_at: Date;
  created_at: Date;
  invited_by: ObjectId;
  /** Set by the accept that won: who joins, and for a new account its hash. */
  claim?: { user_id: ObjectId; at: Date; password_hash?: string; new_account: boolean };
  /** Revoked: refused from then on, and removed once its event is relayed. */
  revoked?: true;
  /** Events of this invitation's changes not yet relayed to the organization (events.ts). */
  carried?: CarriedEvent[];
}

export const INVITATION_INDEXES: IndexSpec[] = [
  { key: { token_hash: 1 }, name: "token_hash_unique", unique: true },
  { key: { org_id: 1, email_key: 1 }, name: "org_email_unique", unique: true },
];

export interface InvitationView {
  id: string;
  email: string;
  role: Role;
  expires_at: string;
  created_at: string;
}

const viewOf = (doc: InvitationDoc): InvitationView => ({
  id: doc._id.toHexString(),
  email: doc.email,
  role: doc.role,
  expires_at: doc.expires_at.toISOString(),
  created_at: doc.created_at.toISOString(),
});

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

const tokenHash = async (token: string): Promise<string> => hex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))));

const newToken = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
};

const invitations = (deps: Deps) => deps.data.collection<InvitationDoc>(INVITATIONS);

const ownOrganization = async (deps: Deps, principal: Principal): Promise<OrganizationDoc> => {
  const org = await deps.organizations.findOne({ _id: principal.orgId, status: { $in: ["active", "renaming"] }, ...currentToken(principal) });
  if (!org) throw new AppError("INVALID_TOKEN");
  if (!admitsCallers(org)) throw new AppError("ORGANIZATION_SUSPENDED");
  return org;
};

/**
 * Invites an e-mail with a role. The organization is read in the same guarded step that checks the
 * caller (and that the e-mail is not a member yet); an expired invitation for the same e-mail is
 * replaced. Answers the token once: only its hash is stored.
 */
export const createInvitation = async (deps: Deps, principal: Principal, input: { email: string; role: Role }) => {
  if (!mayAssign(principal.role, undefined, input.role)) throw new AppError("PERMISSION_DENIED");
  // Under a write lease, like a record write: a delete waits for it, so no invitation outlives its organization.
  const lease = await acquireWriteLease(deps, principal, { set: { has_invitations: true }, members: true });
  if (!lease) throw await refusalOf(deps, principal);
  try {
    const email_key = normalizeEmail(input.email);
    if (Object.values(lease.org.members ?? {}).some((m) => m.email_key === email_key)) throw new AppError("ALREADY_MEMBER");
    const now = deps.now();
    const token = newToken();
    const doc: InvitationDoc = {
      _id: new ObjectId(),
      org_id: lease.org._id,
      email: input.email,
      email_key,
      role: input.role,
      token_hash: await tokenHash(token),
      expires_at: new Date(now.getTime() + deps.settings.invitationTtlSeconds * 1000),
      created_at: now,
      invited_by: principal.userId,
    };
    const fenced = deps.data.collection<InvitationDoc>(INVITATIONS, { deadline: lease.until });
    const created = (id: ObjectId): CarriedEvent => ({
      org_ids: [lease.org._id],
      event: newEvent(
        "invitation.created",
        userActor(principal),
        { invitation_id: id.toHexString(), email: input.email, role: input.role, expires_at: doc.expires_at.toISOString() },
        now,
      ),
    });
    let answer: InvitationDoc;
    let event = created(doc._id);
    try {
      await fenced.insertOne({ ...doc, carried: [event] });
      answer = doc;
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
      const { _id: _new, ...fresh } = doc;
      // An expired invitation for the same e-mail gives way to the new one (keeping any event it still carries).
      const expired = await fenced.findOne({
        org_id: lease.org._id,
        email_key,
        expires_at: { $lte: now },
        claim: { $exists: false },
        revoked: { $exists: false },
      });
      if (!expired) throw new AppError("INVITATION_EXISTS");
      event = created(expired._id);
      const replaced = await fenced.findOneAndUpdate(
        { _id: expired._id, expires_at: { $lte: now }, claim: { $exists: false }, revoked: { $exists: false } },
        { $set: fresh, $push: { carried: event } },
        { returnNewDocument: true },
      );
      if (!replaced) throw new AppError("INVITATION_EXISTS");
      answer = replaced;
    }
    await relay(deps, event);
    deps.background((later) => later.data.collection(INVITATIONS).updateOne({ _id: answer._id }, { $pullAll: { carried: [event] } }));
    return { ...viewOf(answer), token };
  } finally {
    lease.release();
  }
};

/** Why a lease was refused: a stale token, a suspended organization, or one mid-operation. */
const refusalOf = async (deps: Deps, principal: Principal): Promise<AppError> => {
  const org = await deps.organizations.findOne({ _id: principal.orgId }, { projection: { status: 1, members: 1, suspended: 1 } });
  if (!org || !isCurrent(org, principal) || org.status === "deleting") return new AppError("INVALID_TOKEN");
  return admitsCallers(org) ? new AppError("ORGANIZATION_BUSY") : new AppError("ORGANIZATION_SUSPENDED");
};

export const listInvitations = async (deps: Deps, principal: Principal): Promise<{ invitations: InvitationView[] }> => {
  const org = await ownOrganization(deps, principal);
  const docs = await invitations(deps).find(
    { org_id: org._id, expires_at: { $gt: deps.now() }, claim: { $exists: false }, revoked: { $exists: false } },
    { sort: { _id: 1 }, limit: 1000 },
  );
  return { invitations: docs.map(viewOf) };
};

/**
 * Revokes a pending invitation under a write lease, as a create is made: a suspension (or a delete)
 * waits for a revoke it did not refuse, so none lands after its answer.
 */
export const revokeInvitation = async (deps: Deps, principal: Principal, id: ObjectId): Promise<void> => {
  const lease = await acquireWriteLease(deps, principal);
  if (!lease) throw await refusalOf(deps, principal);
  try {
    const fenced = deps.data.collection<InvitationDoc>(INVITATIONS, { deadline: lease.until });
    const revoked: CarriedEvent = {
      org_ids: [lease.org._id],
      event: newEvent("invitation.revoked", userActor(principal), { invitation_id: id.toHexString() }, deps.now()),
    };
    // Marked (refused from now on) with its event, relayed, then removed: the reconciler finishes the last two.
    const marked = await fenced.findOneAndUpdate(
      { _id: id, org_id: lease.org._id, claim: { $exists: false }, revoked: { $exists: false } },
      { $set: { revoked: true }, $push: { carried: revoked } },
    );
    if (!marked) throw new AppError("INVITATION_NOT_FOUND");
    await relay(deps, revoked);
    await fenced.deleteOne({ _id: id, revoked: true });
  } finally {
    lease.release();
  }
};

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
  let org = await deps.organizations.findOneAndUpdate(
    { _id: claimed.org_id, status: "active", ...ADMITS_CALLERS, [path]: { $exists: false } },
    withEvents({ $set: { [path]: member, updated_at: at }, $inc: { owner_count: claimed.role === "owner" ? 1 : 0 } }, joinedEvent),
    { returnNewDocument: true },
  );
  if (org) publishLater(deps, org._id);
  if (!org) {
    // Already a member (an earlier attempt of this accept got that far), or why not.
    const now = await deps.organizations.findOne({ _id: claimed.org_id });
    if (now && memberOf(now, claim.user_id)) org = now;
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
