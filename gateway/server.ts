// The Node entry point of the Mongo HTTP gateway. It runs as an esbuild bundle (gateway/build.ts,
// `npm run gateway`) rather than through Node's type stripping or a loader such as tsx: the shared
// protocol code under src/ uses extensionless imports, which Node's ESM resolver refuses, and a
// bundle starts as plain JavaScript with no loader hooks and no wrapper process between the
// signal and the server, which graceful shutdown depends on. esbuild is already the toolchain
// wrangler bundles the Worker with.
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { MongoClient } from "mongodb";
import { createGateway } from "./app";
import { ConfigError, type GatewayConfig, readConfig } from "./config";
import { MongoEngine } from "./mongo-engine";
import { TtlMonitor } from "./ttl-monitor";

/**
 * The gateway's own TTL expiry, on servers without a TTL monitor: 200 documents per
 * find-then-delete, 1,000 per turn, turns 100 ms apart while more is expired.
 */
const TTL_BOUNDS = { batch: 200, maxDocuments: 1_000, gapMs: 100 };

const log = (fields: Record<string, unknown>) => console.log(JSON.stringify({ time: new Date().toISOString(), ...fields }));

const logError = (error: unknown) => console.error(JSON.stringify({ time: new Date().toISOString(), msg: "internal error", error: String(error) }));

const start = (config: GatewayConfig) => {
  // The driver connects on first use, so the gateway starts (and /health says 503) while MongoDB is still coming up.
  const client = new MongoClient(config.mongoUrl, {
    appName: "org-data-gateway",
    serverSelectionTimeoutMS: config.serverSelectionTimeoutMs,
    connectTimeoutMS: config.serverSelectionTimeoutMs,
    // A socket silent for longer than any action may take is dead; closing it frees the pool.
    socketTimeoutMS: config.operationTimeoutMs + 2_000,
  });
  const warned = new Set<string>();
  const engine = new MongoEngine(client, {
    operationTimeoutMs: config.operationTimeoutMs,
    warn: (message) => {
      if (!warned.has(message)) log({ level: "warn", msg: message });
      warned.add(message);
    },
  });
  const ttl = new TtlMonitor(engine, {
    ...TTL_BOUNDS,
    metaDatabase: config.ttlMetaDatabase,
    intervalMs: config.ttlIntervalMs,
    horizonMs: config.ttlHorizonMs,
    log,
  });
  engine.expireWith(ttl);
  ttl.start();
  const gateway = createGateway(engine, config, logError);
  const server = serve({ fetch: (request) => gateway.fetch(request), hostname: config.host, port: config.port }, (info: AddressInfo) => {
    // Scripts wait for this line; with PORT=0 it is the only place the chosen port appears.
    log({ msg: "gateway listening", url: `http://${info.family === "IPv6" ? `[${info.address}]` : info.address}:${info.port}` });
    if (config.apiKeys.length === 0) log({ level: "warn", msg: "GATEWAY_INSECURE_NO_KEY=1: anyone who reaches this port can read and write every database" });
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log({ msg: "shutting down", signal });
    ttl.stop();
    gateway.drain();
    const force = setTimeout(() => {
      log({ level: "warn", msg: "shutdown deadline passed; closing remaining connections" });
      if ("closeAllConnections" in server) server.closeAllConnections();
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    // close() stops accepting, drops idle keep-alive sockets and calls back once in-flight requests are answered.
    server.close(async () => {
      await client.close();
      log({ msg: "stopped" });
      process.exit(0);
    });
    if ("closeIdleConnections" in server) server.closeIdleConnections();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
};

try {
  start(readConfig(process.env));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`gateway: ${error.message}`);
  process.exit(2);
}
