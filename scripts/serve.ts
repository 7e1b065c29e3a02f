// `npm run serve`: the built Worker (what `wrangler deploy` uploads) on workerd, Cloudflare's
// open-source runtime, for self-hosting. No development server in between: workerd listens on the
// socket and the Node process only builds, starts workerd, and runs the Cron Trigger's clock.
//
//   npm run serve [-- --host 0.0.0.0] [--port 8787] [--persist .data] [--tick-seconds 60]
//                    [--trust-proxy] [--no-build] [--config wrangler.toml] [--outdir dist/serve]
//
// Each flag has an environment variable (HOST, PORT, PERSIST_DIR, TICK_SECONDS, TRUST_PROXY=1,
// SERVE_NO_BUILD=1), so a container is configured like the Worker: from its environment. The
// secrets and settings (JWT_SECRET, DATA_API_URL, …, every name of src/config/settings.ts) are
// read from the environment too and handed to workerd by name, never written to a file.
// docs/operations.md, "Self-hosting", says why each part is as it is.
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { lookup } from "node:dns/promises";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { freePort } from "./processes.ts";
import { cronPeriodSeconds } from "./serve/cron.ts";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..");
const HELPERS = join(ROOT, "scripts", "serve");

const { values: flags } = parseArgs({
  options: {
    host: { type: "string" },
    port: { type: "string" },
    persist: { type: "string" },
    "tick-seconds": { type: "string" },
    "trust-proxy": { type: "boolean" },
    "no-build": { type: "boolean" },
    "build-only": { type: "boolean" },
    config: { type: "string" },
    outdir: { type: "string" },
  },
});
const env = process.env;
const options = {
  host: flags.host ?? env.HOST ?? "127.0.0.1",
  port: Number(flags.port ?? env.PORT ?? 8787),
  persist: resolve(flags.persist ?? env.PERSIST_DIR ?? join(ROOT, ".data")),
  tickSeconds: flags["tick-seconds"] ?? env.TICK_SECONDS,
  trustProxy: flags["trust-proxy"] ?? env.TRUST_PROXY === "1",
  build: !(flags["no-build"] ?? env.SERVE_NO_BUILD === "1"),
  config: resolve(flags.config ?? join(ROOT, "wrangler.toml")),
};
/** Where the build goes (`wrangler deploy --dry-run --outdir`) and the workerd config beside it. */
const OUT = resolve(flags.outdir ?? join(ROOT, "dist", "serve"));

const log = (message: string) => console.log(`serve: ${message}`);

/** The production bundle, built exactly as `wrangler deploy` builds it (no account, no upload). */
const build = () =>
  new Promise<void>((done, fail) => {
    const wrangler = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
    const quiet = { ...env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", NO_COLOR: "1" };
    execFile(
      process.execPath,
      [wrangler, "deploy", "--dry-run", "--outdir", OUT, "--config", options.config],
      { cwd: ROOT, env: quiet },
      (error, stdout, stderr) => (error ? fail(new Error(`wrangler deploy --dry-run failed:\n${stdout}${stderr}`)) : done()),
    );
  });

/** A Cap'n Proto text literal. (`embed` paths are relative to the config file, in OUT.) */
const text = (value: string) =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it escapes.
  `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\u0000-\u001f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)}"`;

/** The names the Worker reads from its environment: wrangler.toml's vars and every setting. */
const settingNames = (vars: Record<string, unknown>) => {
  const settings = readFileSync(join(ROOT, "src", "config", "settings.ts"), "utf8");
  const named = [...settings.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1] as string);
  return [
    ...new Set([
      ...Object.keys(vars),
      ...named,
      "JWT_SECRET",
      "JWT_SECRET_PREVIOUS",
      "JWT_PRIVATE_KEY",
      "JWT_PREVIOUS_PUBLIC_KEY",
      "DATA_API_KEY",
      "PLATFORM_API_KEYS",
    ]),
  ];
};

/**
 * workerd's configuration: the public socket to the edge Worker (scripts/serve/edge.js), the
 * service with its bindings, its Durable Objects on local disk, its assets, and a loopback socket
 * for serve's clock (scripts/serve/control.js).
 */
