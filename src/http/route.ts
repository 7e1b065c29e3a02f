import { ObjectId } from "bson";
import type { PlatformKey } from "../config/settings";
import type { AuditAction } from "../domain/audit/audit";
import type { Deps } from "../domain/kernel/deps";
import { AppError, type ErrorCode } from "../domain/kernel/errors";
import type { Caller, Principal } from "../domain/kernel/principal";
import { isKeyScope, type Permission, ROLES, rolesWith } from "../domain/kernel/roles";
import type { Env } from "../env";
import type * as z from "../zod";
import type { AppRequest, AuditNote } from "./context";

export type Method = "get" | "post" | "put" | "patch" | "delete" | "head";

/** The groups of /docs, in the order they are shown. */
export const TAGS = {
  organizations: { name: "Organizations", description: __DOCS__ && "Create, read, rename and delete organizations (the original FastAPI contract)" },
  admin: { name: "Admin authentication", description: __DOCS__ && "Log in, log out, change the password" },
  account: {
    name: "Account",
    description:
      __DOCS__ &&
      "A forgotten password reset and an address verified, each by a one-time link mailed to the account's address (with a mail transport configured; `MAIL_TRANSPORT=none` answers 409)",
  },
  members: { name: "Members and invitations", description: __DOCS__ && "The people of an organization, their roles, and invitations to join it" },
  apiKeys: {
    name: "API keys",
    description:
      __DOCS__ &&
      "Credentials that belong to the organization, not to a person, for its backend jobs and integrations: managed by owners and admins (`api_key:manage`), used as `Authorization: Bearer oms_…` within their scopes",
  },
  domains: {
    name: "Domains",
    description: __DOCS__ && "E-mail domains the organization proves it owns, by a DNS TXT record looked up over DNS over HTTPS (`domain:manage`)",
  },
  events: { name: "Events", description: __DOCS__ && "What happened in the organization, in order: a feed to pull (members with `audit:read`)" },
  records: { name: "Records", description: __DOCS__ && "Documents in the caller's organization's own collection" },
  keys: { name: "Keys", description: __DOCS__ && "Public keys that verify the service's tokens" },
  operations: { name: "Operations", description: __DOCS__ && "Liveness and readiness probes" },
  platform: {
    name: "Platform",
    description: __DOCS__ && "Every organization, for the service's operator: a `PLATFORM_API_KEYS` key (read or write); without one, 404",
  },
  docs: { name: "Documentation", description: __DOCS__ && "This document and the pages that show it" },
} as const;

export type Tag = keyof typeof TAGS;

export interface ResponseSpec {
  description: string;
  /** Validates the route's reply before it leaves the Worker and describes it in the document. */
  schema?: z.ZodMiniType;
  /** Default `application/json`; other types (the docs pages) are documented, never validated. */
  contentType?: string;
  examples?: Record<string, { summary: string; value: unknown }> | false;
  /**
   * Validated, then sent as the route gave it: a record's fields are the tenant's, in the tenant's
   * order, which parsing (known keys first) would reorder.
   */
  verbatim?: boolean;
}

type Fields = z.ZodMiniType<Record<string, unknown>>;

export interface RequestSpec {
  body?: {
    schema: z.ZodMiniType;
    /** What the document shows, when `schema` checks more than JSON Schema can say (record field names). */
    documentAs?: z.ZodMiniType;
    description?: string;
    /** Default: the `MAX_BODY_BYTES` setting. */
    maxBytes?: number;
  };
  /** Query, path and header fields: an object schema, or a `z.lazy` of one (built on the route's first request). */
  query?: Fields;
  /** An empty `?cursor=` means the parameter was left out, as a client filling a URL template sends it. */
  blankQueryIsAbsent?: boolean;
  path?: Fields;
  headers?: Fields;
}

/** What a handler may return besides a finished Response: a body its route's schema for that status checks. */
export interface Reply {
  status?: number;
  body?: unknown;
  headers?: HeadersInit;
}

type Parsed<T> = T extends z.ZodMiniType ? z.output<T> : never;

/** The route's declared inputs, parsed on demand so each handler keeps its own order of checks. */
export interface Input<R extends RequestSpec> {
  body: () => Promise<Parsed<NonNullable<R["body"]>["schema"]>>;
  query: () => Parsed<R["query"]>;
  params: () => Parsed<R["path"]>;
  headers: () => Parsed<R["headers"]>;
}

/** The details a handler learns on the way (an e-mail, an organization, a reason), added to its route's audit note. */
export interface AuditTrail {
  note: (details: Omit<AuditNote, "action">) => void;
}

/**
 * What serve hands a handler, derived from its route's declaration. A field the declaration does
 * not provide (`principal` on a route without `auth: "required"`, say) throws a TypeError when read.
 */
