import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

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

/** Starts dist/gateway/server.mjs with only the given settings (plus PATH) and waits for its ready line. */
export const startGateway = async (env: Record<string, string>): Promise<RunningGateway> => {
  const child = spawn(NODE, ["dist/gateway/server.mjs"], {
    cwd: GATEWAY_ROOT,
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = once(child, "exit").then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start within 20 s:\n${output}`)), 20_000);
    const check = () => {
      const match = output.match(LISTENING);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", check);
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    url,
    child,
    output: () => output,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
};

/** Runs the gateway to completion when it is expected to refuse to start. */
export const runGateway = async (env: Record<string, string>): Promise<{ code: number | null; output: string }> => {
  const child = spawn(NODE, ["dist/gateway/server.mjs"], { cwd: GATEWAY_ROOT, env: { PATH: process.env.PATH ?? "", PORT: "0", ...env } });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const [code] = await once(child, "exit");
  clearTimeout(timer);
  return { code: code as number | null, output };
};

/** A loopback port nothing listens on: bound by the kernel's choice, then released. */
export const closedPort = async (): Promise<number> => {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
};

export const action = (gateway: { url: string }, name: string, body: Record<string, unknown>, headers: Record<string, string> = { apiKey: TEST_KEY }) =>
  fetch(`${gateway.url}/action/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ dataSource: "gateway-test", ...body }),
  });
