// Copies the Swagger UI and ReDoc bundles into public/docs-assets so the Worker serves its API
// documentation itself (Workers static assets), with no CDN: /docs works offline.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));
const target = join(root, "public", "docs-assets");
mkdirSync(target, { recursive: true });

const swagger = dirname(require.resolve("swagger-ui-dist/package.json"));
for (const file of ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"]) copyFileSync(join(swagger, file), join(target, file));
copyFileSync(join(dirname(require.resolve("redoc/package.json")), "bundles", "redoc.standalone.js"), join(target, "redoc.standalone.js"));

// Initialisers live in files, not inline scripts, so a strict Content-Security-Policy can stay on.
const swaggerInit = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", persistAuthorization: true, deepLinking: true });\n`;
const redocInit = `Redoc.init("/openapi.json", {}, document.getElementById("redoc"));\n`;
import("node:fs").then(({ writeFileSync }) => {
  writeFileSync(join(target, "swagger-init.js"), swaggerInit);
  writeFileSync(join(target, "redoc-init.js"), redocInit);
});
