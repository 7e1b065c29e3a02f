import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { MongoClient } from "mongodb";
import { afterAll, beforeAll } from "vitest";
import { freePort, launch, waitFor } from "../../scripts/processes.ts";
import { MAX_BODY_VALUES, MAX_BULK_DOCUMENTS } from "../../src/dataapi/limits";

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

/**
 * A gateway on `mongoUrl` for one suite, with a driver client beside it to check what reached the
 * database; the suite's database is dropped afterwards.
 */
export const gatewayForSuite = (mongoUrl: string, database: string, env: Record<string, string>) => {
  const suite = {} as { gateway: RunningGateway; client: MongoClient };
  beforeAll(async () => {
    suite.gateway = await startGateway({ MONGO_URL: mongoUrl, GATEWAY_API_KEY: TEST_KEY, ...env });
    suite.client = new MongoClient(mongoUrl);
  });
  afterAll(async () => {
    await suite.client?.db(database).dropDatabase();
    await suite.client?.close();
    await suite.gateway?.stop();
  });
  return suite;
};

/** One request's status, body and how long it took from being sent to its body being read. */
export const timed = async (request: () => Promise<Response>) => {
  const started = Date.now();
  const response = await request();
  const body = await response.text();
  return { status: response.status, body, ms: Date.now() - started };
};

/** The largest insertMany the limits admit: the most documents, each with as many fields as the value budget leaves. */
export const maximalBulkDocuments = (): Record<string, number>[] => {
  const fields = Math.floor(MAX_BODY_VALUES / MAX_BULK_DOCUMENTS) - 2;
  const document = Object.fromEntries(Array.from({ length: fields }, (_, i) => [`f${i}`, i]));
  return Array.from({ length: MAX_BULK_DOCUMENTS }, () => document);
};
