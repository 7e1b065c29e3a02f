import type { ObjectId } from "bson";
import { type Account, accountMailOperation, attemptKey, clearFailures, countFailure, type PriorFailures, USERS } from "../accounts/accounts";
import { lockedForMs } from "../accounts/lockout";
import { dummyHash, hashPassword, needsRehash, verifyPassword } from "../accounts/passwords";
import { type CarriedEvent, carriedEventOperation } from "../events/carried";
import { pushUnpublished } from "../events/outbox";
import { ADMITS_CALLERS, admitsCallers } from "../kernel/admission";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { newEvent, userActor } from "../kernel/event";
import { isReadable } from "../kernel/guard";
import { type MemberRecord, memberOf, memberPath, normalizeEmail, type OrganizationDoc, type OutboxEvent } from "../kernel/model";
import { runForRequest } from "../kernel/operation";
import { currentToken, type Principal } from "../kernel/principal";
import { slugify } from "../kernel/slug";
import { issueAccountToken, issueToken } from "../kernel/tokens";
import { carryMail } from "../mail/carried";
import { newMail, type QueuedMail } from "../mail/outbox";
import { passwordChangedMessage } from "../mail/templates";

const canLogIn = (org: Pick<OrganizationDoc, "status">): boolean => isReadable(org.status);

/** The fields of the organization signed in to that are read (see `organizationFor`). */
export type SignInOrganization = Pick<OrganizationDoc, "_id" | "organization_name" | "slug" | "status" | "suspended" | "members">;

export interface SignedIn {
  org: SignInOrganization;
  member: MemberRecord;
  account: Account;
}

/** Which organization a password check signs in to: the named one, else the only one; `orNone`: an account in none signs in as itself. */
type Choice = { slug?: string; orNone?: true };

/** An account that belongs to no organization (opened by sign-up), signed in as itself. */
export interface SignedInAccount {
  org?: undefined;
  account: Account;
}

/**
 * Reads the organization to sign in to, once the password is proven: a failed check reads none,
 * known e-mail or not. Only what signing in reads comes back, the account's own member of the
 * organization's members: the whole document grew with every member.
 */
const organizationFor = (deps: Deps, account: Account, choice: Choice): Promise<SignInOrganization | null | "several" | "none"> => {
  const [only, ...others] = account.org_ids;
  if (!only) return Promise.resolve("none");
  const projection = { organization_name: 1, slug: 1, status: 1, suspended: 1, [memberPath(account.user_id)]: 1 };
  // An account in one organization is the old contract's admin: its organization, whatever the name given (the caller says why not later).
  if (only && others.length === 0) return deps.organizations.findOne({ _id: only }, { projection });
  if (choice.slug !== undefined) return deps.organizations.findOne({ slug: choice.slug }, { projection });
  return Promise.resolve("several");
};

/**
 * Runs a password check's work up to its verdict. Any answer but a pass (locked, a wrong password,
 * a failing store) is given on the next multiple of `failureBeatMs` since the work began: what the
 * store does for an e-mail with an account and for one without differs a little (on FerretDB, one
 * step against two), and so does a hash of another cost; inside a beat none of it reaches the
 * caller's clock. A pass is not held: it tells nothing a right password does not.
 */
const refusedOnBeat = async <T>(deps: Deps, work: () => Promise<T>): Promise<T> => {
  const startedAt = deps.now().getTime();
  try {
    return await work();
  } catch (error) {
    const beat = deps.settings.failureBeatMs;
    if (beat > 0) await deps.sleep(beat - ((deps.now().getTime() - startedAt) % beat));
    throw error;
  }
};

/** What a check knows once its password is proven (or, for an e-mail without an account, once its attempt is counted). */
interface Counted<A extends Account | undefined> {
  key: string;
  before: PriorFailures;
  account: A;
}

/**
 * The steps every password check shares, in order: the per-client throttle, the attempt counted
 * against the e-mail's lockout, the lock, then the hash (a dummy one of the same cost without an
 * account), refusals on the beat. An e-mail without an account is `refused` like a wrong password,
 * or passed on when the caller `checked later` whether it may go on without one.
 */
