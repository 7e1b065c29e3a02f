import type { PlatformKey } from "../config/settings";
import { settingsFor } from "../deps";
import type { Deps } from "../domain/kernel/deps";
import type { Caller, Principal } from "../domain/kernel/principal";
import type { Env } from "../env";
import { bearerToken, memberOnly, requirePrincipal } from "./authenticate";
import { readJson } from "./body";
import { type AppRequest, depsFor, type RequestState } from "./context";
import { secured } from "./headers";
import { requireOperator } from "./platform-auth";
import type { AuditTrail, Context, Input, Reply, Route } from "./route";
import { parseOrThrow } from "./validation";

const presentParams = (query: AppRequest["query"]) => Object.fromEntries(Object.entries(query).filter(([, value]) => value !== ""));

/** Reading what the route does not declare is a mistake in the route, caught by its first test. */
const undeclared = (route: Route, what: string): never => {
  throw new TypeError(`${route.method.toUpperCase()} ${route.path} declares no ${what}`);
};

/** What the route declares of its request, parsed when the handler asks (one object, no closure per request). */
class RouteInput implements Input<NonNullable<Route["request"]>> {
  constructor(
    private readonly route: Route,
    private readonly request: AppRequest,
    private readonly env: Env,
  ) {}

  body() {
    const { schema, maxBytes } = this.route.request?.body ?? undeclared(this.route, "body");
    return readJson(this.request, schema, maxBytes ?? settingsFor(this.env).maxBodyBytes);
  }

  query() {
    const spec = this.route.request;
    const schema = spec?.query ?? undeclared(this.route, "query");
    return parseOrThrow(schema, spec?.blankQueryIsAbsent ? presentParams(this.request.query) : this.request.query, "query");
  }

  params() {
    return parseOrThrow(this.route.request?.path ?? undeclared(this.route, "path parameters"), this.request.params, "path");
  }

  headers() {
    return parseOrThrow(this.route.request?.headers ?? undeclared(this.route, "headers"), Object.fromEntries(this.request.headers), "header");
  }
}

/**
 * Answers with the body checked against the route's schema for that status: only the fields the
 * contract names leave the Worker (an internal field such as a hash can never slip out), and a
 * reply that breaks the contract fails loudly here instead of reaching a client.
 */
export const respond = (route: Route, reply: Reply, state?: RequestState): Response => {
  const status = reply.status ?? 200;
  const declared = route.responses[status];
  if (!declared) throw new TypeError(`${route.method.toUpperCase()} ${route.path} answered ${status}, which it does not declare`);
  if (reply.body === undefined) return secured((headers) => new Response(null, { status, headers }), reply.headers, state);
  if (!declared.schema) throw new TypeError(`${route.method.toUpperCase()} ${route.path} declares no schema for ${status}`);
  const parsed = declared.schema.parse(reply.body);
  return secured((headers) => Response.json(declared.verbatim ? reply.body : parsed, { status, headers }), reply.headers, state);
};

/** What serve found out about the caller before and while the handler runs. */
interface Found {
  deps?: Deps;
  principal?: Caller;
  operator?: PlatformKey;
  checked?: unknown;
}

const auditOf = (route: Route, request: AppRequest): AuditTrail => {
  const declared = typeof route.audit === "string" ? { action: route.audit } : route.audit;
  if (declared && !("opens" in declared)) request.state.audit = { action: declared.action };
  return {
    note: (details) => {
      if (!declared) throw new TypeError(`${route.method.toUpperCase()} ${route.path} declares no audit action`);
      request.state.audit = Object.assign(request.state.audit ?? { action: declared.action }, details);
    },
  };
};

/**
 * What a handler gets, as one object whose fields are read on demand: a field the route does not
 * declare throws when read, and nothing (the token's presence, the authenticate step) is worked out
 * for a handler that never asks.
 */
class RouteContext implements Context<NonNullable<Route["request"]>, unknown> {
  readonly input: RouteInput;

  constructor(
    private readonly route: Route,
    readonly request: AppRequest,
    readonly env: Env,
    readonly audit: AuditTrail,
    private readonly found: Found,
  ) {
    this.input = new RouteInput(route, request, env);
  }

  private absent(what: string): never {
    return undeclared(this.route, what);
  }

  get hasToken() {
    return bearerToken(this.request) !== null;
  }

  get deps() {
    return this.found.deps ?? this.absent("auth or data");
  }

  get principal() {
    return memberOnly(this.found.principal ?? this.absent(`auth: "required"`));
  }

  get caller() {
    return this.found.principal ?? this.absent(`auth: "required"`);
  }

  get operator() {
    return this.found.operator ?? this.absent(`auth: "platform"`);
  }

  get checked() {
    return "checked" in this.found ? this.found.checked : this.absent("check");
  }

  /** A function of its own, as handlers take it out of the context. */
  get authenticate() {
    const { route, request, env, found } = this;
    return async (): Promise<Principal> => {
      if (!(route.auth === "optional" || route.authenticate === "in-handler") || !found.deps)
        return this.absent(`auth: "optional" or authenticate: "in-handler"`);
      const caller = await requirePrincipal(request, env, found.deps);
      found.principal = caller;
      return memberOnly(caller);
    };
  }
}

/** A read key may read; anything else an operator does needs a write key. */
const scopeOf = (route: Route): "read" | "write" => (route.method === "get" ? "read" : "write");

/**
 * The router's handler for a declared route: what its declaration asks for, in the contract's
 * order (the operator key, the audit note, the route's own checks, the deps, the member's token),
 * then the handler.
 */
export const serve =
  (route: Route) =>
  async (request: AppRequest, env: Env): Promise<Response> => {
    if (route.permission) request.state.permission = route.permission;
    if (route.leadMay) request.state.leadMay = true;
    const found: Found = {};
    if (route.auth === "platform") found.operator = await requireOperator(request, env, scopeOf(route));
    const context = new RouteContext(route, request, env, auditOf(route, request), found);
    if (route.check) found.checked = await route.check(context);
    if (route.auth || route.data) {
      const deps = await depsFor(request, env);
      found.deps = deps;
      if (route.auth === "required" && route.authenticate !== "in-handler") found.principal = await requirePrincipal(request, env, deps);
    }
    const reply = await route.handler(context);
    if (route.auth === "required" && !found.principal) throw new TypeError(`${route.method.toUpperCase()} ${route.path} answered without authenticating`);
    return reply instanceof Response ? reply : respond(route, reply, request.state);
  };
