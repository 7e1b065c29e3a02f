// Starting and stopping what the bench measures: `wrangler dev` for the service and for the bare
// Worker (same flags, same runtime), and the gateway in front of FerretDB when it can run here.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { answers, freePort, launch, QUIET_WRANGLER_ENV, waitFor } from "../scripts/processes.ts";

export { freePort };

export const ROOT = join(import.meta.dirname, "..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

export const QUIET_ENV = { ...process.env, ...QUIET_WRANGLER_ENV };

/**
 * At its default level wrangler dev reports every request to its own Node process over HTTP and
 * prints it, which halved the bare Worker's throughput here: a cost of the dev server's terminal,
 * not of a Worker. Both Workers run at "warn", so the figures compare the Workers themselves.
 * (Each `wrangler dev` also gets its own inspector port: left to wrangler, two starting at once
 * both take the default 9229 and one fails.)
 */
const DEV_FLAGS = ["--log-level", "warn"];

/**
 * Temp folders removed when the bench exits, however it exits. One exit listener for them all: a
 * full run makes a dozen, past the count at which Node warns of a listener leak.
 */
const folders = new Set();
process.once("exit", () => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

/** A temp folder removed when the bench exits. */
export const throwaway = (prefix) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  folders.add(dir);
  return dir;
};

/** Every group this run started and has not stopped: stopped on any exit, ready or not. */
const live = new Set();
export const stopEverything = () => Promise.all([...live].map((stop) => stop()));

/** A command in its own process group (see scripts/processes.ts), stopped with the others on exit. */
export const spawnGroup = (command, args, env = QUIET_ENV) => {
  const proc = launch(command, args, { cwd: ROOT, env, group: true, keep: 8_000 });
  const stop = () => {
    live.delete(stop);
    return proc.stop();
  };
  live.add(stop);
  return { ...proc, stop, group: proc.child.pid };
};

/**
 * The service as `npm start` runs it (scripts/dev.mjs → wrangler dev) on a free port with a
 * throwaway store; `vars` are passed as `--var NAME:value` (the gateway's URL and key).
 */
export const startService = async (label, vars = {}, readyPath = "/health") => {
  const port = await freePort();
  const state = throwaway("oms-bench-");
  const varArgs = Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  const args = ["--port", String(port), "--inspector-port", String(await freePort()), "--persist-to", state, ...DEV_FLAGS, ...varArgs];
  const proc = spawnGroup(process.execPath, [join(ROOT, "scripts", "dev.mjs"), ...args]);
  const origin = `http://127.0.0.1:${port}`;
  await waitFor(label, answers(`${origin}${readyPath}`), proc, 90_000);
  return { origin, stop: proc.stop, groups: [proc.group] };
};

/**
 * A Worker of bench/ (its own wrangler config) under `wrangler dev` with the service's flags and
 * a throwaway store; `vars` are passed as `--var NAME:value`.
 */
export const startWorker = async (label, configFile, vars = {}, readyPath = "/") => {
  const port = await freePort();
  const state = throwaway("oms-bench-worker-");
  const varArgs = Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  const config = join(ROOT, "bench", configFile);
  const inspector = String(await freePort());
  const args = [WRANGLER, "dev", "--config", config, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", inspector, "--persist-to", state];
  const proc = spawnGroup(process.execPath, [...args, ...DEV_FLAGS, ...varArgs]);
  const origin = `http://127.0.0.1:${port}`;
  await waitFor(label, answers(`${origin}${readyPath}`), proc, 90_000);
  return { origin, stop: proc.stop, groups: [proc.group] };
};

/** The bare Worker with the same `wrangler dev` flags as the service. */
export const startBare = () => startWorker("the bare Worker", "bare-wrangler.toml");

/** Why the gateway cannot be measured here, or undefined when it can. */
export const gatewayUnavailable = () => {
  const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts ?? {};
  if (!scripts.gateway) return "no `npm run gateway` script";
  if (!existsSync(join(ROOT, "gateway"))) return "no gateway/ folder";
  if (!existsSync(join(ROOT, ".cache", "ferretdb", "ferretdb"))) return "FerretDB not built (scripts/mongo-test.sh --build-only builds it)";
  return undefined;
};

/** FerretDB (scripts/with-ferretdb.sh) with the gateway in front of it, on free loopback ports. */
export const startGateway = async () => {
  const key = crypto.randomUUID().replaceAll("-", "");
  const env = { ...QUIET_ENV, HOST: "127.0.0.1", PORT: "0", GATEWAY_API_KEY: key };
  const proc = spawnGroup("bash", [join(ROOT, "scripts", "with-ferretdb.sh"), "npm", "run", "--silent", "gateway"], env);
  // With PORT=0 the gateway's "listening" log line is the only place its port appears.
  const listening = () => proc.output().match(/"msg":"gateway listening","url":"(http:\/\/127\.0\.0\.1:\d+)"/)?.[1];
  const url = await waitFor("the gateway", async () => listening(), proc, 120_000);
  await waitFor("the gateway's MongoDB", answers(`${url}/health`), proc, 60_000);
  return { url, key, stop: proc.stop, groups: [proc.group] };
};

/**
 * A built Worker under workerd as production runs it (bench/workerd.mjs: Miniflare's API, no
 * `wrangler dev` proxy, no inspector, the Worker as the entry), on a free port with a throwaway
 * store; `vars` become plain-text bindings, `extraArgs` go to bench/workerd.mjs as they are.
 */
export const startProduction = async (label, configFile, script, vars = {}, ready = "/", extraArgs = []) => {
  const port = await freePort();
  const state = throwaway("oms-bench-workerd-");
  const varArgs = Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  const args = [
    join(ROOT, "bench", "workerd.mjs"),
    "--config",
    configFile,
    "--script",
    script,
    "--port",
    String(port),
    "--persist",
    state,
    ...varArgs,
    ...extraArgs,
  ];
  const proc = spawnGroup(process.execPath, args);
  const origin = `http://127.0.0.1:${port}`;
  // `ready` is a path that answers 2xx once the Worker runs, or a probe of its own given the origin.
  await waitFor(label, typeof ready === "function" ? ready(origin) : answers(`${origin}${ready}`), proc, 90_000);
  return { origin, stop: proc.stop, groups: [proc.group] };
};
