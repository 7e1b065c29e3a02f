import { ADMITS_CALLERS, admitsCallers } from "./admission";
import type { Deps } from "./deps";
import { AppError } from "./errors";
import type { OrganizationDoc } from "./model";
import { type Caller, credentialFields, currentToken, isCurrent, isGranted } from "./principal";

/**
 * The guarded repository of the caller's own organization: the filters a token-authenticated
 * feature reads and changes it with, and the one diagnosis of why such a guard matched nothing.
 * Answering why only on the refused path keeps the common path at one round trip.
 */

/** Organizations whose members may log in and read: created, and not being deleted. */
export const READABLE_STATUSES = ["active", "renaming"] as const;

export const isReadable = (status: string): boolean => (READABLE_STATUSES as readonly string[]).includes(status);

/**
 * The caller's organization while they may read it: their token current, the organization
 * readable. Suspension is checked on the document read instead, so that it is answered apart.
 */
export const readable = (principal: Caller) => ({ _id: principal.orgId, status: { $in: READABLE_STATUSES }, ...currentToken(principal) });

/** The caller's organization while they may change it: also active (no rename or delete in flight) and admitting callers. */
export const writable = (principal: Caller) => ({ _id: principal.orgId, status: "active", ...currentToken(principal), ...ADMITS_CALLERS });

/**
 * The caller's organization, read with `readable` in one round trip, or INVALID_TOKEN (a stale
 * token, an organization gone) or ORGANIZATION_SUSPENDED. Without `fields` the whole document is
 * read; with them, those fields and `suspended`.
 */
export const readOrganization = async (deps: Deps, principal: Caller, fields?: Record<string, 1>): Promise<OrganizationDoc> => {
  const org = fields
    ? await deps.organizations.findOne(readable(principal), { projection: { ...fields, suspended: 1 } })
    : await deps.organizations.findOne(readable(principal));
  if (!org) throw await whyUnreadable(deps, principal);
  if (!admitsCallers(org)) throw new AppError("ORGANIZATION_SUSPENDED");
  return org;
};

/** Why `readable` matched nothing: INVALID_TOKEN, unless the token is current and a custom role no longer gives the permission (read on that path only). */
const whyUnreadable = async (deps: Deps, principal: Caller): Promise<AppError> => {
  if (!("grant" in principal) || !principal.grant) return new AppError("INVALID_TOKEN");
  const org = await readStanding(deps, principal);
  if (!org || !isReadable(org.status)) return new AppError("INVALID_TOKEN");
  return admission(org, principal) ?? new AppError("INVALID_TOKEN");
};

type Standing = Pick<OrganizationDoc, "status" | "members" | "api_keys" | "suspended" | "role_grants">;

/**
 * Whether the token lets its caller in at all, whatever the organization's lifecycle: INVALID_TOKEN
 * when stale, then ORGANIZATION_SUSPENDED, then PERMISSION_DENIED when the custom role the request
 * relied on no longer gives its permission.
 */
export const admission = (org: Omit<Standing, "status"> | null, principal: Caller): AppError | undefined => {
  if (!org || !isCurrent(org, principal)) return new AppError("INVALID_TOKEN");
  if (!admitsCallers(org)) return new AppError("ORGANIZATION_SUSPENDED");
  if (!isGranted(org, principal)) return new AppError("PERMISSION_DENIED");
  return undefined;
};

/**
 * Why `writable` would not match the caller's organization, from its document: INVALID_TOKEN for a
 * stale token or an organization gone, being created or being deleted, then ORGANIZATION_SUSPENDED,
 * then ORGANIZATION_BUSY mid-rename. Undefined when nothing in the document refuses.
 */
export const refusal = (org: Standing | null, principal: Caller): AppError | undefined => {
  if (org && !isReadable(org.status)) return new AppError("INVALID_TOKEN");
  return admission(org, principal) ?? (org?.status === "active" ? undefined : new AppError("ORGANIZATION_BUSY"));
};

/** The caller's organization read by `_id` alone, with what `refusal` needs and `fields`: one read that can say why. */
export const readStanding = <K extends keyof OrganizationDoc = "_id">(deps: Deps, principal: Caller, fields: { [F in K]?: 1 } = {}) =>
  deps.organizations.findOne({ _id: principal.orgId }, { projection: { ...fields, status: 1, suspended: 1, ...credentialFields(principal) } }) as Promise<
    (Standing & Pick<OrganizationDoc, "_id" | K>) | null
  >;

/**
 * Why a guarded change (a write lease, a `writable` update) matched nothing, read again on that
 * path only. Busy when nothing in the document refuses: a concurrent change came first.
 */
export const whyRefused = async (deps: Deps, principal: Caller): Promise<AppError> =>
  refusal(await readStanding(deps, principal), principal) ?? new AppError("ORGANIZATION_BUSY");
