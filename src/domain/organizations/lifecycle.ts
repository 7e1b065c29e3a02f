import { ObjectId } from "bson";
import { DuplicateKeyError } from "../../data/errors";
import { attemptKey, joinAccount, leaveAccounts, openAccount } from "../accounts/accounts";
import { hashPassword } from "../accounts/passwords";
import { verifyCredentials } from "../auth/auth";
import { publishLater } from "../events/outbox";
import { admitsCallers } from "../kernel/admission";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { userActor, withEvents } from "../kernel/event";
import { admission, READABLE_STATUSES, writable } from "../kernel/guard";
import {
  customRolesOf,
  freshTokenVersion,
  holds,
  type MemberRecord,
  memberOf,
  memberPath,
  normalizeEmail,
  type OrganizationDoc,
  type PendingOperation,
} from "../kernel/model";
import { runForRequest, runUndoingRefusal } from "../kernel/operation";
import { currentToken, isCurrent, type Principal, withPermission } from "../kernel/principal";
import { collectionNameFor, slugify } from "../kernel/slug";
import type { AccountClaims } from "../kernel/tokens";
import { startingRoles } from "../platform/role-templates";
import { createOperation, deleteOperation, markDeleting, renamedEvent, renameOperation } from "./operations";
import { type OrganizationView, viewOf } from "./view";

/**
 * Why a guarded update found nothing, worked out only on that (rare) path: the caller's token
 * is stale, the e-mail header names someone else, the organization is busy, someone else's, or absent.
 * Whatever the caller's organization's lifecycle: one being renamed or deleted is answered as busy
 * once the name is its own.
 */
const diagnose = async (deps: Deps, principal: Principal, slug: string, adminEmail?: string): Promise<AppError> => {
  const own = await deps.organizations.findOne({ _id: principal.orgId });
  const refused = admission(own, principal);
  if (!own || refused) return refused ?? new AppError("INVALID_TOKEN");
  if (adminEmail !== undefined && normalizeEmail(adminEmail) !== memberOf(own, principal.userId)?.email_key) return new AppError("ADMIN_EMAIL_MISMATCH");
  if (own.slug === slug) return new AppError("ORGANIZATION_BUSY");
  const target = await deps.organizations.findOne({ slug }, { projection: { _id: 1 } });
  return new AppError(target ? "FORBIDDEN" : "ORGANIZATION_NOT_FOUND");
};

export interface CreateInput {
  organization_name: string;
  email: string;
  password: string;
}

const creatorOf = (input: CreateInput | { organization_name: string }, signedIn?: Principal | AccountClaims): Creator => {
  if (signedIn && "orgId" in signedIn) return { kind: "member", principal: signedIn };
  if (signedIn) return { kind: "account", userId: signedIn.userId, tokenVersion: signedIn.tokenVersion };
  const { email, password } = input as CreateInput;
  return { kind: "new", email, password };
};

/** Who creates an organization: a new person (e-mail and password), or a signed-in user by token (a member's, or an account's of no organization). */
export type Creator =
  | { kind: "new"; email: string; password: string }
  | { kind: "member"; principal: Principal }
  | { kind: "account"; userId: string; tokenVersion: number };

const ownerEntry = (userId: ObjectId, email: string, now: Date): MemberRecord => ({
  user_id: userId,
  email,
  email_key: normalizeEmail(email),
  role: "owner",
  token_version: freshTokenVersion(),
  joined_at: now,
});

