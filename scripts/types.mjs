// `npm run types`: wrangler's generated Env (worker-configuration.d.ts) for wrangler.toml. wrangler
// takes the Durable Object classes' types from the config's `main`, which is the built module
// (scripts/build-worker.mjs, plain JavaScript); the types are the source's, src/index.ts.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wrangler = join(root, "node_modules", "wrangler", "bin", "wrangler.js");
execFileSync(process.execPath, [wrangler, "types", "--include-runtime=false", "--strict-vars=false", "--env-file=.dev.vars.example"], {
  cwd: root,
  stdio: "inherit",
});
const file = join(root, "worker-configuration.d.ts");
writeFileSync(file, readFileSync(file, "utf8").replaceAll('import("./dist/worker/index")', 'import("./src/index")'));
