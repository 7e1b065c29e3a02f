import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/**
 * A webhook receiver on loopback for the Worker suites (vitest global setup: workerd cannot
 * listen). It verifies every delivery with the Standard Webhooks specification's own library, as a
 * customer's endpoint would, against the secrets the test registered for that endpoint, and fails
 * on purpose as told. The tests configure and read it over HTTP:
 *
 * - `PUT /_endpoints/<name>` `{"secrets": [...], "failFirst": n, "status": s, "delayMs": d, "trickle": true}`:
 *   the secrets to verify with (a delivery verifies if a signature matches one of them), how many
 *   attempts of each `webhook-id` to fail with a 500, a status to answer always instead (410,
 *   say), how long to wait before answering (a slow receiver; the delivery is recorded on arrival),
 *   and whether to answer 200 at once, then trickle the body a byte every 100 ms without end.
 * - `POST /hooks/<name>`: a delivery.
 * - `GET /_endpoints/<name>`: what arrived, in order: `{id, timestamp, verified: {secret index: bool}, status, body}`.
 */
interface Endpoint {
  secrets: string[];
  failFirst: number;
  status?: number;
  delayMs: number;
  trickle: boolean;
  attempts: Map<string, number>;
  received: { id: string; timestamp: string; signature: string; verified: boolean[]; status: number; body: unknown }[];
}

declare module "vitest" {
  export interface ProvidedContext {
    receiverUrl: string;
  }
}

/** A request's whole body as text. */
export const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });

const verifies = (secret: string, body: string, req: IncomingMessage): boolean => {
  const headers: Record<string, string> = {};
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) headers[name] = String(req.headers[name] ?? "");
  try {
    new Webhook(secret).verify(body, headers);
    return true;
  } catch {
    return false;
  }
};

export const startReceiver = async (): Promise<{ url: string; server: Server }> => {
  const endpoints = new Map<string, Endpoint>();
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://receiver");
      const body = await readBody(req);
      const [, kind, name = ""] = url.pathname.split("/");
      if (kind === "_endpoints" && req.method === "PUT") {
        const config = JSON.parse(body) as { secrets: string[]; failFirst?: number; status?: number; delayMs?: number; trickle?: boolean };
        const known = endpoints.get(name);
        endpoints.set(name, {
          secrets: config.secrets,
          failFirst: config.failFirst ?? 0,
          ...(config.status ? { status: config.status } : {}),
          delayMs: config.delayMs ?? 0,
          trickle: config.trickle ?? false,
          attempts: known?.attempts ?? new Map(),
          received: known?.received ?? [],
        });
        res.writeHead(204).end();
        return;
      }
      const endpoint = endpoints.get(name);
      if (kind === "_endpoints") {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(endpoint?.received ?? []));
        return;
      }
      if (kind !== "hooks" || !endpoint) {
        res.writeHead(404).end();
        return;
      }
      const id = String(req.headers["webhook-id"] ?? "");
      const verified = endpoint.secrets.map((secret) => verifies(secret, body, req));
      const n = (endpoint.attempts.get(id) ?? 0) + 1;
      endpoint.attempts.set(id, n);
      const status = !verified.some(Boolean) ? 401 : (endpoint.status ?? (n <= endpoint.failFirst ? 500 : 200));
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(body);
      } catch {}
      endpoint.received.push({
        id,
        timestamp: String(req.headers["webhook-timestamp"] ?? ""),
        signature: String(req.headers["webhook-signature"] ?? ""),
        verified,
        status,
        body: parsed,
      });
      if (endpoint.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, endpoint.delayMs));
      if (endpoint.trickle && status === 200) {
        res.writeHead(200, { "content-type": "text/plain" });
        // A byte every 100 ms until the sender gives up and closes, or a minute has passed.
        const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(".")), 100);
        const end = setTimeout(() => {
          clearInterval(timer);
          res.end();
        }, 60_000);
        res.on("close", () => {
          clearInterval(timer);
          clearTimeout(end);
        });
        return;
      }
      res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : `answered ${status} on purpose`);
    })().catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
};

/** Vitest global setup for the Worker suites: the receiver lives as long as the run. */
export default async ({ provide }: { provide: (key: "receiverUrl", value: string) => void }) => {
  const { url, server } = await startReceiver();
  provide("receiverUrl", url);
  return () =>
    new Promise<void>((resolve) => {
      // A trickling answer still open would hold the close for its minute.
      server.closeAllConnections();
      server.close(() => resolve());
    });
};
