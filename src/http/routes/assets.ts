import { AppError } from "../../domain/kernel/errors";
import type { Env } from "../../env";
import type { AppRequest } from "../context";
import { defineRoute, type Method, type Route } from "../route";

/**
 * The docs pages' scripts and styles, read through the ASSETS binding. The Worker runs first for
 * every request (`run_worker_first`), so these files get the same headers and request id as any
 * other answer; a file that is not there is the API's own 404.
 */
const serveAsset = async ({ request, env }: { request: AppRequest; env: Env }): Promise<Response> => {
  const file = await staticFile(env, request.url, request.method);
  if (!file) throw new AppError("NOT_FOUND");
  return file;
};

/** A file of public/ through the ASSETS binding; null when it is not there (or no assets are bound). */
export const staticFile = async (env: Env, url: string | URL, method = "GET"): Promise<Response | null> => {
  const file = await env.ASSETS?.fetch(url, { method });
  return file && file.status !== 404 ? file : null;
};

const assetRoute = (method: Method): Route =>
  defineRoute({
    method,
    path: "/docs-assets/*",
    tag: "docs",
    summary: __DOCS__ && "A static file of the docs pages",
    internal: true,
    responses: { 200: { description: __DOCS__ && "The file", contentType: "application/octet-stream" } },
    errors: ["NOT_FOUND"],
    handler: serveAsset,
  });

export const assetRoutes = [assetRoute("get"), assetRoute("head")];