/** Takes the creator's account: a new one reserves the e-mail, an existing one gains the organization. */
const accountFor = async (deps: Deps, creator: Creator, orgId: ObjectId, slug: string): Promise<{ userId: ObjectId; email: string }> => {
  if (creator.kind === "member") {
    const { principal } = creator;
    const own = await deps.organizations.findOne({ _id: principal.orgId, ...currentToken(principal) }, { projection: { _id: 1, suspended: 1 } });
    // The token of a suspended organization admits its member nowhere, creating another organization included.
    if (own && !admitsCallers(own)) throw new AppError("ORGANIZATION_SUSPENDED");
    const account = own ? await joinAccount(deps, principal.userId, orgId) : null;
    if (!account) throw new AppError("INVALID_TOKEN");
    return { userId: account.user_id, email: account.email };
  }
  if (creator.kind === "account") {
    // An account token is current while its version is the account's (a password change raises it).
    const account =
      ObjectId.isValid(creator.userId) && creator.userId.length === 24
        ? await joinAccount(deps, ObjectId.createFromHexString(creator.userId), orgId, creator.tokenVersion)
        : null;
    if (!account) throw new AppError("INVALID_TOKEN");
    return { userId: account.user_id, email: account.email };
  }
  const userId = new ObjectId();
  const password_hash = await hashPassword(creator.password, deps.settings.pbkdf2Iterations);
  const key = await attemptKey(normalizeEmail(creator.email));
  if (!(await openAccount(deps, key, { user_id: userId, email: creator.email, password_hash, org_id: orgId }))) {
    // Both taken: the name is the conflict reported, as when one insert reserved both.
    const taken = await deps.organizations.findOne({ slug }, { projection: { _id: 1 } });
    throw new AppError(taken ? "ORGANIZATION_EXISTS" : "ADMIN_EMAIL_EXISTS");
  }
  return { userId, email: creator.email };
};

/**
 * Reserves the creator's e-mail (a new account) or adds the organization to their account, then
 * reserves name and collection name in one insert (status `creating`, the creator its owner),
 * creates the tenant collection, then activates. A crash in between leaves a `creating` record
 * the reconciler finishes, or an account joining an organization that never came, which it prunes.
 */
export const createOrganization = async (deps: Deps, input: CreateInput | { organization_name: string }, signedIn?: Principal | AccountClaims) => {
  const name = input.organization_name;
  const creator = creatorOf(input, signedIn);
  const slug = slugify(name);
  const collection_name = collectionNameFor(slug);
  const now = deps.now();
  const orgId = new ObjectId();
  // The platform's role templates are read beside the account's step, not after it: no wait of their own.
  const [{ userId, email }, roles] = await Promise.all([accountFor(deps, creator, orgId, slug), startingRoles(deps, now)]);
  const org: OrganizationDoc = {
    _id: orgId,
    organization_name: name,
    slug,
    collection_name,
    status: "creating",
    created_at: now,
    updated_at: now,
    members: { [userId.toHexString()]: ownerEntry(userId, email, now) },
    owner_count: 1,
    ...roles,
    pending: { op: "create", started_at: now },
  };
  try {
    await deps.organizations.insertOne(org);
  } catch (error) {
    if (!(error instanceof DuplicateKeyError)) throw error;
    await leaveAccounts(deps, [userId], orgId);
    throw new AppError("ORGANIZATION_EXISTS");
  }
  await runUndoingRefusal(createOperation, deps, org, "NAME_REFUSED_BY_STORE");
  return { organization_name: org.organization_name, collection_name, admin_email: email };
};

/**
 * What the view reads, and with a token the caller's own member and the role grants: the store
 * then types and copies those fields only, not every member (with 300, a read of the whole
 * document cost 2.6 to 2.8 times a new organization's).
 */
const VIEWED = { organization_name: 1, collection_name: 1, pending: 1, status: 1, suspended: 1, created_at: 1, updated_at: 1 } as const;

export const getOrganization = async (deps: Deps, name: string, principal?: Principal): Promise<OrganizationView> => {
  const projection = principal ? { ...VIEWED, role_grants: 1, [memberPath(principal.userId)]: 1 } : VIEWED;
  const org = await deps.organizations.findOne({ slug: slugify(name), status: { $in: READABLE_STATUSES } }, { projection });
  if (!org) throw new AppError("ORGANIZATION_NOT_FOUND");
  // The e-mail is shown to a current member who manages the organization: their own, as the old contract showed its admin's to its admin.
  const caller = principal?.orgId.equals(org._id) && isCurrent(org, principal) && admitsCallers(org) ? memberOf(org, principal.userId) : undefined;
  return viewOf(org, caller && holds(org, caller, "organization:update") ? caller.email : undefined);
};

export type Credentials = { kind: "password"; email: string; password: string; organizationName?: string } | { kind: "token"; principal: Principal };

