import { openApiDocument } from "../openapi";

let cached: string | undefined;

export const openApiRoute = () => {
  cached ??= JSON.stringify(openApiDocument());
  return new Response(cached, { headers: { "content-type": "application/json" } });
};

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

/** Swagger UI from the Worker's own static assets: no CDN, works offline. */
export const swaggerRoute = () =>
  page(
    "Organization Management Service – Swagger UI",
    `<link rel="stylesheet" href="/docs-assets/swagger-ui.css">`,
    `<div id="swagger-ui"></div><script src="/docs-assets/swagger-ui-bundle.js"></script><script src="/docs-assets/swagger-init.js"></script>`,
  );

/**
 * ReDoc runs its search index in a Worker made from a blob: URL; the site-wide policy would block
 * it. Only scripts of this origin run on the page, so only they can create such a Worker.
 */
const REDOC_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; frame-ancestors 'none'";

export const redocRoute = () =>
  page(
    "Organization Management Service – ReDoc",
    "",
    `<div id="redoc"></div><script src="/docs-assets/redoc.standalone.js"></script><script src="/docs-assets/redoc-init.js"></script>`,
    { "content-security-policy": REDOC_CSP },
  );
