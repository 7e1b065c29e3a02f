// Bundles gateway/server.ts (with the shared protocol code from src/) into one ES module for
// Node; why a bundle and not a loader is said at the top of server.ts. Packages stay external:
// the driver loads optional native modules by name, and node_modules is there at run time anyway.
// Run by Node's own type stripping (`node gateway/build.ts`), so this file imports packages only.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const entry = (name: string) => fileURLToPath(new URL(`./${name}.ts`, import.meta.url));

// The server, and the one-off migration of a FastAPI-era master database (npm run migrate:fastapi).
await build({
  entryPoints: { server: entry("server"), "migrate-cli": entry("migrate-cli") },
  outdir: fileURLToPath(new URL("../dist/gateway/", import.meta.url)),
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
});