function countedCheck(deps: Deps, emailKey: string, password: string, withoutAccount: "refused"): Promise<Counted<Account>>;
function countedCheck(deps: Deps, emailKey: string, password: string, withoutAccount: "checked later"): Promise<Counted<Account | undefined>>;
async function countedCheck(deps: Deps, emailKey: string, password: string, withoutAccount: "refused" | "checked later") {
  await deps.throttleCredentials?.();
  const key = await attemptKey(emailKey);
  return refusedOnBeat(deps, async () => {
    const before = await countFailure(deps, key);
    lockedOut(before, deps);
    const account = before.account;
    const valid = await verifyPassword(password, account?.password_hash ?? dummyHash(deps.settings.pbkdf2Iterations));
    if (account ? !valid : withoutAccount === "refused") throw failedCheck(deps, before);
    return { key, before, account };
  });
}

/**
 * The password check of login and of a rename authorised by password: `countedCheck`, so known and
 * unknown e-mails take the same path up to the answer of a failure (one round trip, a dummy hash
 * of the same cost for the unknown) and get the same answers, locked ones included, on the same
 * beat. The organization is read only for a right password: reading a real document for a known
 * e-mail and nothing for an unknown one took measurably different times.
 */
const checkPassword = async (deps: Deps, emailKey: string, password: string, choice: Choice): Promise<SignedIn | SignedInAccount> => {
  const { key, before, account } = await countedCheck(deps, emailKey, password, "refused");
  // Past this point the caller proved the password: what follows tells them nothing they could not see.
  const org = await organizationFor(deps, account, choice);
  if (org === "several" || org === "none") {
    deps.background((background) => afterSuccess(background, key, before.countedAt, account, password));
    if (org === "none" && choice.orNone && choice.slug === undefined) return { account };
    throw new AppError(org === "none" ? "INVALID_CREDENTIALS" : "ORGANIZATION_REQUIRED");
  }
  const member = org ? memberOf(org, account.user_id) : undefined;
  if (!org || !member || !canLogIn(org)) throw new AppError("INVALID_CREDENTIALS");
  // A right password ends the run of failures even when refused below, so a suspension never turns into a lockout.
  deps.background((background) => afterSuccess(background, key, before.countedAt, account, password));
  // Told only to whoever knows the password: the suspension is no oracle for a guesser.
  if (!admitsCallers(org)) throw new AppError("ORGANIZATION_SUSPENDED");
  return { org, member, account };
};

/**
 * The password check of an e-mail that may or may not have an account (accepting an invitation):
 * `countedCheck`, answering the account when the password is its own, nothing for an e-mail
 * without one.
 */
export const checkAccountPassword = async (deps: Deps, emailKey: string, password: string): Promise<Account | undefined> => {
  const { key, before, account } = await countedCheck(deps, normalizeEmail(emailKey), password, "checked later");
  deps.background((background) =>
    account ? afterSuccess(background, key, before.countedAt, account, password) : clearFailures(background, key, before.countedAt, "unknown"),
  );
  return account;
};

/**
 * A wrong password is reported to each organization of the account: `admin.login_failed`, and
 * `admin.locked` when this failure starts a lock. The report is written after the answer, and an
 * e-mail without an account makes the same one update then (matching nothing), so nothing a
 * known e-mail's report costs is in its answer's time. Publishing those events to the feed's
 * collection and to webhooks is left to the next publish of the organization or the minute cron
 * (events/outbox.ts): started here it would keep the store busy after a known e-mail's answer only,
 * which the next request would feel. Who typed the password is unknown: the actor is anonymous.
 */
const failedCheck = (deps: Deps, before: PriorFailures): AppError => {
  const account = before.account;
  const now = deps.now();
  const events: OutboxEvent[] = [];
  if (account) {
    const who = { user_id: account.user_id.toHexString(), email: account.email };
    events.push(newEvent("admin.login_failed", { type: "anonymous" }, who, now));
    const lockedMs = lockedForMs(before.failures + 1, now, now, deps.settings.lockoutThreshold);
    if (lockedMs > 0) events.push(newEvent("admin.locked", { type: "anonymous" }, { ...who, until: new Date(now.getTime() + lockedMs).toISOString() }, now));
  }
  deps.background((background) => pushUnpublished(background, account?.org_ids ?? [], events));
  return new AppError("INVALID_CREDENTIALS");
};

