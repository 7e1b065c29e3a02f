import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RunningWorker {
  origin: string;
  stop: () => Promise<void>;
}

const ROOT = join(import.meta.dirname, "..", "..");

/** A port nobody listens on right now (the OS picks it; the short race with other processes is accepted). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (address && typeof address === "object" ? resolve(address.port) : reject(new Error("no port"))));
    });
  });

/** Ends the whole process group: `wrangler dev` runs workerd as its own child. */
const stopGroup = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolve();
    const pid = child.pid;
    const force = setTimeout(() => {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {}
    }, 5_000);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    try {
      process.kill(-pid, "SIGTERM");
    } catch {
      resolve();
    }
  });

/**
 * Starts the Worker as `npm start` does (scripts/dev.mjs → wrangler dev) on a free loopback port
 * with its own throwaway state, and resolves once it answers /health.
 */
export const startWorker = async (timeoutMs = 90_000): Promise<RunningWorker> => {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), "oms-browser-"));
  const origin = `http://127.0.0.1:${port}`;
  // Its own inspector port too: left to wrangler, two `wrangler dev` starting at once both take 9229.
  const args = ["--port", String(port), "--inspector-port", String(await freePort()), "--persist-to", state];
  const child = spawn(process.execPath, [join(ROOT, "scripts", "dev.mjs"), ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    // Loopback only: no request.cf download from Cloudflare and no usage metrics.
    env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
  });
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const stop = async () => {
    await stopGroup(child);
    rmSync(state, { recursive: true, force: true });
  };

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${origin}/health`, { signal: AbortSignal.timeout(2_000) })).ok) return { origin, stop };
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stop();
  throw new Error(`the Worker did not become ready on ${origin} within ${timeoutMs} ms; its output:\n${output.slice(-4_000)}`);
};
