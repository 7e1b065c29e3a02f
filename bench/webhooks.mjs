// `npm run bench:webhooks [-- --quick]`: events from change to verified delivery, and what the
// outbox costs the lifecycle. The service runs as production runs it (bench/workerd.mjs, the
// built bundle, embedded store), with a receiver on loopback that verifies every delivery with the
// Standard Webhooks specification's own library (standardwebhooks) and accepts it.
//
// 1. Throughput: one organization, one endpoint; N role changes of a member, `concurrency` at a
//    time; from the first change sent to the last event verified: events per second, and each
//    event's delay from its change's answer to its verified arrival (p50, p99).
// 2. The outbox's cost: create, rename (by token) and delete, each timed and its data round trips
//    read from x-data-round-trips, beside the same operations' round trips before events.
// Every figure is checked (each event delivered and verified once or more, in order), so a
// benchmark of a failure measures nothing. Loopback only; the processes it starts are stopped.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { bundleSize } from "./bundle.mjs";
import { ROOT, startProduction, stopEverything } from "./processes.mjs";

const quick = process.argv.includes("--quick");
const EVENTS = quick ? 200 : 1000;
const CONCURRENCY = 4;
const LIFECYCLE_RUNS = quick ? 5 : 15;
/** Round trips before the answer, before events existed (README's table at the time). */
const BEFORE = { create: 4, rename: 3, delete: 4 };

const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];
const median = (values) => percentile(values, 0.5);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const startReceiver = async () => {
  const state = { secret: "", arrivals: new Map(), order: [], bad: 0 };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      try {
        const headers = Object.fromEntries(["webhook-id", "webhook-timestamp", "webhook-signature"].map((n) => [n, String(req.headers[n] ?? "")]));
        new Webhook(state.secret).verify(body, headers);
      } catch {
        state.bad++;
        res.writeHead(401).end();
        return;
      }
      const id = String(req.headers["webhook-id"]);
      if (!state.arrivals.has(id)) {
        state.arrivals.set(id, performance.now());
        state.order.push({ id, type: JSON.parse(body).type });
      }
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, state, close: () => new Promise((resolve) => server.close(resolve)) };
};

const main = async () => {
  console.log(`bench:webhooks: ${quick ? "quick" : "full"} run, ${EVENTS} events, load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores`);
  const size = await bundleSize();
  const receiver = await startReceiver();
  const service = await startProduction(
    "the service (workerd)",
    join(ROOT, "wrangler.toml"),
    join(size.outdir, "index.js"),
    { JWT_SECRET: randomBytes(32).toString("hex"), WEBHOOK_ALLOW_HTTP_LOOPBACK: "1", PBKDF2_ITERATIONS: "10000" },
    "/health",
  );
  const api = async (method, path, body, token) => {
    const res = await fetch(`${service.origin}${path}`, {
      method,
      headers: { ...(body ? { "content-type": "application/json" } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
    return { json: text ? JSON.parse(text) : null, trips: Number(res.headers.get("x-data-round-trips")) };
  };
  const newOrg = async (name) => {
    const email = `${name.toLowerCase()}@bench.example.com`;
    await api("POST", "/org/create", { organization_name: name, email, password: "Bench-pass-1" });
    return (await api("POST", "/admin/login", { email, password: "Bench-pass-1" })).json.access_token;
  };

  // 1. Throughput.
  const token = await newOrg(`Hooked${Date.now()}`);
  const hook = (await api("POST", "/org/webhooks", { url: `${receiver.url}/hook`, events: ["member.role_changed"] }, token)).json;
  receiver.state.secret = hook.secret;
  const invitation = (await api("POST", "/org/invitations", { email: "member@bench.example.com", role: "member" }, token)).json;
  const joined = (await api("POST", "/invitations/accept", { token: invitation.token, password: "Member-pass-1" })).json.access_token;
  const memberId = JSON.parse(Buffer.from(joined.split(".")[1], "base64url").toString()).admin_id;
  const answeredAt = [];
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < EVENTS) {
        const i = next++;
        await api("PATCH", `/org/members/${memberId}`, { role: i % 2 === 0 ? "admin" : "member" }, token);
        answeredAt.push(performance.now());
      }
    }),
  );
  const deadline = Date.now() + 120_000;
  while (receiver.state.order.length < EVENTS && Date.now() < deadline) await sleep(20);
  const delivered = receiver.state.order.length;
  if (delivered < EVENTS) throw new Error(`only ${delivered} of ${EVENTS} events delivered in 2 minutes`);
  const feed = [];
  for (let after = "0"; ; ) {
    const page = (await api("GET", `/org/events?type=member.role_changed&limit=200&after=${after}`, null, token)).json;
    feed.push(...page.events.map((e) => e.id));
    after = page.next_cursor;
    if (!page.has_more) break;
  }
  const inOrder = receiver.state.order.map((a) => a.id).join() === feed.join();
  if (!inOrder) throw new Error("deliveries arrived out of the feed's order");
  if (receiver.state.bad > 0) throw new Error(`${receiver.state.bad} deliveries did not verify`);
  const arrivals = [...receiver.state.arrivals.values()].sort((a, b) => a - b);
  const elapsedS = (arrivals.at(-1) - started) / 1000;
  const answers = [...answeredAt].sort((a, b) => a - b);
  const delays = arrivals.map((at, i) => at - answers[i]);

  // 2. The lifecycle with the outbox.
  const rows = { create: [], rename: [], delete: [] };
  const trips = {};
  for (let r = 0; r < LIFECYCLE_RUNS; r++) {
    const name = `Cost${Date.now()}${r}`;
    let t = performance.now();
    const email = `cost${r}${Date.now()}@bench.example.com`;
    trips.create = (await api("POST", "/org/create", { organization_name: name, email, password: "Bench-pass-1" })).trips;
    rows.create.push(performance.now() - t);
    const own = (await api("POST", "/admin/login", { email, password: "Bench-pass-1" })).json.access_token;
    t = performance.now();
    trips.rename = (await api("PUT", "/org/update", { organization_name: name, new_organization_name: `${name}b` }, own)).trips;
    rows.rename.push(performance.now() - t);
    await sleep(50);
    t = performance.now();
    trips.delete = (await api("DELETE", `/org/delete?organization_name=${name}b`, null, own)).trips;
    rows.delete.push(performance.now() - t);
  }
  await stopEverything();
  await receiver.close();

  console.log("\nwebhooks (workerd, embedded store, receiver verifying with standardwebhooks on loopback)");
  console.log(`  events delivered and verified: ${delivered}, in the feed's order: ${inOrder ? "yes" : "no"}`);
  console.log(`  throughput, first change sent to last event verified: ${(delivered / elapsedS).toFixed(1)} events/s (${CONCURRENCY} clients changing roles)`);
  console.log(`  change answered → event verified: p50 ${median(delays).toFixed(0)} ms, p99 ${percentile(delays, 0.99).toFixed(0)} ms`);
  console.log("\nthe outbox's cost (median of runs; round trips before the answer, now and before events)");
  for (const op of ["create", "rename", "delete"]) {
    console.log(`  ${op.padEnd(7)} ${median(rows[op]).toFixed(1).padStart(7)} ms   round trips ${trips[op]} (before events: ${BEFORE[op]})`);
  }
  console.log("  publishing runs after the answer: 3 calls per batch of events (lease and read, insert, advance)");
};

main().catch(async (error) => {
  console.error(error instanceof Error ? error.message : error);
  await stopEverything();
  process.exit(1);
});
