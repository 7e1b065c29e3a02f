// Puts the API's documentation and the console into public/ so the Worker serves them itself
// (Workers static assets), with no CDN: /docs and /console work offline. The OpenAPI document comes from the checked-in copy
// that `npm run client:generate` writes from the route declarations (CI fails if it is stale);
// the Swagger UI and ReDoc bundles come from their packages.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));

// The image installs its dependencies before the sources are copied in (gateway/Dockerfile's
// `deps` stage), then runs this again with them: without them there is nothing to put in place yet.
const documentFile = join(root, "clients", "typescript", "generated", "openapi.json");
if (!existsSync(documentFile) || !existsSync(join(root, "console"))) {
  console.log("docs-assets: the sources are not here yet (an image's dependency stage); nothing to build");
  process.exit(0);
}
const document = JSON.parse(readFileSync(documentFile, "utf8"));
mkdirSync(join(root, "public"), { recursive: true });
writeFileSync(join(root, "public", "openapi.json"), JSON.stringify(document));

// The bundles are dev dependencies: a production install (`npm ci --omit=dev`, the gateway's
// image) has no docs pages to serve and nothing to copy, and must not fail for it.
try {
  require.resolve("swagger-ui-dist/package.json");
} catch {
  console.log("docs-assets: swagger-ui-dist is not installed (production install); docs pages skipped");
  process.exit(0);
}
const target = join(root, "public", "docs-assets");
mkdirSync(target, { recursive: true });

const swagger = dirname(require.resolve("swagger-ui-dist/package.json"));
for (const file of ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"]) copyFileSync(join(swagger, file), join(target, file));

// ReDoc's sidebar footer loads its logo from Redocly's CDN on every page view: a request off this
// origin that fails offline and tells a third party who reads the docs. A transparent pixel
// keeps the footer's layout with no request at all.
const redocBundle = readFileSync(join(dirname(require.resolve("redoc/package.json")), "bundles", "redoc.standalone.js"), "utf8");
const pixel = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";
writeFileSync(join(target, "redoc.standalone.js"), redocBundle.replaceAll("https://cdn.redoc.ly/redoc/logo-mini.svg", pixel));

// Initialisers live in files, not inline scripts, so a strict Content-Security-Policy can stay on.
// Swagger UI keeps the bearer token in memory only: persisted authorisation would leave it in
// localStorage, where any script of this origin (and anyone at the browser later) can read it.
const swaggerInit = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", persistAuthorization: false, deepLinking: true });\n`;
const redocInit = `Redoc.init("/openapi.json", {}, document.getElementById("redoc"));\n`;
writeFileSync(join(target, "swagger-init.js"), swaggerInit);
writeFileSync(join(target, "redoc-init.js"), redocInit);

// The console (console/), bundled into public/console.
const { buildConsole } = await import("./console-build.mjs");
await buildConsole();