export interface Context<R extends RequestSpec, C = undefined> {
  request: AppRequest;
  env: Env;
  input: Input<R>;
  /** The domain's dependencies, on routes that declare `auth` or `data`. */
  deps: Deps;
  /** `auth: "required"`: the member whose token came with the request, allowed the route's `permission` (a key is refused with a 403). */
  principal: Principal;
  /** `auth: "required"`: the member or API key whose credential came with the request, allowed the route's `permission`. */
  caller: Caller;
  /** `auth: "platform"`: the operator key presented, with the scope the method needs (`get`: read, any other: write). */
  operator: PlatformKey;
  /** Whether an `Authorization: Bearer` token came with the request. */
  hasToken: boolean;
  /**
   * `auth: "optional"` and `authenticate: "in-handler"`: the token's principal, checked as
   * `principal` is, at the point the handler decides the token matters. Without a token, a 401.
   */
  authenticate: () => Promise<Principal>;
  audit: AuditTrail;
  /** What the route's `check` answered. */
  checked: C;
}

/**
 * One HTTP operation, declared once: the router, the 405 answers, response validation and the
 * OpenAPI document are all derived from these fields.
 */
export interface Route<R extends RequestSpec = RequestSpec, C = unknown> {
  method: Method;
  /** OpenAPI's form (`/org/records/{id}`); the router's form is derived from it. */
  path: string;
  tag: Tag;
  summary: string;
  description?: string;
  /** `optional`: a token changes the answer but is not required; `platform`: an operator key, not a member's token. */
  auth?: "required" | "optional" | "platform";
  /** What the caller's role must allow; checked in one place, when serve authenticates the member (src/http/authenticate.ts). */
  permission?: Permission;
  /** A member whose roles lack `permission` is still admitted, as a team's lead: the feature checks the lead (`Principal.asLead`). */
  leadMay?: true;
  /**
   * `in-handler`: the handler checks part of its input before it calls `authenticate()`, because
   * the contract answers that check first (a 422 before a 401); serve makes sure it did call it.
   * By default serve authenticates before the handler runs, so before any input is read.
   */
  authenticate?: "in-handler";
  /** A route without `auth` that still reads the store: serve builds its deps. */
  data?: true;
  /**
   * The audit trail's action for the route. Serve opens the note before the deps and the member's
   * token, so a refused call is audited too. `opens: "on-note"`: only once the route notes a detail
   * (an operator's call, once it names its organization: a call refused before that concerns none).
   */
  audit?: AuditAction | { action: AuditAction; opens: "on-note" };
  request?: R;
  responses: Record<number, ResponseSpec>;
  /** Every error the route may answer, by registry code; their statuses join `responses` in the document. */
  errors: ErrorCode[];
  /** Left out of the document (the docs pages' static files). */
  internal?: boolean;
  /**
   * The route's own checks of its input, where they must come before the store is reached: serve
   * runs them after the operator key and before it builds the deps, and hands the handler their
   * result as `checked`. A member's token needs the store, so member routes check in the handler.
   */
  check?: (context: Omit<Context<R>, "deps" | "checked">) => Promise<C> | C;
  handler: (context: Context<R, C>) => Promise<Response | Reply> | Response | Reply;
}

/**
 * Keeps the handler's input typed by the route's own schemas, and documents the answers a required
 * credential brings: the 403 of a role that lacks the route's permission or of an organization's
 * API key without it (as scope, or on a route no key may use); the 429 of a key's spent allowance
 * where keys are admitted. A route whose credential is optional declares its own.
 */
export const defineRoute = <R extends RequestSpec, C = undefined>(route: Route<R, C>): Route => {
  const required = route.auth === "required";
  const keyUsable = required && route.permission !== undefined && isKeyScope(route.permission);
  const deniable = required || (route.permission !== undefined && rolesWith(route.permission).length < ROLES.length);
  const derived: ErrorCode[] = [...(deniable ? ["PERMISSION_DENIED" as const] : []), ...(keyUsable ? ["RATE_LIMITED" as const] : [])];
  const errors = [...route.errors, ...derived.filter((code) => !route.errors.includes(code))];
  return { ...route, errors } as unknown as Route;
};

/** Headers of an answer that carries a secret or a token: no cache may keep it. */
export const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" };

/** What a route behind a member's bearer token may answer before its own work. */
export const TOKEN_ERRORS: ErrorCode[] = ["NOT_AUTHENTICATED", "INVALID_TOKEN", "ORGANIZATION_SUSPENDED", "STORE_UNAVAILABLE"];

/** What a route that reads a JSON body may answer about the body. */
export const BODY_ERRORS: ErrorCode[] = ["PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "VALIDATION_FAILED"];

const HEX_ID = /^[0-9a-f]{24}$/;

/** Whether a path or cursor value is an id as the service writes them (24 lower-case hexadecimal digits). */
export const isHexId = (text: string): boolean => HEX_ID.test(text);

/** A path's id as an ObjectId; one that is not 24 hexadecimal digits names nothing: the `missing` 404, as for an unknown one. */
export const idOr404 = (text: string, missing: ErrorCode): ObjectId => {
  if (!isHexId(text)) throw new AppError(missing);
  return ObjectId.createFromHexString(text);
};
