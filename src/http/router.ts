import { Router } from "itty-router";
import { DataError } from "../data/errors";
import { AppError } from "../domain/kernel/errors";
import type { Env } from "../env";
import { recordAudit } from "./audit-trail";
import { type AppRequest, withState } from "./context";
import { corsify, preflight } from "./cors";
import { finish } from "./headers";
import { errorResponse } from "./http-error";
import { requireOperator } from "./platform-auth";
import { ROUTES } from "./routes";
import { serve } from "./serve-route";

/** A store that cannot be reached is a 503 the client may retry, never a 500. */
const toResponse = (error: unknown, request: AppRequest) =>
  errorResponse(error instanceof DataError && error.code === "Unavailable" ? new AppError("STORE_UNAVAILABLE") : error, request.state?.requestId ?? "-");

/** After every response: headers and the log line, the audit note (written after the answer), CORS. */
const finalize = (response: Response, request: AppRequest, env: Env) => {
  const finished = finish(response, request);
  try {
    recordAudit(finished, request, env);
    return corsify(finished, request, env);
  } catch (error) {
    console.error(JSON.stringify({ msg: "finalize failed", request_id: request.state?.requestId, error: String(error) }));
    return finished;
  }
};

/** OpenAPI's `{id}` is itty-router's `:id` (one non-empty segment). */
const routerPath = (path: string) => path.replace(/\{(\w+)\}/g, ":$1");

/** The router, the declared routes as itty-router compiled them, and the routes found by exact path. */
interface Routing {
  router: ReturnType<typeof Router<AppRequest, [Env, ExecutionContext]>>;
  /** As itty-router compiled them, so a 405 means exactly "another method would match". */
  declared: ReturnType<typeof Router<AppRequest, [Env, ExecutionContext]>>["routes"];
  /**
   * The routes without path parameters, by method and path, each unless a route declared before it
   * would match its path (itty-router takes the first that matches): found in one lookup where
   * itty-router tries the routes' patterns in turn.
   */
  exact: Map<string, ReturnType<typeof serve>>;
}

/**
 * Built on the first request, not at start: compiling a pattern for each of the routes was part
 * of every isolate's start, before its first request could be answered anyway.
 */
let routing: Routing | undefined;

const routingOnce = (): Routing => {
  if (routing) return routing;
  const base = Router<AppRequest, [Env, ExecutionContext]>({ before: [withState, preflight, exactRoute], catch: toResponse, finally: [finalize] });
  for (const route of ROUTES) base[route.method](routerPath(route.path), serve(route));
  const declared = [...base.routes];
  routing = { router: base.all("*", unmatched), declared, exact: exactRoutes(declared) };
  return routing;
};

const exactRoutes = (declared: Routing["declared"]) => {
  const found = new Map<string, ReturnType<typeof serve>>();
  // Each route's own handler as itty-router holds it; a route kept without its path counts as one with parameters.
  declared.forEach(([method, , [handler], path = ":"], i) => {
    const key = `${method} ${path}`;
    const shadowed = declared.slice(0, i).some(([other, pattern]) => other === method && pattern.test(path));
    if (!path.includes(":") && !shadowed && !found.has(key)) found.set(key, handler as ReturnType<typeof serve>);
  });
  return found;
};

/** Router `before` stage: a route found by its exact path is served at once; any other request goes on to itty-router's list. */
const exactRoute = (request: AppRequest, env: Env) => {
  const path = new URL(request.url).pathname;
  const handler = routingOnce().exact.get(`${request.method} ${path}`);
  if (!handler) return undefined;
  request.params = {};
  request.route = path;
  return handler(request, env);
};

/**
 * Unknown paths are FastAPI's 404; known paths with the wrong method its 405. Under /platform the
 * 405 is for operators only (a valid key); anyone else gets the 404 of a path that does not exist.
 */
const unmatched = async (request: AppRequest, env: Env) => {
  const path = new URL(request.url).pathname;
  const known = routingOnce().declared.some(([, pattern]) => pattern.test(path));
  if (known && path.startsWith("/platform/")) await requireOperator(request, env, "read");
  throw new AppError(known ? "METHOD_NOT_ALLOWED" : "NOT_FOUND");
};

export const router = { fetch: (request: Request, env: Env, ctx: ExecutionContext) => routingOnce().router.fetch(request, env, ctx) };
