import type { Deps } from "../domain/kernel/deps";
import { AppError } from "../domain/kernel/errors";
import { authenticateToken, type Principal } from "../domain/kernel/principal";
import { can } from "../domain/kernel/roles";
import type { AppRequest } from "./context";

/** The token of an `Authorization: Bearer …` header, or null when there is none. */
export const bearerToken = (request: Request): string | null => {
  const header = request.headers.get("authorization");
  const match = header?.match(/^Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*$/i);
  return match?.[1] ?? null;
};

/** The admin a protected route acts for; also names the organization in the log line and audit trail. */
export const requirePrincipal = async (request: AppRequest, deps: Deps): Promise<Principal> => {
  const token = bearerToken(request);
  if (!token) throw new AppError("NOT_AUTHENTICATED");
  const principal = await authenticateToken(deps, token);
  request.state.orgId = principal.orgId.toHexString();
  // The one permission check: the role a current token names (a role change revokes the token, and every write checks that it is current).
  const needed = request.state.permission;
  if (needed && !can(principal.role, needed)) throw new AppError("PERMISSION_DENIED");
  return principal;
};
