import type { Env } from "../../env";
import type { AppRequest } from "../context";
import { defineRoute, type Route } from "../route";
import { staticFile } from "./assets";

const page = (title: string, head: string, body: string, headers: Record<string, string> = {}) =>
  new Response(
    `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title>
<link rel="icon" href="/docs-assets/favicon-32x32.png">${head}</head>
<body>${body}</body>
</html>
`,
    { headers: { "content-type": "text/html; charset=utf-8", ...headers } },
  );

const html = { description: __DOCS__ && "An HTML page", contentType: "text/html" };

/**
 * ReDoc runs its search index in a Worker made from a blob: URL; the site-wide policy would block
 * it. Only scripts of this origin run on the page, so only they can create such a Worker.
 */
const REDOC_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; frame-ancestors 'none'";

/**
 * The OpenAPI document, a static file made from the route declarations before the Worker is built
 * (src/http/openapi.ts says why). A missing file is a broken deployment, not the caller's doing.
 */
const serveDocument = async ({ request, env }: { request: AppRequest; env: Env }): Promise<Response> => {
  const file = await staticFile(env, new URL("/openapi.json", request.url));
  if (file?.status !== 200) throw new Error("public/openapi.json is missing from the deployed assets: run `npm install` before deploying");
  return new Response(file.body, { headers: { "content-type": "application/json" } });
};

/** The document and the pages that show it. */
export const docsRoutes: Route[] = [
  defineRoute({
    method: "get",
    path: "/openapi.json",
    tag: "docs",
    summary: __DOCS__ && "This OpenAPI 3.1 document",
    responses: { 200: { description: __DOCS__ && "The document", contentType: "application/json" } },
    errors: [],
    handler: serveDocument,
  }),
  /** Swagger UI from the Worker's own static assets: no CDN, works offline. */
  defineRoute({
    method: "get",
    path: "/docs",
    tag: "docs",
    summary: __DOCS__ && "Swagger UI",
    responses: { 200: html },
    errors: [],
    handler: () =>
      page(
        "Organization Management Service – Swagger UI",
        `<link rel="stylesheet" href="/docs-assets/swagger-ui.css">`,
        `<div id="swagger-ui"></div><script src="/docs-assets/swagger-ui-bundle.js"></script><script src="/docs-assets/swagger-init.js"></script>`,
      ),
  }),
  defineRoute({
    method: "get",
    path: "/redoc",
    tag: "docs",
    summary: __DOCS__ && "ReDoc",
    responses: { 200: html },
    errors: [],
    handler: () =>
      page(
        "Organization Management Service – ReDoc",
        "",
        `<div id="redoc"></div><script src="/docs-assets/redoc.standalone.js"></script><script src="/docs-assets/redoc-init.js"></script>`,
        { "content-security-policy": REDOC_CSP },
      ),
  }),
];
