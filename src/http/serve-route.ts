import { settingsFor } from "../deps";
import type { Env } from "../env";
import { readJson } from "./body";
import type { AppRequest } from "./context";
import { secured } from "./headers";
import type { Input, Reply, Route } from "./route";
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
export const respond = (route: Route, reply: Reply): Response => {
  const status = reply.status ?? 200;
  const declared = route.responses[status];
  if (!declared) throw new TypeError(`${route.method.toUpperCase()} ${route.path} answered ${status}, which it does not declare`);
  if (reply.body === undefined) return secured((headers) => new Response(null, { status, headers }), reply.headers);
  if (!declared.schema) throw new TypeError(`${route.method.toUpperCase()} ${route.path} declares no schema for ${status}`);
  const parsed = declared.schema.parse(reply.body);
  return secured((headers) => Response.json(declared.verbatim ? reply.body : parsed, { status, headers }), reply.headers);
};

/** The router's handler for a declared route. */
export const serve =
  (route: Route) =>
  async (request: AppRequest, env: Env): Promise<Response> => {
    if (route.permission) request.state.permission = route.permission;
    const reply = await route.handler(request, env, inputOf(route, request, env));
    return reply instanceof Response ? reply : respond(route, reply);
  };
