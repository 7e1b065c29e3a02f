import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { EndpointSecrets } from "../../src/domain/kernel/deps";
import { attemptDelivery, type DeliveryResult, RESPONSE_EXCERPT_BYTES } from "../../src/domain/webhooks/deliver";
import { checkEndpointUrl } from "../../src/domain/webhooks/endpoint-url";
import { MAX_ATTEMPTS, nextAttemptAt } from "../../src/domain/webhooks/schedule";
import { generateSecret, rotate, webhookHeaders } from "../../src/domain/webhooks/signature";
import { readBody } from "./receiver";

// A receiver on loopback that checks every delivery with the specification's own library
// (standardwebhooks), as a customer's endpoint would, and misbehaves on purpose by path.

interface Received {
  path: string;
  id: string;
  timestamp: string;
  contentType: string | undefined;
  /** The parsed body when the signature verified with the receiver's secret, null when it did not. */
  verified: unknown;
}

const FAIL_FIRST = 2;

const receiverSecret = generateSecret();
let received: Received[] = [];
/** Attempts per webhook-id at /flaky, which fails the first FAIL_FIRST of each with a 500. */
let attemptsById = new Map<string, number>();
/** Responses of /endless, ended by the client or not at all. */
const endless: { closedByClient: boolean; bytesWritten: number }[] = [];

const verifyDelivery = (body: string, req: IncomingMessage): unknown => {
  const headers: Record<string, string> = {};
  for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) headers[name] = String(req.headers[name] ?? "");
  try {
    return new Webhook(receiverSecret).verify(body, headers);
  } catch {
    return null;
  }
};

const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
  const path = new URL(req.url ?? "/", "http://receiver").pathname;
  const body = await readBody(req);
  const verified = verifyDelivery(body, req);
  const id = String(req.headers["webhook-id"] ?? "");
  received.push({ path, id, timestamp: String(req.headers["webhook-timestamp"] ?? ""), contentType: req.headers["content-type"], verified });
  if (verified === null) {
    res.writeHead(401, { "content-type": "text/plain" }).end("signature did not verify");
    return;
  }
  switch (path) {
    case "/ok":
      res.writeHead(204).end();
      return;
    case "/flaky": {
      const n = (attemptsById.get(id) ?? 0) + 1;
      attemptsById.set(id, n);
      if (n <= FAIL_FIRST) res.writeHead(500, { "content-type": "text/plain" }).end(`failing attempt ${n} on purpose`);
      else res.writeHead(200, { "content-type": "application/json" }).end('{"received":true}');
      return;
    }
    case "/down":
      res.writeHead(503).end("down");
      return;
    case "/redirect":
      res.writeHead(307, { location: "/ok" }).end();
      return;
    case "/gone":
      res.writeHead(410).end();
      return;
    case "/hang":
      return; // never answers
    case "/stall-body":
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("accepted, and then nothing");
      return; // the body never ends
    case "/endless": {
      // A body without end: the client must stop reading and close, not buffer it.
      const state = { closedByClient: false, bytesWritten: 0 };
      endless.push(state);
      res.writeHead(200, { "content-type": "application/octet-stream" });
      const chunk = Buffer.alloc(64 * 1024, "x");
      const pump = () => {
        while (!res.destroyed && state.bytesWritten < 1024 ** 3) {
          state.bytesWritten += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
      };
      res.on("close", () => {
        state.closedByClient = !res.writableEnded;
      });
      pump();
      return;
    }
    default:
      res.writeHead(404).end();
  }
};

