import { AppError } from "../../domain/kernel/errors";
import type { Env } from "../../env";
import type { AppRequest } from "../context";
import { defineRoute, type Route } from "../route";
import { staticFile } from "./assets";

/**
 * The console's policy: only this origin's scripts, styles and API, nothing inline, no framing,
 * no plugins, no <base> rewriting, and forms that post nowhere (the console calls the API itself).
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

/** The console's one page: every path under /console is the same document, which routes in the browser. */
const consolePage = async ({ request, env }: { request: AppRequest; env: Env }): Promise<Response> => {
  const file = await staticFile(env, new URL("/console/index.html", request.url));
  if (!file) throw new AppError("NOT_FOUND");
  return new Response(file.body, {
    headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": CONSOLE_CSP, "cache-control": "no-cache" },
  });
};

/** The console's script, styles and images, built into public/console/assets (scripts/console-build.mjs). */
const consoleAsset = async ({ request, env }: { request: AppRequest; env: Env }): Promise<Response> => {
  const file = await staticFile(env, request.url, request.method);
  if (!file) throw new AppError("NOT_FOUND");
  return file;
};

const page = (path: string): Route =>
  defineRoute({
    method: "get",
    path,
    tag: "docs",
    summary: __DOCS__ && "The console",
    internal: true,
    responses: { 200: { description: __DOCS__ && "The console's page", contentType: "text/html" } },
    errors: ["NOT_FOUND"],
    handler: consolePage,
  });

export const consoleRoutes: Route[] = [
  defineRoute({
    method: "get",
    path: "/console/assets/*",
    tag: "docs",
    summary: __DOCS__ && "A static file of the console",
    internal: true,
    responses: { 200: { description: __DOCS__ && "The file", contentType: "application/octet-stream" } },
    errors: ["NOT_FOUND"],
    handler: consoleAsset,
  }),
  page("/console"),
  page("/console/*"),
];
