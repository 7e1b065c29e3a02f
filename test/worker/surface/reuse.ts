// What the sweep's files share: the routes they send, and the tenants they reuse between cases.
import { beforeEach } from "vitest";
import type { ErrorCode } from "../../../src/domain/kernel/errors";
import { ROUTES } from "../../../src/http/routes";
import { useOwnDatabase } from "../../helpers";
import { newTenant, SUCCESS, type Tenant } from "./cases";

export const documented = ROUTES.filter((route) => !route.internal);
export const key = (route: { method: string; path: string }) => `${route.method.toUpperCase()} ${route.path}`;

/** A refusal the gateway's store cannot be made to give from inside the Worker. */
export const ONLY_EMBEDDED = new Set<ErrorCode>(["NAME_REFUSED_BY_STORE"]);

/**
 * Provocations after which the tenant is as it was, for the route's next case: they rewrite the
 * request (or the bindings it runs with), or set something up for another organization, or set
 * the store up for this tenant only on some routes and say so on it (`changed`), or leave on it
 * how to put back what they changed (`undo`). A key made for a provocation stays the tenant's
 * (`fullKey`, `narrowKeys`), for the provocations that use one. Failed logins are not among them:
 * each one brings the account closer to its lock.
 */
export const LEAVE_TENANT = new Set<ErrorCode>([
  "NOT_AUTHENTICATED",
  "INVALID_TOKEN",
  "UNSUPPORTED_MEDIA_TYPE",
  "PAYLOAD_TOO_LARGE",
  "VALIDATION_FAILED",
  "STORE_UNAVAILABLE",
  "RATE_LIMITED",
  "PERMISSION_DENIED",
  "FORBIDDEN",
  "ADMIN_EMAIL_MISMATCH",
  "ORGANIZATION_NOT_FOUND",
  "ORGANIZATION_EXISTS",
  "ORGANIZATION_BUSY",
  "ORGANIZATION_SUSPENDED",
  "COLLECTION_EXISTS",
  "NAME_REFUSED_BY_STORE",
  "ADMIN_EMAIL_EXISTS",
  "PLATFORM_KEY_REQUIRED",
  "PLATFORM_READ_ONLY",
  "RECORD_NOT_FOUND",
  "MEMBER_NOT_FOUND",
  "LAST_OWNER",
  "TEAM_NOT_FOUND",
  "TEAM_EXISTS",
  "TEAM_LIMIT",
  "INVITATION_NOT_FOUND",
  "INVITATION_DOMAIN",
  "ALREADY_MEMBER",
  "INVITATION_INVALID",
  "EVENT_CURSOR_INVALID",
  "DOMAIN_NOT_FOUND",
  "DOMAIN_PUBLIC",
  "DOMAIN_EXISTS",
  "DOMAIN_TAKEN",
  "DOMAIN_LIMIT",
  "WEBHOOK_URL_REFUSED",
  "WEBHOOK_LIMIT",
  "WEBHOOK_NOT_FOUND",
  "WEBHOOK_DISABLED",
  "DELIVERY_NOT_FOUND",
  "API_KEY_LIMIT",
  "API_KEY_NOT_FOUND",
  "EMAIL_TAKEN",
  "EMAIL_NOT_VERIFIED",
  "SUGGESTION_NOT_FOUND",
  "JOIN_REQUEST_NOT_FOUND",
  "JOIN_REQUESTS_FULL",
  "ROLE_NOT_FOUND",
  "ROLE_EXISTS",
  "ROLE_LIMIT",
  "ROLE_IN_USE",
  "ROLE_UNKNOWN",
  "LINK_INVALID",
  "MAIL_DISABLED",
]);

/**
 * The tenants of one test file's cases. A case takes the one the route's previous case left
 * unchanged, or a new one; it gives its tenant back when its provocation left it as it was (above)
 * and the answer was a refusal (a refused request changes nothing: bad-input and fuzz check that on
 * their own), a read, or a success that does not involve the tenant (a create of another
 * organization, the operator's listings, the documents).
 *
 * The cases make hundreds of organizations. They go to databases of the file's own, a new one
 * every 50 cases, so that no lookup reads more than a few hundred documents on FerretDB's SQLite
 * handler (it reads a whole collection for anything but an `_id`).
 */
export const reuseTenants = (prefix: string) => {
  let started = 0;
  const spare = new Map<string, Tenant>();
  beforeEach(() => {
    if (started++ % 50 !== 0) return;
    useOwnDatabase(prefix);
    spare.clear();
  });
  return {
    take: async (route: string): Promise<Tenant> => {
      const kept = spare.get(route);
      spare.delete(route);
      return kept ?? newTenant(route);
    },
    giveBack: async (route: string, tenant: Tenant, code: ErrorCode, res: Response) => {
      const [method] = route.split(" ");
      const untouched = res.status >= 400 || method === "GET" || SUCCESS[route]?.length === 0;
      if (!LEAVE_TENANT.has(code) || !untouched || tenant.changed) return;
      await tenant.undo?.();
      tenant.undo = undefined;
      spare.set(route, tenant);
    },
  };
};
