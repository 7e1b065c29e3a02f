// Bundles gateway/server.ts (with the shared protocol code from src/) into one ES module for
// Node; why a bundle and not a loader is said at the top of server.ts. Packages stay external:
// the driver loads optional native modules by name, and node_modules is there at run time anyway.
// Run by Node's own type stripping (`node gateway/build.ts`), so this file imports packages only.
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const GATEWAY_BUNDLE = fileURLToPath(new URL("../dist/gateway/server.mjs", import.meta.url));

await build({
  entryPoints: [fileURLToPath(new URL("./server.ts", import.meta.url))],
  outfile: GATEWAY_BUNDLE,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
});
