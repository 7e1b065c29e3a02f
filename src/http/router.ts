import { type IRequest, Router } from "itty-router";
import { DataError } from "../data/errors";
import { AppError } from "../domain/errors";
import type { Env } from "../env";
import { recordAudit } from "./audit-trail";
import { type AppRequest, withState } from "./context";
import { corsify, preflight } from "./cors";
import { finish } from "./headers";
import { errorResponse } from "./http-error";
import { loginRoute, logoutRoute, passwordRoute } from "./routes/admin";
import { assetRoute } from "./routes/assets";
import { openApiRoute, redocRoute, swaggerRoute } from "./routes/docs";
import { healthRoute, readyRoute } from "./routes/health";
import { jwksRoute } from "./routes/jwks";
import { createRoute, deleteRoute, getRoute, updateRoute } from "./routes/organizations";
import { createRecordRoute, deleteRecordRoute, getRecordRoute, listRecordsRoute, replaceRecordRoute } from "./routes/records";

const KNOWN_PATHS = new Set([
  "/org/create",
  "/org/get",
  "/org/update",
  "/org/delete",
  "/admin/login",
  "/admin/logout",
  "/admin/password",
  "/.well-known/jwks.json",
  "/docs",
  "/redoc",
  "/openapi.json",
  "/health",
  "/ready",
  "/org/records",
]);
/** Known paths with a parameter, as itty-router matches them (`:id` is one non-empty segment). */
const KNOWN_PATTERNS = [/^\/org\/records\/[^/]+\/*$/, /^\/docs-assets\/./];

/** Unknown paths are FastAPI's 404; known paths with the wrong method its 405. */
const unmatched = (request: IRequest) => {
  const path = new URL(request.url).pathname;
  throw new AppError(KNOWN_PATHS.has(path) || KNOWN_PATTERNS.some((pattern) => pattern.test(path)) ? "METHOD_NOT_ALLOWED" : "NOT_FOUND");
};

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

export const router = Router<AppRequest, [Env, ExecutionContext]>({
  before: [withState, preflight],
  catch: toResponse,
  finally: [finalize],
})
  .post("/org/create", createRoute)
  .get("/org/get", getRoute)
  .put("/org/update", updateRoute)
  .delete("/org/delete", deleteRoute)
  .post("/org/records", createRecordRoute)
  .get("/org/records", listRecordsRoute)
  .get("/org/records/:id", getRecordRoute)
  .put("/org/records/:id", replaceRecordRoute)
  .delete("/org/records/:id", deleteRecordRoute)
  .post("/admin/login", loginRoute)
  .post("/admin/logout", logoutRoute)
  .post("/admin/password", passwordRoute)
  .get("/.well-known/jwks.json", jwksRoute)
  .get("/openapi.json", openApiRoute)
  .get("/docs", swaggerRoute)
  .get("/redoc", redocRoute)
  .get("/docs-assets/*", assetRoute)
  .head("/docs-assets/*", assetRoute)
  .get("/health", healthRoute)
  .get("/ready", readyRoute)
  .all("*", unmatched);
