import { noteKeyUse } from "../domain/api-keys/last-used";
import type { Deps } from "../domain/kernel/deps";
import { AppError } from "../domain/kernel/errors";
import { admission, readStanding } from "../domain/kernel/guard";
import { authenticateBearer, type Caller, isApiKey, type Principal, withPermission } from "../domain/kernel/principal";
import type { Env } from "../env";
import { type AppRequest, throttleKey } from "./context";

/** The token of an `Authorization: Bearer …` header, or null when there is none. */
export const bearerToken = (request: Request): string | null => {
  const header = request.headers.get("authorization");
  const match = header?.match(/^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i);
  return match?.[1] ?? null;
};

/**
 * A key used outside its scopes is refused with a 403, but only once the store says the key is
 * real: a wrong, revoked or expired key answers the same 401 as an unknown one, wherever it is
 * used. This read is on the refused path only.
 */
const deniedKey = async (deps: Deps, caller: Caller): Promise<AppError> =>
  admission(await readStanding(deps, caller), caller) ?? new AppError("PERMISSION_DENIED");

/**
 * The caller a protected route acts for (a member by token, or an API key); also names the
 * organization in the log line and audit trail. A key is admitted only where the route's
 * permission is one of its scopes, so routes without a permission (logout, password, leave,
 * switch) and routes whose permission no key can hold stay with members.
 */
export const requirePrincipal = async (request: AppRequest, env: Env, deps: Deps): Promise<Caller> => {
  const token = bearerToken(request);
  if (!token) throw new AppError("NOT_AUTHENTICATED");
  const caller = await authenticateBearer(deps, token);
  request.state.orgId = caller.orgId.toHexString();
  const needed = request.state.permission;
  if (isApiKey(caller)) {
    request.state.apiKeyId = caller.keyId;
    if (!needed || !caller.scopes.includes(needed)) throw await deniedKey(deps, caller);
    await throttleKey(request, env, caller.secretHash);
    noteKeyUse(deps, caller);
    return caller;
  }
  // The one permission check: the roles a current token names (a role change revokes the token, and
  // every write checks that it is current); a custom role's permission is confirmed by the request's own guard.
  try {
    return withPermission(caller, needed);
  } catch (error) {
    if (!request.state.leadMay || !(error instanceof AppError) || error.code !== "PERMISSION_DENIED") throw error;
    return { ...caller, asLead: true };
  }
};

/** The member behind a caller, on the routes only members may use (which `requirePrincipal` keeps keys from). */
export const memberOnly = (caller: Caller): Principal => {
  if (isApiKey(caller)) throw new AppError("PERMISSION_DENIED");
  return caller;
};
