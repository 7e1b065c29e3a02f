import type { ObjectId } from "bson";
import { publishLater } from "../events/outbox";
import { keyPath, keyValidPath, newKeyId, newSecret } from "../kernel/api-key-secret";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { newEvent, userActor, withEvents } from "../kernel/event";
import { readOrganization, refusal, writable } from "../kernel/guard";
import { type Actor, type ApiKeyRecord, holds, memberOf, type OrganizationDoc } from "../kernel/model";
import { holdingFilter, type Principal } from "../kernel/principal";
import type { KEY_SCOPES, Permission } from "../kernel/roles";

/**
 * The organization's API keys, kept in its document beside its members: creating, rolling and
 * revoking one is one guarded update that also records its event, and a key goes with the
 * organization when it is deleted. Keys are managed by members only (`api_key:manage`).
 */

/** Keys an organization may hold at once. */
export const MAX_API_KEYS = 20;

/** The longest a rolled-out secret keeps working beside the new one. */
export const MAX_ROLL_OVERLAP_SECONDS = 7 * 86_400;

/** The instant a secret without an expiry is open until. */
const NEVER = new Date("9999-12-31T00:00:00.000Z");

export interface ApiKeyView {
  id: string;
  name: string;
  scopes: Permission[];
  prefix: string;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export const apiKeyView = (id: string, key: ApiKeyRecord): ApiKeyView => ({
  id,
  name: key.name,
  scopes: key.scopes,
  prefix: key.prefix,
  created_by: key.created_by.toHexString(),
  created_at: key.created_at.toISOString(),
  expires_at: key.expires_at?.toISOString() ?? null,
  last_used_at: key.last_used_at?.toISOString() ?? null,
});

/** The organization's keys, oldest first (ids are ObjectIds: their order is their creation's). */
export const apiKeyViews = (org: Pick<OrganizationDoc, "api_keys">): ApiKeyView[] =>
  Object.entries(org.api_keys ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id, key]) => apiKeyView(id, key));

/** Why a guarded change of a key matched nothing: the caller's standing, then the key, then a concurrent change. */
const diagnose = async (deps: Deps, principal: Principal, keyId: string, full?: true, scopes: readonly Permission[] = []): Promise<AppError> => {
  // The whole document (on the refused path only): the caller's roles as they stand decide a scope.
  const org = await deps.organizations.findOne({ _id: principal.orgId });
  const refused = refusal(org, principal);
  if (refused) return refused;
  const member = org && memberOf(org, principal.userId);
  if (member && !scopes.every((scope) => holds(org, member, scope))) return new AppError("PERMISSION_DENIED");
  if (full && Number(org?.api_key_count ?? 0) >= MAX_API_KEYS) return new AppError("API_KEY_LIMIT");
  if (!full && !org?.api_keys?.[keyId]) return new AppError("API_KEY_NOT_FOUND");
  return new AppError("ORGANIZATION_BUSY");
};

export interface NewApiKey {
  name: string;
  scopes: (typeof KEY_SCOPES)[number][];
  expires_at?: Date;
}

/** A new key, its secret answered once. Its scopes are never more than its creator's role holds. */
export const createApiKey = async (deps: Deps, principal: Principal, input: NewApiKey): Promise<ApiKeyView & { secret: string }> => {
  // Checked in the update's guard where a custom role gives a scope, as it stands then.
  const holding = holdingFilter(principal, input.scopes);
  const now = deps.now();
  const id = newKeyId();
  const scopes = [...new Set(input.scopes)];
  const { secret, hash, prefix } = await newSecret(principal.orgId, id, scopes);
  const key: ApiKeyRecord = {
    name: input.name,
    scopes,
    prefix,
    created_by: principal.userId,
    created_at: now,
    ...(input.expires_at ? { expires_at: input.expires_at } : {}),
    secrets: { [hash]: input.expires_at ?? NEVER },
  };
  // The count in the same document caps the keys: of parallel creations past the cap, none matches.
  const { matchedCount } = await deps.organizations.updateOne(
    { ...writable(principal), ...holding, [keyPath(id)]: { $exists: false }, api_key_count: { $not: { $gte: MAX_API_KEYS } } },
    withEvents(
      { $set: { [keyPath(id)]: key, updated_at: now }, $inc: { api_key_count: 1 } },
      newEvent("api_key.created", userActor(principal), { api_key_id: id, name: key.name, scopes }, now),
    ),
  );
  if (matchedCount === 0) throw await diagnose(deps, principal, id, true, input.scopes);
  publishLater(deps, principal.orgId);
  return { ...apiKeyView(id, key), secret };
};

