import { ObjectId } from "bson";
import { DuplicateKeyError } from "../data/errors";
import { ADMITS_CALLERS, admitsCallers } from "./admission";
import { type Principal, verifyCredentials } from "./auth";
import { AppError } from "./errors";
import { type Deps, normalizeEmail, type OrganizationDoc, type OrganizationView, viewOf } from "./organization";
import { hashPassword } from "./passwords";
import { collectionNameFor, slugify } from "./slug";
import { abandonCreate, finishCreate, finishDelete, finishRename, isPermanentFailure, moveTenantCollection, undoRename } from "./steps";

const VISIBLE_STATUSES = ["active", "renaming"];

/**
 * Why a guarded update found nothing, worked out only on that (rare) path: the caller's token
 * is stale, the e-mail header names someone else, the organization is busy, someone else's, or absent.
 */
const diagnose = async (deps: Deps, principal: Principal, slug: string, adminEmail?: string): Promise<AppError> => {
  const own = await deps.organizations.findOne({ _id: principal.orgId });
  if (!own || own.admin.token_version !== principal.tokenVersion) return new AppError("INVALID_TOKEN");
  if (!admitsCallers(own)) return new AppError("ORGANIZATION_SUSPENDED");
  if (adminEmail !== undefined && normalizeEmail(adminEmail) !== own.admin.email_key) return new AppError("ADMIN_EMAIL_MISMATCH");
  if (own.slug === slug) return new AppError("ORGANIZATION_BUSY");
  const target = await deps.organizations.findOne({ slug }, { projection: { _id: 1 } });
  return new AppError(target ? "FORBIDDEN" : "ORGANIZATION_NOT_FOUND");
};

export interface CreateInput {
  organization_name: string;
  email: string;
  password: string;
}

/**
 * Reserves name, collection name and e-mail in one insert (status `creating`), creates the tenant
 * collection, then activates. A crash in between leaves a `creating` record the reconciler finishes.
 */
export const createOrganization = async (deps: Deps, input: CreateInput) => {
  const slug = slugify(input.organization_name);
  const collection_name = collectionNameFor(slug);
  const now = deps.now();
  const org: OrganizationDoc = {
    _id: new ObjectId(),
    organization_name: input.organization_name,
    slug,
    collection_name,
    status: "creating",
    created_at: now,
    updated_at: now,
    admin: {
      id: new ObjectId(),
      email: input.email,
      email_key: normalizeEmail(input.email),
      password_hash: await hashPassword(input.password, deps.settings.pbkdf2Iterations),
      token_version: 0,
    },
    pending: { op: "create", started_at: now },
  };
  try {
    await deps.organizations.insertOne(org);
  } catch (error) {
    if (!(error instanceof DuplicateKeyError)) throw error;
    const taken = await deps.organizations.findOne({ $or: [{ slug }, { collection_name }] }, { projection: { _id: 1 } });
    throw new AppError(taken ? "ORGANIZATION_EXISTS" : "ADMIN_EMAIL_EXISTS");
  }
  try {
    await finishCreate(deps, org);
  } catch (error) {
    if (!isPermanentFailure(error)) throw error;
    await abandonCreate(deps, org._id);
    throw new AppError("NAME_REFUSED_BY_STORE");
  }
  return { organization_name: org.organization_name, collection_name, admin_email: org.admin.email };
};

export const getOrganization = async (deps: Deps, name: string, principal?: Principal): Promise<OrganizationView> => {
  const org = await deps.organizations.findOne({ slug: slugify(name), status: { $in: VISIBLE_STATUSES } });
  if (!org) throw new AppError("ORGANIZATION_NOT_FOUND");
  const ownAdmin = principal?.orgId.equals(org._id) === true && principal.tokenVersion === org.admin.token_version && admitsCallers(org);
  return viewOf(org, ownAdmin);
};

export type Credentials = { kind: "password"; email: string; password: string } | { kind: "token"; principal: Principal };

export interface RenameInput {
  organization_name: string;
  new_organization_name: string;
}

const principalFor = async (deps: Deps, credentials: Credentials, slug: string): Promise<Principal> => {
  if (credentials.kind === "token") return credentials.principal;
  const own = await verifyCredentials(deps, credentials.email, credentials.password);
  const principal = { orgId: own._id, tokenVersion: own.admin.token_version };
  if (own.slug !== slug) throw await diagnose(deps, principal, slug);
  return principal;
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
  const guard = { _id: principal.orgId, slug: fromSlug, status: "active", "admin.token_version": principal.tokenVersion, ...ADMITS_CALLERS };
  const now = deps.now();

  if (toSlug === fromSlug) {
    const org = await deps.organizations.findOneAndUpdate(
      guard,
      { $set: { organization_name: input.new_organization_name, updated_at: now } },
      { returnNewDocument: true },
    );
    if (!org) throw await diagnose(deps, principal, fromSlug);
    return viewOf(org, true);
  }

  const from = collectionNameFor(fromSlug);
  const to = collectionNameFor(toSlug);
  let before: OrganizationDoc | null;
  try {
    before = await deps.organizations.findOneAndUpdate(guard, {
      $set: {
        organization_name: input.new_organization_name,
        slug: toSlug,
        status: "renaming",
        updated_at: now,
        pending: { op: "rename", started_at: now, from_name: input.organization_name, from_slug: fromSlug, from_collection: from, to_collection: to },
      },
    });
  } catch (error) {
    if (error instanceof DuplicateKeyError) throw new AppError("ORGANIZATION_EXISTS");
    throw error;
  }
  if (!before) throw await diagnose(deps, principal, fromSlug);

  let moved: Awaited<ReturnType<typeof moveTenantCollection>>;
  try {
    moved = await moveTenantCollection(deps, before, from, to);
  } catch (error) {
    if (!isPermanentFailure(error)) throw error;
    await undoRename(deps, before._id, before.organization_name, fromSlug);
    throw new AppError("NAME_REFUSED_BY_STORE");
  }
  if (moved === "target-exists") {
    await undoRename(deps, before._id, before.organization_name, fromSlug);
    throw new AppError("COLLECTION_EXISTS");
  }
  const updated_at = await finishRename(deps, before._id, to);
  const { pending: _pending, ...rest } = before;
  return viewOf({ ...rest, organization_name: input.new_organization_name, slug: toSlug, collection_name: to, status: "active", updated_at }, true);
};

/** Marks `deleting` (so nothing else starts), drops the tenant collection, then removes the record. */
export const deleteOrganization = async (deps: Deps, name: string, principal: Principal, adminEmail?: string): Promise<void> => {
  const slug = slugify(name);
  const guard = {
    _id: principal.orgId,
    slug,
    status: "active",
    "admin.token_version": principal.tokenVersion,
    ...ADMITS_CALLERS,
    ...(adminEmail === undefined ? {} : { "admin.email_key": normalizeEmail(adminEmail) }),
  };
  const org = await deps.organizations.findOneAndUpdate(
    guard,
    { $set: { status: "deleting", updated_at: deps.now(), pending: { op: "delete", started_at: deps.now() } } },
    { returnNewDocument: true },
  );
  if (!org) throw await diagnose(deps, principal, slug, adminEmail);
  await finishDelete(deps, org);
};
