import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { answers, freePort, launch, QUIET_WRANGLER_ENV, waitFor } from "../../scripts/processes.ts";

export interface RunningWorker {
  origin: string;
  stop: () => Promise<void>;
}

const ROOT = join(import.meta.dirname, "..", "..");

/**
 * Starts the Worker as `npm start` does (scripts/dev.mjs → wrangler dev) on a free loopback port
 * with its own throwaway state (and any `vars`, as `--var NAME:value`), and resolves once it answers /health.
 */
export const startWorker = async ({
  timeoutMs = 90_000,
  vars: given = {},
}: {
  timeoutMs?: number;
  /** Or made from the Worker's origin (a link base that must point back at it). */
  vars?: Record<string, string> | ((origin: string) => Record<string, string>);
} = {}): Promise<RunningWorker> => {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), "oms-browser-"));
  const origin = `http://127.0.0.1:${port}`;
  const vars = typeof given === "function" ? given(origin) : given;
  // Its own inspector port too: left to wrangler, two `wrangler dev` starting at once both take 9229.
  const args = [
    "--port",
    String(port),
    "--inspector-port",
    String(await freePort()),
    "--persist-to",
    state,
    ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
  const proc = launch(process.execPath, [join(ROOT, "scripts", "dev.mjs"), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...QUIET_WRANGLER_ENV },
    group: true,
    graceMs: 5_000,
  });
  const stop = async () => {
    await proc.stop();
    rmSync(state, { recursive: true, force: true });
  };
  try {
    await waitFor("the Worker", answers(`${origin}/health`), proc, timeoutMs, 250);
  } catch (error) {
    rmSync(state, { recursive: true, force: true });
    throw error;
  }
  return { origin, stop };
};
