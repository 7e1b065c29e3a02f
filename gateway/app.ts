import type { Engine } from "../src/dataapi/engine";
import { createDataApiHandler } from "../src/dataapi/handler";
import type { GatewayConfig } from "./config";

/** A load balancer's probe must not wait out a dead deployment's full server-selection timeout. */
const HEALTH_TIMEOUT_MS = 2_000;

export interface Gateway {
  fetch(request: Request): Promise<Response>;
  /** From now on every response asks the client to close its connection, so shutdown is not held up by idle keep-alives. */
  drain(): void;
}

const pingWithin = async (engine: Engine, ms: number): Promise<boolean> => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([engine.ping().then(() => true), late]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
};

/**
 * The gateway as a web-standard fetch handler: `GET /health` for probes, every other path the
 * shared Data API handler. It keeps no state besides the engine's connection pool, so any number
 * of gateways can serve one replica set behind a load balancer.
 */
export const createGateway = (engine: Engine, config: GatewayConfig, logError: (error: unknown) => void): Gateway => {
  const handle = createDataApiHandler({
    engine,
    apiKeys: config.apiKeys,
    maxBodyBytes: config.maxBodyBytes,
    access: { databases: config.databases, collections: config.collections },
    onInternalError: logError,
  });
  let draining = false;

  const route = async (request: Request): Promise<Response> => {
    if (new URL(request.url).pathname === "/health") {
      if (request.method !== "GET" && request.method !== "HEAD") return new Response(null, { status: 405, headers: { allow: "GET, HEAD" } });
      // Unauthenticated on purpose (probes carry no key); it reveals only up or down.
      const up = !draining && (await pingWithin(engine, HEALTH_TIMEOUT_MS));
      return Response.json({ status: up ? "ok" : draining ? "shutting down" : "database unavailable" }, { status: up ? 200 : 503 });
    }
    return handle(request);
  };

  return {
    async fetch(request) {
      const response = await route(request);
      if (draining) response.headers.set("connection", "close");
      return response;
    },
    drain() {
      draining = true;
    },
  };
};
