// A Worker as production runs it, for the bench: the built script served by workerd through
// Miniflare's API, with the bindings its wrangler config declares (the assets and the Rate
// Limiting bindings answered as deployed, below), and nothing of `wrangler dev` in front of it
// (no development proxy, no inspector, no log shipping to a Node terminal).
// workerd writes each log line to its stdout, as a deployed runtime hands it to its log pipeline.
//
//   node bench/workerd.mjs --config <wrangler.toml> --script <built module> --port <n>
//                          --persist <dir> [--var NAME:value ...] [--asset-router]
//
// Run as a child process of its own (bench/processes.mjs), so that its CPU time (Node's and
// workerd's) is read apart from the load generator's. It prints "ready <url>" once it answers.

import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

const args = process.argv.slice(2);
const one = (flag) => {
  const at = args.indexOf(flag);
  if (at < 0 || at + 1 >= args.length) throw new Error(`${flag} is required`);
  return args[at + 1];
};
const vars = Object.fromEntries(args.flatMap((arg, i) => (args[i - 1] === "--var" ? [[arg.slice(0, arg.indexOf(":")), arg.slice(arg.indexOf(":") + 1)]] : [])));

const { workerOptions } = unstable_getMiniflareWorkerOptions(one("--config"));

/**
 * Deployed, static assets are routed by Cloudflare ahead of the Worker, on its own machines: the
 * Worker's CPU and its isolate's thread never see it. Locally Miniflare runs that router (and an
 * RPC proxy) as two more JavaScript Workers in the same workerd thread, in front of every request.
 * So the Worker runs here as the entry itself, and its ASSETS binding is answered from the same
 * folder by Node (only the docs pages use it; none of them is measured).
 */
const assetsFrom = (directory) => async (request) => {
  const path = normalize(decodeURIComponent(new URL(request.url).pathname)).replace(/^(\.\.[/\\])+/, "");
  try {
    const bytes = await readFile(join(directory, path));
    return new Response(bytes, { headers: { "content-type": TYPES[extname(path)] ?? "application/octet-stream" } });
  } catch {
    return new Response("not found", { status: 404 });
  }
};
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};
const { assets, ratelimits, ...direct } = workerOptions;
if (assets) direct.serviceBindings = { ...direct.serviceBindings, [assets.binding]: assetsFrom(assets.directory) };

/**
 * Deployed, a Rate Limiting binding counts on the machine the Worker runs on and settles with
 * its location in the background: the call costs the Worker next to nothing. Locally Miniflare
 * answers each call with an HTTP request into a Durable Object that writes the count to SQLite on
 * disk, in the same workerd thread as the Worker. So each binding is answered here by the
 * in-memory counter `npm run serve` uses (scripts/serve/ratelimit.js), in a Worker of its own
 * reached over RPC: one call between isolates is left of what the deployed binding does not cost.
 */
const LIMITERS = "bench-ratelimits";
const limiterWorker = (specs) => {
  const limiter = join(dirname(fileURLToPath(import.meta.url)), "..", "scripts", "serve", "ratelimit.js");
  const classes = Object.entries(specs).map(
    ([name, { simple }]) =>
      `const ${name}_COUNTER = makeRateLimiter(${JSON.stringify(simple)});\n` +
      `export class ${name} extends WorkerEntrypoint { limit(options) { return ${name}_COUNTER.limit(options); } }`,
  );
  return {
    name: LIMITERS,
    // The first module is the Worker's main one.
    modules: [
      {
        type: "ESModule",
        path: "/limiters/limiters.js",
        contents: ['import { WorkerEntrypoint } from "cloudflare:workers";', 'import makeRateLimiter from "./ratelimit.js";', ...classes].join("\n"),
      },
      { type: "ESModule", path: "/limiters/ratelimit.js", contents: readFileSync(limiter, "utf8") },
    ],
    modulesRoot: "/limiters",
    compatibilityDate: workerOptions.compatibilityDate,
  };
};
const limited = ratelimits && Object.keys(ratelimits).length > 0 && !args.includes("--asset-router");
if (limited)
  direct.serviceBindings = {
    ...direct.serviceBindings,
    ...Object.fromEntries(Object.keys(ratelimits).map((name) => [name, { name: LIMITERS, entrypoint: name }])),
  };
const script = resolve(one("--script"));

const mf = new Miniflare(
  convertV4MiniflareOptions({
    workers: [
      {
        ...(args.includes("--asset-router") ? workerOptions : direct),
        name: "bench",
        modules: [{ type: "ESModule", path: script }],
        modulesRoot: dirname(script),
        bindings: { ...workerOptions.bindings, ...vars },
        // Cron Triggers only fire when asked for (wrangler dev does the same): none during a measurement.
        cronTriggers: undefined,
      },
      ...(limited ? [limiterWorker(ratelimits)] : []),
    ],
    // No download of request.cf from Cloudflare: loopback only.
    cf: false,
    host: "127.0.0.1",
    port: Number(one("--port")),
    defaultPersistRoot: one("--persist"),
    log: new Log(LogLevel.WARN),
    // Each request's log line leaves workerd as it would deployed (its stdout here, Workers Logs
    // there); only warnings and errors are printed, so a failure still says why.
    handleStructuredLogs: ({ level, message }) => {
      if (level === "error" || level === "warn") process.stderr.write(`${message}\n`);
    },
    // Only to attach a profiler (Chrome DevTools) by hand; the timed runs leave it off.
    ...(args.includes("--inspector-port") ? { inspectorPort: Number(one("--inspector-port")) } : {}),
  }),
);

const url = await mf.ready;
console.log(`ready ${url.origin}`);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => mf.dispose().finally(() => process.exit(0)));
