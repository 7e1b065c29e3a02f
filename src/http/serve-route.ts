import type { PlatformKey } from "../config/settings";
import { settingsFor } from "../deps";
import type { Deps } from "../domain/kernel/deps";
import type { Caller } from "../domain/kernel/principal";
import type { Env } from "../env";
import { bearerToken, memberOnly, requirePrincipal } from "./authenticate";
import { readJson } from "./body";
import { type AppRequest, depsFor, type RequestState } from "./context";
import { secured } from "./headers";
import { requireOperator } from "./platform-auth";
import type { AuditTrail, Context, Input, Reply, Route } from "./route";
import { parseOrThrow } from "./validation";

const presentParams = (query: AppRequest["query"]) => Object.fromEntries(Object.entries(query).filter(([, value]) => value !== ""));

const inputOf = (route: Route, request: AppRequest, env: Env): Input<NonNullable<Route["request"]>> => {
  const spec = route.request ?? {};
  const missing = (what: string) => new TypeError(`${route.method.toUpperCase()} ${route.path} declares no ${what}`);
  return {
    body: async () => {
      if (!spec.body) throw missing("body");
      return readJson(request, spec.body.schema, spec.body.maxBytes ?? settingsFor(env).maxBodyBytes);
    },
    query: () => {
      if (!spec.query) throw missing("query");
      return parseOrThrow(spec.query, spec.blankQueryIsAbsent ? presentParams(request.query) : request.query, "query");
    },
    params: () => {
      if (!spec.path) throw missing("path parameters");
      return parseOrThrow(spec.path, request.params, "path");
    },
    headers: () => {
      if (!spec.headers) throw missing("headers");
      return parseOrThrow(spec.headers, Object.fromEntries(request.headers), "header");
    },
  };
};

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

const contextOf = (route: Route, request: AppRequest, env: Env, audit: AuditTrail, found: Found): Context<NonNullable<Route["request"]>, unknown> => {
  const absent = (what: string): never => {
    throw new TypeError(`${route.method.toUpperCase()} ${route.path} declares no ${what}`);
  };
  const late = route.auth === "optional" || route.authenticate === "in-handler";
  return {
    request,
    env,
    input: inputOf(route, request, env),
    audit,
    hasToken: bearerToken(request) !== null,
    get deps() {
      return found.deps ?? absent("auth or data");
    },
    get principal() {
      return memberOnly(found.principal ?? absent(`auth: "required"`));
    },
    get caller() {
      return found.principal ?? absent(`auth: "required"`);
    },
    get operator() {
      return found.operator ?? absent(`auth: "platform"`);
    },
    get checked() {
      return "checked" in found ? found.checked : absent("check");
    },
    authenticate: async () => {
      if (!late || !found.deps) return absent(`auth: "optional" or authenticate: "in-handler"`);
      const caller = await requirePrincipal(request, env, found.deps);
      found.principal = caller;
      return memberOnly(caller);
    },
  };
};

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
    const context = contextOf(route, request, env, auditOf(route, request), found);
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