export interface RenameInput {
  organization_name: string;
  new_organization_name: string;
}

const principalFor = async (deps: Deps, credentials: Credentials, slug: string): Promise<Principal> => {
  if (credentials.kind === "token") return credentials.principal;
  const { org, member } = await verifyCredentials(deps, credentials.email, credentials.password, credentials.organizationName ?? slug);
  const principal: Principal = {
    orgId: org._id,
    userId: member.user_id,
    tokenVersion: member.token_version,
    role: member.role,
    customRoles: customRolesOf(member),
  };
  if (org.slug !== slug) throw await diagnose(deps, principal, slug);
  // A password stands in for a token here, so the permission a route checks for tokens is checked here too.
  return withPermission(principal, "organization:update");
};

/**
 * Renames in four steps at most: authenticate (password only), reserve the new slug and mark
 * `renaming` in one guarded update (the unique index on `slug` reserves the new name, the unchanged
 * `collection_name` keeps the old one), move the collection, activate.
 */
export const renameOrganization = async (deps: Deps, input: RenameInput, credentials: Credentials): Promise<OrganizationView> => {
  const fromSlug = slugify(input.organization_name);
  const toSlug = slugify(input.new_organization_name);
  const principal = await principalFor(deps, credentials, fromSlug);
  const guard = { ...writable(principal), slug: fromSlug };
  const shownEmail = (org: OrganizationDoc) => memberOf(org, principal.userId)?.email;
  const now = deps.now();

  const from = collectionNameFor(fromSlug);
  const to = collectionNameFor(toSlug);
  const renamed = renamedEvent(userActor(principal), input.organization_name, input.new_organization_name, to, now);

  if (toSlug === fromSlug) {
    // Only the spelling changes (the slug, and so the collection, stay): one update, the event with it.
    const org = await deps.organizations.findOneAndUpdate(
      guard,
      withEvents({ $set: { organization_name: input.new_organization_name, updated_at: now } }, renamed),
      { returnNewDocument: true },
    );
    if (!org) throw await diagnose(deps, principal, fromSlug);
    publishLater(deps, org._id);
    return viewOf(org, shownEmail(org));
  }

  const pending: PendingOperation = {
    op: "rename",
    started_at: now,
    from_name: input.organization_name,
    from_slug: fromSlug,
    from_collection: from,
    to_collection: to,
    event: renamed,
  };
  let before: OrganizationDoc | null;
  try {
    before = await deps.organizations.findOneAndUpdate(guard, {
      $set: {
        organization_name: input.new_organization_name,
        slug: toSlug,
        status: "renaming",
        updated_at: now,
        pending,
      },
    });
  } catch (error) {
    if (error instanceof DuplicateKeyError) throw new AppError("ORGANIZATION_EXISTS");
    throw error;
  }
  if (!before) throw await diagnose(deps, principal, fromSlug);

  // The marker as stored, except that an undo puts back the name as it was spelled, not as the caller spelled it.
  const marker: OrganizationDoc = { ...before, organization_name: input.new_organization_name, pending: { ...pending, from_name: before.organization_name } };
  if ((await runUndoingRefusal(renameOperation, deps, marker, "NAME_REFUSED_BY_STORE")) === "undone") throw new AppError("COLLECTION_EXISTS");
  const { pending: _pending, ...rest } = before;
  return viewOf(
    { ...rest, organization_name: input.new_organization_name, slug: toSlug, collection_name: to, status: "active", updated_at: marker.updated_at },
    shownEmail(before),
  );
};

/** Marks `deleting` (so nothing else starts), drops the tenant collection, then removes the record. */
export const deleteOrganization = async (deps: Deps, name: string, principal: Principal, adminEmail?: string): Promise<void> => {
  const slug = slugify(name);
  const guard = {
    ...writable(principal),
    slug,
    ...(adminEmail === undefined ? {} : { [memberPath(principal.userId, "email_key")]: normalizeEmail(adminEmail) }),
  };
  const org = await markDeleting(deps, guard, userActor(principal));
  if (!org) throw await diagnose(deps, principal, slug, adminEmail);
  await runForRequest(deleteOperation, deps, org);
};
