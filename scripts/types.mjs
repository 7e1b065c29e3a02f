// `npm run types`: wrangler's generated Env (worker-configuration.d.ts) for wrangler.toml. wrangler
// takes the Durable Object classes' types from the config's `main`, which is the built module
// (scripts/build-worker.mjs, plain JavaScript); the types are the source's, src/index.ts.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { WORKER_OUT } from "./build-worker.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = join(root, "node_modules", "wrangler", "bin", "wrangler.js");
execFileSync(process.execPath, [wrangler, "types", "--include-runtime=false", "--strict-vars=false", "--env-file=.dev.vars.example"], {
  cwd: root,
  stdio: "inherit",
});
const file = join(root, "worker-configuration.d.ts");
// wrangler names the module as an import from this file: `./dist/worker/index`, without `.js`.
const built = `import("./${relative(root, WORKER_OUT).replace(/\.js$/, "")}")`;
writeFileSync(file, readFileSync(file, "utf8").replaceAll(built, 'import("./src/index")'));
