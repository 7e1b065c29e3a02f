// Starting and stopping what the bench measures: `wrangler dev` for the service and for the bare
// Worker (same flags, same runtime), and the gateway in front of FerretDB when it can run here.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

// Loopback only: no request.cf download from Cloudflare and no usage metrics.
const QUIET_ENV = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

/**
 * At its default level wrangler dev reports every request to its own Node process over HTTP and
 * prints it, which halved the bare Worker's throughput here: a cost of the dev server's terminal,
 * not of a Worker. Both Workers run at "warn", so the figures compare the Workers themselves.
 */
const DEV_FLAGS = ["--log-level", "warn"];

/**
 * A free loopback port, chosen by the OS. Each `wrangler dev` also gets its own inspector port:
 * left to wrangler, two starting at once both take the default 9229 and one fails.
 */
export const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** A temp folder removed when the bench exits, however it exits. */
const throwaway = (prefix) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every group this run started and has not stopped: stopped on any exit, ready or not. */
const live = new Set();
export const stopEverything = () => Promise.all([...live].map((stop) => stop()));

/**
 * Spawns a command in its own process group (wrangler runs workerd, the FerretDB script runs the
 * server and the gateway), keeps the tail of its output for error messages, and stops the group.
 */
const spawnGroup = (command, args, env = QUIET_ENV) => {
  const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  // Drained, or a full pipe would stall the server mid-benchmark.
  const keep = (chunk) => {
    output = (output + chunk).slice(-8_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const stop = () =>
    new Promise((resolve) => {
      live.delete(stop);
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const force = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
      }, 8_000);
      child.once("exit", () => {
        clearTimeout(force);
        resolve();
      });
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        resolve();
      }
    });
  live.add(stop);
  return { child, stop, output: () => output, group: child.pid };
};

const waitFor = async (what, probe, proc, timeoutMs) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) break;
    const value = await probe().catch(() => undefined);
    if (value) return value;
    await sleep(200);
  }
  await proc.stop();
  throw new Error(`${what} did not become ready within ${timeoutMs} ms; its output:\n${proc.output()}`);
};

const answers = (url) => async () => (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok;

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