let server: Server;
let base: string;
let refusedUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A port that was just listened on and closed: nothing accepts there.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  refusedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/ok`;
  await new Promise((resolve) => closed.close(resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  received = [];
  attemptsById = new Map();
});

const deps = (timeoutMs = 5_000) => ({ fetch: globalThis.fetch, timeoutMs, now: () => performance.now() });

// The URL goes through the policy first, as it will when an endpoint is registered.
const endpoint = (path: string): string => {
  const check = checkEndpointUrl(`${base}${path}`, { allowHttpLoopback: true });
  if (!check.ok) throw new Error(check.reason);
  return check.url;
};

/** Signs and sends one attempt now, as the sender will: a fresh timestamp and signature per attempt. */
const attempt = async (url: string, id: string, body: string, secrets: EndpointSecrets = { current: receiverSecret }, timeoutMs?: number) =>
  attemptDelivery({ url, body, headers: { ...(await webhookHeaders({ id, body, secrets }, new Date())) } }, deps(timeoutMs));

const event = (n: number) => ({
  id: `evt_${n.toString().padStart(4, "0")}`,
  body: JSON.stringify({ type: "organization.renamed", timestamp: "2026-11-26T12:00:00.000Z", data: { n, name: `Org ${n} é` } }),
});

describe("delivering a webhook to a receiver that verifies it with the standardwebhooks package", () => {
  it("retries on the schedule until the receiver accepts: every attempt verified, retries only of one webhook-id, events in order", async () => {
    const url = endpoint("/flaky");
    const log: { id: string; attempt: number; result: DeliveryResult; scheduledAt: Date }[] = [];
    const start = new Date("2026-11-26T12:00:00Z");
    for (const { id, body } of [1, 2, 3].map(event)) {
      // The schedule's clock is simulated (the real one would take a day); the signature's is real,
      // as the receiver's library checks the timestamp against its own clock.
      let made = 0;
      for (let at = nextAttemptAt(0, start); at; at = nextAttemptAt(made, at)) {
        const result = await attempt(url, id, body);
        made++;
        log.push({ id, attempt: made, result, scheduledAt: at });
        if (result.ok) break;
      }
    }

    expect(log.map(({ id, attempt, result }) => [id, attempt, result.ok, result.status, result.error ?? null])).toEqual(
      ["evt_0001", "evt_0002", "evt_0003"].flatMap((id) => [
        [id, 1, false, 500, "http_status"],
        [id, 2, false, 500, "http_status"],
        [id, 3, true, 200, null],
      ]),
    );
    expect(log[0]?.result.responseExcerpt).toBe("failing attempt 1 on purpose");
    expect(log[2]?.result.responseExcerpt).toBe('{"received":true}');
    // Attempts two and three came 5 s and 5 min after the failures before them.
    expect(log.slice(0, 3).map(({ scheduledAt }) => (scheduledAt.getTime() - start.getTime()) / 1000)).toEqual([0, 5, 305]);
    for (const { result } of log) expect(result.latencyMs).toBeGreaterThanOrEqual(0);

    // The receiver's view: nine deliveries, each verified, as JSON, in event order, the same
    // webhook-id on the retries of one event and on nothing else.
    expect(received).toHaveLength(9);
    for (const r of received) {
      expect(r.verified).not.toBeNull();
      expect(r.contentType).toBe("application/json");
    }
    expect(received.map((r) => r.id)).toEqual(["evt_0001", "evt_0001", "evt_0001", "evt_0002", "evt_0002", "evt_0002", "evt_0003", "evt_0003", "evt_0003"]);
    expect(received.filter((_, i) => i % 3 === 2).map((r) => (r.verified as { data: { n: number } }).data.n)).toEqual([1, 2, 3]);
  });

  it("gives up after the schedule's last attempt when the receiver never accepts", async () => {
    const url = endpoint("/down");
    const { id, body } = event(9);
    const results: DeliveryResult[] = [];
    let made = 0;
    for (let at = nextAttemptAt(0, new Date()); at; at = nextAttemptAt(made, at)) {
      results.push(await attempt(url, id, body));
      made++;
    }
    expect(made).toBe(MAX_ATTEMPTS);
    expect(results.every((r) => !r.ok && r.status === 503 && r.error === "http_status")).toBe(true);
    expect(received.map((r) => [r.id, r.verified !== null])).toEqual(Array.from({ length: MAX_ATTEMPTS }, () => [id, true]));
  });

  it("verifies with either secret during a rotation", async () => {
    const { id, body } = event(4);
    // The sender rotated; the receiver still holds the previous secret, which signs during the overlap.
    const rotated = rotate({ current: receiverSecret }, generateSecret(), new Date());
    expect(await attempt(endpoint("/ok"), id, body, rotated)).toMatchObject({ ok: true, status: 204 });
    expect(received[0]?.verified).toEqual(JSON.parse(body));
    // A sender that signs only with a secret the receiver does not hold is refused.
    const foreign = await attempt(endpoint("/ok"), id, body, { current: generateSecret() });
    expect(foreign).toMatchObject({ ok: false, status: 401, error: "http_status", responseExcerpt: "signature did not verify" });
  });
});

describe("one delivery attempt", () => {
  it("succeeds on a 2xx only", async () => {
    const { id, body } = event(5);
    expect(await attempt(endpoint("/ok"), id, body)).toMatchObject({ ok: true, status: 204, responseExcerpt: "" });
    expect(await attempt(endpoint("/gone"), id, body)).toMatchObject({ ok: false, status: 410, error: "http_status" });
    expect(await attempt(endpoint("/nowhere"), id, body)).toMatchObject({ ok: false, status: 404, error: "http_status" });
  });

  it("fails on a redirect without following it", async () => {
    const { id, body } = event(6);
    const result = await attempt(endpoint("/redirect"), id, body);
    expect(result).toMatchObject({ ok: false, status: 307, error: "redirect" });
    expect(received.map((r) => r.path)).toEqual(["/redirect"]);
  });

  it("fails with a timeout, and no status, when the receiver does not answer in time", async () => {
    const { id, body } = event(7);
    const result = await attempt(endpoint("/hang"), id, body, undefined, 300);
    expect(result).toMatchObject({ ok: false, status: null, error: "timeout" });
    expect(result.latencyMs).toBeGreaterThanOrEqual(250);
    expect(result.latencyMs).toBeLessThan(5_000);
  });

  it("fails as a network error, with the socket's reason, when the connection is refused", async () => {
    const { id, body } = event(8);
    const result = await attempt(refusedUrl, id, body);
    expect(result).toMatchObject({ ok: false, status: null, error: "network" });
    expect(result.detail).toContain("ECONNREFUSED");
  });

  it("reads at most a few KiB of an endless answer, then closes it", async () => {
    const { id, body } = event(10);
    const result = await attempt(endpoint("/endless"), id, body);
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(result.responseExcerpt).toBe("x".repeat(RESPONSE_EXCERPT_BYTES));
    // The receiver sees its answer cut off by the client long before the gigabyte it would send.
    await expect.poll(() => endless[0]?.closedByClient, { timeout: 5_000 }).toBe(true);
    expect(endless[0]?.bytesWritten).toBeLessThan(64 * 1024 ** 2);
  });

  it("keeps a 2xx whose body never ends as accepted, and returns when the timeout ends the read", async () => {
    const { id, body } = event(11);
    const started = performance.now();
    const result = await attempt(endpoint("/stall-body"), id, body, undefined, 300);
    expect(result).toMatchObject({ ok: true, status: 200, responseExcerpt: "accepted, and then nothing" });
    expect(performance.now() - started).toBeLessThan(5_000);
    // The latency is the whole attempt, the body's read included: the receiver held the sender until the timeout.
    expect(result.latencyMs).toBeGreaterThanOrEqual(250);
  });
});