/** Ends the run of failures and, for an old or cheaper hash, rewrites it at the configured cost. */
const afterSuccess = async (deps: Deps, key: string, countedAt: Date, account: Account, password: string): Promise<void> => {
  await clearFailures(deps, key, countedAt, "an account");
  if (!needsRehash(account.password_hash, deps.settings.pbkdf2Iterations)) return;
  const rehashed = await hashPassword(password, deps.settings.pbkdf2Iterations);
  await deps.data.collection(USERS).updateOne({ _id: key, password_hash: account.password_hash }, { $set: { password_hash: rehashed } });
};

/** Checks a member's e-mail and password (login, renames authorised by password), for the named organization when the account has several. */
export const verifyCredentials = (deps: Deps, email: string, password: string, organizationName?: string): Promise<SignedIn> =>
  checkPassword(deps, normalizeEmail(email), password, organizationName === undefined ? {} : { slug: slugify(organizationName) }) as Promise<SignedIn>;

export const tokenFor = (
  deps: Deps,
  org: Pick<OrganizationDoc, "_id" | "organization_name">,
  member: MemberRecord,
  tokenVersion = member.token_version,
  emailVerified = false,
) =>
  issueToken(
    {
      userId: member.user_id.toHexString(),
      orgId: org._id.toHexString(),
      orgName: org.organization_name,
      tokenVersion,
      role: member.role,
      ...(member.roles ? { roles: member.roles } : {}),
      teams: Object.keys(member.teams ?? {}),
      emailVerified,
    },
    deps.settings.token,
    deps.now(),
  );

export interface TokenAnswer {
  access_token: string;
  token_type: "bearer";
}

/** The token of an account that belongs to no organization: it opens the account's own routes only (tokens.ts). */
export const accountTokenFor = async (deps: Deps, account: Account): Promise<TokenAnswer> => ({
  access_token: await issueAccountToken({ userId: account.user_id.toHexString(), tokenVersion: account.token_version ?? 0 }, deps.settings.token, deps.now()),
  token_type: "bearer",
});

/** Signs in: a member's token for their organization, or an account token for an account that belongs to none. */
export const login = async (deps: Deps, email: string, password: string, organizationName?: string): Promise<TokenAnswer & { org?: SignInOrganization }> => {
  const signed = await checkPassword(deps, normalizeEmail(email), password, {
    orNone: true,
    ...(organizationName === undefined ? {} : { slug: slugify(organizationName) }),
  });
  if (!signed.org) return accountTokenFor(deps, signed.account);
  const { org, member, account } = signed;
  if (organizationName !== undefined && org.slug !== slugify(organizationName)) throw new AppError("INVALID_CREDENTIALS");
  return { access_token: await tokenFor(deps, org, member, member.token_version, account.email_verified === true), token_type: "bearer", org };
};

/** A token for another organization of the signed-in user: the presented token must still be current. */
export const switchOrganization = async (deps: Deps, principal: Principal, organizationName: string): Promise<TokenAnswer & { org: OrganizationDoc }> => {
  const userKey = memberPath(principal.userId);
  const [own, target] = await Promise.all([
    deps.organizations.findOne({ _id: principal.orgId, ...currentToken(principal) }, { projection: { _id: 1, suspended: 1 } }),
    deps.organizations.findOne({ slug: slugify(organizationName), [userKey]: { $exists: true } }),
  ]);
  if (!own) throw new AppError("INVALID_TOKEN");
  // A suspended organization's token admits its member nowhere (logout aside), a switch away included.
  if (!admitsCallers(own)) throw new AppError("ORGANIZATION_SUSPENDED");
  const member = target ? memberOf(target, principal.userId) : undefined;
  if (!target || !member || !canLogIn(target)) throw new AppError("ORGANIZATION_NOT_FOUND");
  if (!admitsCallers(target)) throw new AppError("ORGANIZATION_SUSPENDED");
  return { access_token: await tokenFor(deps, target, member, member.token_version, principal.emailVerified), token_type: "bearer", org: target };
};

/** Revokes every token of the member for this organization issued so far, the presented one included. */
export const logout = async (deps: Deps, principal: Principal): Promise<void> => {
  const { matchedCount } = await deps.organizations.updateOne(
    { _id: principal.orgId, ...currentToken(principal) },
    { $inc: { [memberPath(principal.userId, "token_version")]: 1 } },
  );
  if (matchedCount === 0) throw new AppError("INVALID_TOKEN");
};

