// Starting, waiting for and stopping child processes: one implementation for the benchmarks
// (bench/), the browser test's `wrangler dev` and the gateway's tests. Plain TypeScript that Node
// runs as it is (types are only erased), so the .mjs benchmarks import it too.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";

export interface Launched {
  child: ChildProcess;
  /** What it wrote so far (stdout and stderr interleaved), up to the last `keep` characters. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (to the whole group when started as one), SIGKILL after `graceMs`; resolves once it has exited. */
  stop(): Promise<void>;
}

export interface LaunchOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Its own process group, stopped as a whole: `wrangler dev` runs workerd, and the FerretDB
   * script a server and the gateway, as children that a signal to the parent alone would orphan.
   */
  group?: boolean;
  keep?: number;
  graceMs?: number;
}

/** Loopback only: no request.cf download from Cloudflare and no usage metrics. */
export const QUIET_WRANGLER_ENV = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };

/**
 * A loopback port nothing listens on right now: the kernel picks it, then it is released (the
 * short race with other processes is accepted). Used both to start servers and as a closed port.
 */
/**
 * Settings for a Worker whose mail goes nowhere yet does all of its work: SMTP to the discard port
 * on loopback, where nothing listens, so every send fails fast and is retried as a real server's
 * failure would be (the timing test and bench of the password reset).
 */
export const MAIL_TO_NOWHERE = {
  MAIL_TRANSPORT: "smtp",
  SMTP_HOST: "127.0.0.1",
  SMTP_PORT: "9",
  SMTP_SECURITY: "off",
  SMTP_TIMEOUT_MS: "1000",
  MAIL_FROM: "accounts@nowhere.example.com",
  MAIL_LINK_BASE_URL: "https://app.nowhere.example.com",
};

export const freePort = async (): Promise<number> => {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
};

export const launch = (command: string, args: string[], options: LaunchOptions): Launched => {
  const { cwd, env = process.env, group = false, keep = 64_000, graceMs = 8_000 } = options;
  const child = spawn(command, args, { cwd, env, detached: group, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  // Drained continuously, or a full pipe would stall the process mid-run.
  const append = (chunk: Buffer | string) => {
    output = (output + chunk).slice(-keep);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const exited = once(child, "exit").then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const signal = (name: NodeJS.Signals) => {
    try {
      if (group && child.pid !== undefined) process.kill(-child.pid, name);
      else child.kill(name);
    } catch {}
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const force = setTimeout(() => signal("SIGKILL"), graceMs);
    signal("SIGTERM");
    await exited;
    clearTimeout(force);
  };
  return { child, output: () => output, exited, stop };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it gives a value; if the process exits first or the time runs out, stops
 * it and throws with the tail of its output, so a failed start says why.
 */
export const waitFor = async <T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  proc: Launched,
  timeoutMs: number,
  everyMs = 200,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && proc.child.exitCode === null) {
    const value = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    await sleep(everyMs);
  }
  const why = proc.child.exitCode === null ? `did not become ready within ${timeoutMs} ms` : `exited with ${proc.child.exitCode} before it was ready`;
  await proc.stop();
  throw new Error(`${what} ${why}; its output:\n${proc.output().slice(-4_000)}`);
};

/** A probe: the URL answers 2xx. */
export const answers = (url: string) => async () => (await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok || undefined;
