// `npm run image:check`: which files of this checkout `docker build` would send as the build
// context, read from .dockerignore with Docker's own matching rules (@balena/dockerignore, a port
// of moby's), without needing a Docker engine. Fails if a secret, local state, dependencies or a
// build would be sent, or if something the Dockerfile copies would be left out.
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import dockerignore from "@balena/dockerignore";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..");

/**
 * What must never reach an image, each as a path that exists after `npm start`, `npm test` and
 * `npm run test:mongo` (or in a developer's checkout), and a rule recognising its kind anywhere.
 */
export const FORBIDDEN: readonly { probe: string; why: string; test: (path: string) => boolean }[] = [
  { probe: ".dev.vars", why: "the local JWT secret", test: (p: string) => /(^|\/)\.dev\.vars/.test(p) },
  { probe: ".env", why: "docker compose's GATEWAY_API_KEY", test: (p: string) => /(^|\/)\.env(\.|$)/.test(p) },
  { probe: ".wrangler/state/v3/do/x.sqlite", why: "local Durable Object state", test: (p: string) => /(^|\/)\.wrangler(\/|$)/.test(p) },
  { probe: ".cache/ferretdb/ferretdb", why: "the FerretDB build", test: (p: string) => /(^|\/)\.cache(\/|$)/.test(p) },
  { probe: "node_modules/zod/package.json", why: "the host's dependencies", test: (p: string) => /(^|\/)node_modules(\/|$)/.test(p) },
  { probe: ".git/HEAD", why: "the repository's history", test: (p: string) => /(^|\/)\.git(\/|$)/.test(p) },
  { probe: "dist/gateway/server.mjs", why: "a host build", test: (p: string) => /(^|\/)dist(\/|$)/.test(p) },
  { probe: "coverage/index.html", why: "test output", test: (p: string) => /(^|\/)coverage(\/|$)/.test(p) },
  { probe: "gateway/gateway.log", why: "logs", test: (p: string) => p.endsWith(".log") },
  { probe: "public/docs-assets/swagger-ui-bundle.js", why: "generated assets", test: (p: string) => /(^|\/)public(\/|$)/.test(p) },
  { probe: "src/.dev.vars", why: "a secret one folder down", test: (p: string) => /(^|\/)\.dev\.vars/.test(p) },
  { probe: "server.key", why: "a private key", test: (p: string) => /\.(pem|key)$/.test(p) },
];

/** What gateway/Dockerfile copies and builds from: leaving one out breaks the image. */
export const REQUIRED = [
  "package.json",
  "package-lock.json",
  "scripts/build-worker.mjs",
  "scripts/docs-assets.mjs",
  "scripts/serve.ts",
  "scripts/serve/edge.js",
  "scripts/serve/ratelimit.js",
  "gateway/build.ts",
  "gateway/server.ts",
  "src/index.ts",
  "src/dataapi/handler.ts",
  "clients/typescript/generated/openapi.json",
  "clients/typescript/index.ts",
  "console/index.html",
  "console/src/main.tsx",
  "wrangler.toml",
];

/**
 * Every file and symlink under `root`, relative and with `/`. Symlinks are not followed: Docker
 * sends the link itself. `.git` is listed like anything else, because Docker would send it.
 */
export const checkoutFiles = (root: string): string[] => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.push(relative(root, path).split(sep).join("/"));
    }
  };
  walk(root);
  return files.sort();
};

export const contextFilter = (root: string): ((path: string) => boolean) => {
  const rules = readFileSync(join(root, ".dockerignore"), "utf8");
  const ig = dockerignore().add(rules.split("\n"));
  return (path: string) => !ig.ignores(path);
};

/** The files the build context would hold, and every reason it must not be built from. */
export const checkContext = (root = ROOT): { context: string[]; bytes: number; problems: string[] } => {
  const sent = contextFilter(root);
  const context = checkoutFiles(root).filter(sent);
  const problems: string[] = [];
  for (const { probe, why } of FORBIDDEN) if (sent(probe)) problems.push(`${probe} (${why}) would be sent`);
  for (const path of context) {
    const rule = FORBIDDEN.find((f) => f.test(path));
    if (rule) problems.push(`${path} (${rule.why}) would be sent`);
  }
  for (const path of REQUIRED) if (!sent(path)) problems.push(`${path} is needed by the image but excluded`);
  const bytes = context.reduce((sum, path) => sum + lstatSync(join(root, path)).size, 0);
  return { context, bytes, problems: [...new Set(problems)] };
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? ROOT;
  const { context, bytes, problems } = checkContext(root);
  const all = checkoutFiles(root).length;
  console.log(`image context: ${context.length} of ${all} files in the checkout, ${(bytes / 1024).toFixed(1)} KiB`);
  if (process.argv.includes("--list")) for (const path of context) console.log(`  ${path}`);
  if (problems.length > 0) {
    console.error(`image context check FAILED:\n- ${problems.join("\n- ")}`);
    process.exit(1);
  }
  console.log("image context: no secrets, state, dependencies or builds; everything the Dockerfile needs is there");
}
