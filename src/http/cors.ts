import { cors } from "itty-router";
import type { Settings } from "../config/settings";
import { settingsFor } from "../deps";
import type { Env } from "../env";

type CorsPair = ReturnType<typeof cors>;

const pairs = new WeakMap<Settings, CorsPair>();

/** itty-router's CORS, closed by default: only CORS_ALLOWED_ORIGINS get an allow-origin header. */
const corsFor = (env: Env): CorsPair => {
  const settings = settingsFor(env);
  let pair = pairs.get(settings);
  if (!pair) {
    const allowed = new Set(settings.corsOrigins);
    pair = cors({
      origin: (origin) => (allowed.has(origin) ? origin : undefined),
      allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
      allowHeaders: ["authorization", "content-type", "x-admin-email", "x-request-id"],
      exposeHeaders: ["x-request-id", "retry-after"],
      maxAge: 600,
    });
    pairs.set(settings, pair);
  }
  return pair;
};

export const preflight = (request: Request, env: Env) => corsFor(env).preflight(request);

export const corsify = (response: Response, request: Request, env: Env) => (request.headers.has("origin") ? corsFor(env).corsify(response, request) : response);
