import { type IRequest, Router } from "itty-router";
import { DataError } from "../data/errors";
import { AppError } from "../domain/errors";
import type { Env } from "../env";
import { type AppRequest, withState } from "./context";
import { finish } from "./headers";
import { errorResponse } from "./http-error";
import { loginRoute } from "./routes/admin";
import { openApiRoute, redocRoute, swaggerRoute } from "./routes/docs";
import { healthRoute, readyRoute } from "./routes/health";
import { createRoute, deleteRoute, getRoute, updateRoute } from "./routes/organizations";
import { createRecordRoute, deleteRecordRoute, getRecordRoute, listRecordsRoute, replaceRecordRoute } from "./routes/records";

const KNOWN_PATHS = new Set([
  "/org/create",
  "/org/get",
  "/org/update",
  "/org/delete",
  "/admin/login",
  "/docs",
  "/redoc",
  "/openapi.json",
  "/health",
  "/ready",
  "/org/records",
]);
/** Known paths with a parameter, as itty-router matches them (`:id` is one non-empty segment). */
const KNOWN_PATTERNS = [/^\/org\/records\/[^/]+\/*$/];

/** Unknown paths are FastAPI's 404; known paths with the wrong method its 405. */
const unmatched = (request: IRequest) => {
  const path = new URL(request.url).pathname;
  throw new AppError(KNOWN_PATHS.has(path) || KNOWN_PATTERNS.some((pattern) => pattern.test(path)) ? "METHOD_NOT_ALLOWED" : "NOT_FOUND");
};

/** A store that cannot be reached is a 503 the client may retry, never a 500. */
const toResponse = (error: unknown, request: AppRequest) =>
  errorResponse(error instanceof DataError && error.code === "Unavailable" ? new AppError("STORE_UNAVAILABLE") : error, request.state?.requestId ?? "-");

export const router = Router<AppRequest, [Env, ExecutionContext]>({
  before: [withState],
  catch: toResponse,
  finally: [finish],
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
  .get("/openapi.json", openApiRoute)
  .get("/docs", swaggerRoute)
  .get("/redoc", redocRoute)
  .get("/health", healthRoute)
  .get("/ready", readyRoute)
  .all("*", unmatched);
