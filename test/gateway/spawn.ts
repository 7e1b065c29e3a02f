import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort, launch, waitFor } from "../../scripts/processes.ts";

export const GATEWAY_ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Node 22 from the `node` dev dependency, whatever node runs vitest. */
export const NODE = `${GATEWAY_ROOT}node_modules/.bin/node`;
export const TEST_KEY = "gateway-test-key-0123456789abcdef";

export interface RunningGateway {
  url: string;
  child: ChildProcess;
  /** Everything it wrote so far, stdout and stderr interleaved. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

const LISTENING = /"msg":"gateway listening","url":"([^"]+)"/;

/** The gateway with only the given settings (plus PATH): nothing of the test runner's environment leaks in. */
const launchGateway = (env: Record<string, string>) =>
  launch(NODE, ["dist/gateway/server.mjs"], { cwd: GATEWAY_ROOT, env: { PATH: process.env.PATH ?? "", PORT: "0", ...env } });

/** Starts dist/gateway/server.mjs and waits for its ready line. */
export const startGateway = async (env: Record<string, string>): Promise<RunningGateway> => {
  const proc = launchGateway({ HOST: "127.0.0.1", ...env });
  const url = await waitFor("the gateway", () => proc.output().match(LISTENING)?.[1], proc, 20_000, 50);
  return { url, ...proc };
};

/** Runs the gateway to completion when it is expected to refuse to start. */
export const runGateway = async (env: Record<string, string>): Promise<{ code: number | null; output: string }> => {
  const proc = launchGateway(env);
  const timer = setTimeout(() => proc.child.kill("SIGKILL"), 20_000);
  const { code } = await proc.exited;
  clearTimeout(timer);
  return { code, output: proc.output() };
};

/** A loopback port nothing listens on. */
export const closedPort = freePort;

export const action = (gateway: { url: string }, name: string, body: Record<string, unknown>, headers: Record<string, string> = { apiKey: TEST_KEY }) =>
  fetch(`${gateway.url}/action/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ dataSource: "gateway-test", ...body }),
  });