const workerdConfig = (controlPort: number, outbound: string[]) => {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(options.config);
  const vars = (workerOptions.bindings ?? {}) as Record<string, unknown>;
  const bindings: string[] = [];
  for (const name of settingNames(vars)) {
    // The environment wins over wrangler.toml's [vars], as a secret or `--var` would; empty is unset.
    if (env[name]) bindings.push(`(name = ${text(name)}, fromEnvironment = ${text(name)})`);
    else if (vars[name] !== undefined) bindings.push(`(name = ${text(name)}, text = ${text(String(vars[name]))})`);
  }
  const objects = Object.entries(workerOptions.durableObjects ?? {}).map(([binding, spec]) => ({
    binding,
    className: typeof spec === "string" ? spec : (spec as { className: string }).className,
  }));
  for (const { binding, className } of objects) bindings.push(`(name = ${text(binding)}, durableObjectNamespace = ${text(className)})`);
  for (const [name, spec] of Object.entries(workerOptions.ratelimits ?? {})) {
    const { limit, period } = (spec as { simple: { limit: number; period: number } }).simple;
    bindings.push(
      `(name = ${text(name)}, wrapped = (moduleName = "serve-internal:ratelimit", innerBindings = [(name = "limit", json = "${limit}"), (name = "period", json = "${period}")]))`,
    );
  }
  const assets = workerOptions.assets as { directory: string; binding: string } | undefined;
  if (assets) bindings.push(`(name = ${text(assets.binding)}, service = "assets")`);
  const date = text(String(workerOptions.compatibilityDate));
  const compatFlags = `[${((workerOptions.compatibilityFlags ?? []) as string[]).map(text).join(", ")}]`;
  // The Durable Objects' files are named by this key: it must never change, or the data is left behind.
  const namespaces = objects.map(({ className }) => `(className = ${text(className)}, uniqueKey = ${text(`oms-${className}`)}, enableSql = true)`);
  const helper = (name: string, file: string, extra = "") =>
    `(name = ${text(name)}, worker = (modules = [(name = ${text(file)}, esModule = embed ${text(relative(OUT, join(HELPERS, file)))})], compatibilityDate = ${date}${extra}))`;
  const peerHeader = options.trustProxy ? "" : `, injectRequestHeaders = [(name = "cf-connecting-ip")]`;
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "api", worker = (
      modules = [(name = "index.js", esModule = embed "index.js")],
      compatibilityDate = ${date},
      compatibilityFlags = ${compatFlags},
      bindings = [${bindings.join(",\n        ")}],
      durableObjectNamespaces = [${namespaces.join(", ")}],
      durableObjectStorage = (localDisk = "do-disk"),
    )),
    ${helper("edge", "edge.js", `, bindings = [(name = "API", service = "api")]`)},
    ${helper("control", "control.js", `, bindings = [(name = "API", service = "api"), (name = "CONTROL_TOKEN", fromEnvironment = "SERVE_CONTROL_TOKEN")]`)},
    ${helper("assets", "assets.js", `, bindings = [(name = "FILES", service = "asset-files")]`)},
    (name = "asset-files", disk = (path = ${text(resolve(assets?.directory ?? join(ROOT, "public")))}, writable = false)),
    (name = "do-disk", disk = (path = ${text(join(options.persist, "do"))}, writable = true)),
    (name = "internet", network = (allow = [${outbound.map(text).join(", ")}], tlsOptions = (trustBrowserCas = true))),
  ],
  sockets = [
    (name = "http", address = ${text(`${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.port}`)}, http = (${peerHeader.slice(2)}), service = "edge"),
    (name = "control", address = ${text(`127.0.0.1:${controlPort}`)}, http = (), service = "control"),
  ],
  extensions = [(modules = [(name = "serve-internal:ratelimit", internal = true, esModule = embed ${text(relative(OUT, join(HELPERS, "ratelimit.js")))})])],
);
`;
};

/**
 * With no JWT_SECRET (nor JWT_PRIVATE_KEY) in the environment, a random one made on the first
 * start and kept beside the data it protects (readable by its owner only), so that tokens outlive
 * a restart and a quick `docker compose up` needs no setup. Set JWT_SECRET to choose it.
 */
const storedSecret = () => {
  const file = join(options.persist, "jwt-secret");
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString("hex"), { mode: 0o600 });
    log(`no JWT_SECRET in the environment: made a random one, kept in ${file}`);
  }
  return readFileSync(file, "utf8").trim();
};

/**
 * Where the Worker's fetch may connect: public addresses only, workerd's default and what a
 * deployed Worker reaches, so that a webhook URL whose name resolves to a private address is
 * refused when the connection is made (src/domain/webhooks/endpoint-url.ts relies on it). Beside
 * them: the gateway's addresses (DATA_API_URL's host, resolved now: a gateway on a private
 * network), loopback where the deployment allows loopback webhooks (WEBHOOK_ALLOW_HTTP_LOOPBACK=1),
 * and OUTBOUND_ALLOW, a comma-separated list of CIDR blocks or workerd's names (private, local).
 */
const outboundAllowed = async (): Promise<string[]> => {
  const allowed = ["public", ...(env.OUTBOUND_ALLOW ?? "").split(",").map((entry) => entry.trim())].filter(Boolean);
  if (env.WEBHOOK_ALLOW_HTTP_LOOPBACK === "1") allowed.push("local");
  if (env.DATA_API_URL) {
    const host = new URL(env.DATA_API_URL).hostname.replace(/^\[|\]$/g, "");
    const addresses = await lookup(host, { all: true }).catch(() => []);
    if (!addresses.length) log(`DATA_API_URL: ${host} does not resolve now; only a public address of it will be reachable`);
    for (const { address, family } of addresses) allowed.push(`${address}/${family === 6 ? 128 : 32}`);
  }
  return [...new Set(allowed)];
};

const main = async () => {
  if (options.build || !existsSync(join(OUT, "index.js"))) {
    const began = Date.now();
    await build();
    log(`built the Worker (wrangler deploy --dry-run) in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  }
  if (flags["build-only"]) return;
  mkdirSync(join(options.persist, "do"), { recursive: true });
  if (!env.JWT_SECRET && !env.JWT_PRIVATE_KEY) env.JWT_SECRET = storedSecret();
  const { workerOptions } = unstable_getMiniflareWorkerOptions(options.config);
  const crons = (workerOptions.cronTriggers ?? []) as string[];
  const periods = crons.map((cron) => ({ cron, seconds: options.tickSeconds ? Number(options.tickSeconds) : cronPeriodSeconds(cron) }));

  const controlPort = await freePort();
  const configFile = join(OUT, "workerd.capnp");
  writeFileSync(configFile, workerdConfig(controlPort, await outboundAllowed()));
  const token = randomBytes(24).toString("hex");
  const workerd = join(ROOT, "node_modules", "workerd", "bin", "workerd");
  const child = spawn(workerd, ["serve", configFile, "--experimental"], { stdio: "inherit", env: { ...env, SERVE_CONTROL_TOKEN: token } });
  const stop = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => stop(signal));
  // However serve ends, workerd ends with it: an orphan would keep the port and the files.
  process.on("exit", () => stop("SIGTERM"));
  child.on("exit", (code, signal) => process.exit(code ?? (signal === "SIGTERM" || signal === "SIGINT" ? 0 : 1)));

  const origin = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.port}`;
  const local = `http://127.0.0.1:${options.port}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${options.host === "0.0.0.0" || options.host === "::" ? local : origin}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 300) throw new Error("workerd did not answer /health within 30 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  log(
    `listening on ${origin} (state in ${options.persist}; client address: ${options.trustProxy ? "cf-connecting-ip from the proxy in front" : "the TCP peer"})`,
  );

  // The Cron Trigger's clock: each cron fires at every multiple of its period, as Cloudflare's does.
  const fire = async (cron: string, scheduledTime: number) => {
    const answer = await fetch(`http://127.0.0.1:${controlPort}/`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ cron, scheduledTime }),
    })
      .then(
        (r) => (r.ok ? (r.json() as Promise<{ outcome?: string }>) : { outcome: `HTTP ${r.status}` }),
        (error: Error) => ({ outcome: `unreachable (${error.message})` }),
      )
      .catch((error: Error) => ({ outcome: `unreadable (${error.message})` }));
    if (answer.outcome !== "ok") log(`scheduled "${cron}" at ${new Date(scheduledTime).toISOString()}: ${answer.outcome}`);
  };
  for (const { cron, seconds } of periods) {
    log(`runs the scheduled handler ("${cron}") every ${seconds} s`);
    const next = () => {
      const at = Math.ceil((Date.now() + 1) / (seconds * 1000)) * seconds * 1000;
      setTimeout(() => {
        next();
        void fire(cron, at);
      }, at - Date.now()).unref();
    };
    next();
  }
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`serve: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  });
}