const lockedOut = (before: PriorFailures, deps: Deps): void => {
  const lockedMs = lockedForMs(before.failures, before.lastFailedAt, deps.now(), deps.settings.lockoutThreshold);
  if (lockedMs > 0) throw new AppError("ACCOUNT_LOCKED", undefined, lockedMs / 1000);
};

/** A password change carries its `admin.password_changed` on the account, relayed to each of its organizations, cleared after the answer. */
export const changePasswordOperation = carriedEventOperation({
  kind: "password.change",
  collection: USERS,
  type: "admin.password_changed",
  clearAfterAnswer: true,
});

/** Every token of the user in these organizations stops working (none: no call). */
export const revokeTokens = async (deps: Deps, userId: ObjectId, orgIds: ObjectId[]): Promise<void> => {
  if (orgIds.length > 0)
    await deps.organizations.updateMany(
      { _id: { $in: orgIds }, [memberPath(userId)]: { $exists: true } },
      { $inc: { [memberPath(userId, "token_version")]: 1 } },
    );
};

/** The notice that the holder's password changed (a change or a reset), carried in the change's write; null where mail does not leave. */
export const passwordChangedMail = (deps: Deps, email: string): QueuedMail | null =>
  newMail(deps, "password_changed", passwordChangedMessage(deps.settings.mail, { email }));

/**
 * Changes the user's password: the current one must be right (failures count toward the
 * lockout, shared with login), and every earlier token, in every organization of the account,
 * stops working. Tokens are revoked before the hash changes, so a crash in between leaves the
 * old password and no live token, never the new password beside old tokens. Answers a fresh token.
 */
export const changePassword = async (deps: Deps, principal: Principal, currentPassword: string, newPassword: string) => {
  const own = await deps.organizations.findOne({ _id: principal.orgId, ...currentToken(principal) });
  const member = own ? memberOf(own, principal.userId) : undefined;
  if (!own || !member) throw new AppError("INVALID_TOKEN");
  if (!admitsCallers(own)) throw new AppError("ORGANIZATION_SUSPENDED");
  await deps.throttleCredentials?.();
  // The lockout is the e-mail's, shared with login: the membership names the e-mail, so its key.
  const before = await countFailure(deps, await attemptKey(member.email_key));
  lockedOut(before, deps);
  const account = before.account;
  if (!account?.user_id.equals(principal.userId)) throw new AppError("INVALID_TOKEN");
  if (!(await verifyPassword(currentPassword, account.password_hash))) throw failedCheck(deps, before);
  const fresh = await hashPassword(newPassword, deps.settings.pbkdf2Iterations);
  const tv = memberPath(principal.userId, "token_version");
  const { matchedCount } = await deps.organizations.updateOne({ _id: own._id, ...currentToken(principal), ...ADMITS_CALLERS }, { $inc: { [tv]: 1 } });
  if (matchedCount === 0) throw new AppError("INVALID_TOKEN");
  await revokeTokens(
    deps,
    principal.userId,
    account.org_ids.filter((id) => !id.equals(own._id)),
  );
  // The event is carried on the account, in the same write as the new hash, then relayed to each
  // organization; the notice to the holder too, then queued for mail.
  const notice = passwordChangedMail(deps, account.email);
  const changed: CarriedEvent = {
    org_ids: account.org_ids,
    event: newEvent("admin.password_changed", userActor(principal), { user_id: principal.userId.toHexString() }, deps.now()),
  };
  const { matchedCount: changedCount } = await deps.data
    .collection(USERS)
    .updateOne(
      { user_id: principal.userId, password_hash: account.password_hash },
      { $set: { password_hash: fresh, failures: 0 }, $inc: { token_version: 1 }, $push: { carried: changed, ...carryMail(notice) } },
    );
  if (changedCount > 0) {
    await runForRequest(changePasswordOperation, deps, { carrier: account._id, carried: changed });
    if (notice) await runForRequest(accountMailOperation, deps, { carrier: account._id, mail: notice });
  }
  return {
    access_token: await tokenFor(deps, own, member, principal.tokenVersion + 1, account.email_verified === true),
    token_type: "bearer" as const,
    org: own,
  };
};