export const listApiKeys = async (deps: Deps, principal: Principal): Promise<{ api_keys: ApiKeyView[] }> => ({
  api_keys: apiKeyViews(await readOrganization(deps, principal, { api_keys: 1 })),
});

/** Removes a key with its event, under `guard`: the next request with it finds no secret to match. */
const removeKey = async (deps: Deps, guard: Record<string, unknown>, orgId: ObjectId, keyId: string, actor: Actor): Promise<boolean> => {
  const now = deps.now();
  const { matchedCount } = await deps.organizations.updateOne(
    { ...guard, [keyPath(keyId)]: { $exists: true } },
    withEvents(
      { $unset: { [keyPath(keyId)]: "" }, $inc: { api_key_count: -1 }, $set: { updated_at: now } },
      newEvent("api_key.revoked", actor, { api_key_id: keyId }, now),
    ),
  );
  if (matchedCount > 0) publishLater(deps, orgId);
  return matchedCount > 0;
};

/** Revokes a key at once: once this answers, no request with it is accepted. */
export const revokeApiKey = async (deps: Deps, principal: Principal, keyId: string): Promise<void> => {
  if (!(await removeKey(deps, writable(principal), principal.orgId, keyId, userActor(principal)))) throw await diagnose(deps, principal, keyId);
};

/** The platform operator's revocation: whatever the organization's state, as long as it exists. */
export const revokeApiKeyAsOperator = async (deps: Deps, orgId: ObjectId, keyId: string, operatorKeyId: string): Promise<void> => {
  if (await removeKey(deps, { _id: orgId }, orgId, keyId, { type: "operator", key_id: operatorKeyId })) return;
  const org = await deps.organizations.findOne({ _id: orgId }, { projection: { _id: 1 } });
  throw new AppError(org ? "API_KEY_NOT_FOUND" : "ORGANIZATION_NOT_FOUND");
};

/**
 * A new secret for a key (answered once); the old ones keep working for `overlapSeconds` (0: they
 * stop at once), never past when they would have stopped anyway. One read, then one update that
 * applies only if no other roll came between.
 */
export const rollApiKey = async (deps: Deps, principal: Principal, keyId: string, overlapSeconds: number): Promise<ApiKeyView & { secret: string }> => {
  const org = await readOrganization(deps, principal, { [keyPath(keyId)]: 1 });
  const key = org.api_keys?.[keyId];
  if (!key) throw new AppError("API_KEY_NOT_FOUND");
  const now = deps.now();
  const overlapEnds = new Date(now.getTime() + overlapSeconds * 1000);
  const kept = Object.entries(key.secrets)
    .map(([hash, until]) => [hash, until.getTime() < overlapEnds.getTime() ? until : overlapEnds] as const)
    .filter(([, until]) => until.getTime() > now.getTime());
  const { secret, hash, prefix } = await newSecret(principal.orgId, keyId, key.scopes);
  // Each secret by its own path rather than the `secrets` map at once: FerretDB leaves a map in
  // place when an update sets it beside other fields and it keeps its size.
  const keptHashes = new Set(kept.map(([old]) => old));
  const dropped = Object.keys(key.secrets).filter((old) => !keptHashes.has(old));
  const secrets = { ...Object.fromEntries(kept), [hash]: key.expires_at ?? NEVER };
  const secretPaths = Object.fromEntries(Object.entries(secrets).map(([each, until]) => [keyValidPath(keyId, each), until]));
  const { matchedCount } = await deps.organizations.updateOne(
    { ...writable(principal), [keyPath(keyId, "rolled_at")]: key.rolled_at ?? { $exists: false } },
    withEvents(
      {
        $set: { ...secretPaths, [keyPath(keyId, "rolled_at")]: now, [keyPath(keyId, "prefix")]: prefix, updated_at: now },
        ...(dropped.length ? { $unset: Object.fromEntries(dropped.map((old) => [keyValidPath(keyId, old), ""])) } : {}),
      },
      newEvent("api_key.rolled", userActor(principal), { api_key_id: keyId, previous_valid_until: overlapSeconds > 0 ? overlapEnds.toISOString() : null }, now),
    ),
  );
  if (matchedCount === 0) throw await diagnose(deps, principal, keyId);
  publishLater(deps, principal.orgId);
  return { ...apiKeyView(keyId, { ...key, prefix }), secret };
};
