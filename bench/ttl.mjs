// `npm run bench:ttl [-- --quick]`: the embedded store's TTL purge beside live traffic. Fills the
// audit log (the service's TTL-indexed collection, in the same Durable Object as the
// organizations) with 200,000 expired and 200,000 live entries (--quick: 20,000 of each), then
// measures GET /org/get with no purge running, lets the purge go, and measures it again while the
// purge runs. Prints the purge's throughput, its longest single turn, and both p99 latencies
// (goal: p99 beside the purge within 1.5× the baseline). Checks the end state: every expired entry
// gone, every live one kept (a benchmark that times a failure measures nothing).
//
// The service runs under `wrangler dev` as bench/ttl-worker.ts: the real Worker and store, plus a
// bench-only window that fills the store, holds the purge back for the baseline, and reports how
// long each alarm turn held the object. Loopback only; every wait is bounded; the processes it
// starts are stopped before it exits.
import { randomBytes } from "node:crypto";
import { cpus, loadavg } from "node:os";
import autocannon from "autocannon";
import { EJSON } from "bson";
import { startWorker, stopEverything } from "./processes.mjs";

const quick = process.argv.includes("--quick");
const EACH = Number(process.env.BENCH_TTL_DOCS) || (quick ? 20_000 : 200_000);
const FILL_CHUNK = 50_000;
const LOAD = { connections: 10, warmupSeconds: 3, seconds: quick ? 8 : 15 };
const PURGE_LIMIT_MS = 150_000;
const RETENTION_DAYS = 90;
const DAY = 86_400_000;
const GOAL_P99_RATIO = 1.5;

const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const call = async (origin, path, body) => {
  const res = await fetch(`${origin}${path}`, {
    method: "POST",
    headers: { "content-type": "application/ejson", accept: "application/ejson" },
    body: body === undefined ? undefined : EJSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${text.slice(0, 300)}`);
  return EJSON.parse(text, { relaxed: true });
};

const action = (origin, name, body) =>
  call(origin, `/__bench/action/${name}`, { dataSource: "bench", database: "master_db", collection: "audit_log", ...body });

/**
 * Audit entries as the service writes them, `at` spread evenly from `fromDaysAgo` to
 * `toDaysAgo`, oldest first; written by the bench Worker in chunks (see its `fill`).
 */
const fillRange = async (origin, orgId, count, fromDaysAgo, toDaysAgo) => {
  const now = Math.floor(Date.now() / 1000) * 1000;
  const stepMs = Math.max(1000, Math.floor(((fromDaysAgo - toDaysAgo) * DAY) / count / 1000) * 1000);
  for (let done = 0; done < count; done += FILL_CHUNK) {
    const chunk = Math.min(FILL_CHUNK, count - done);
    const fromMs = now - fromDaysAgo * DAY + done * stepMs;
    await call(origin, "/__bench/fill", { collection: "audit_log", count: chunk, fromMs, stepMs, orgId, expireAfterMs: RETENTION_DAYS * DAY });
  }
};

const fill = async (origin, orgId) => {
  await fillRange(origin, orgId, EACH, RETENTION_DAYS + 30, RETENTION_DAYS + 1);
  await fillRange(origin, orgId, EACH, RETENTION_DAYS - 1, 0);
  // The protocol reads what was written: a sample of each kind decodes, and the counts add up.
  const cutoff = new Date(Date.now() - RETENTION_DAYS * DAY);
  const [old, young] = await Promise.all([
    action(origin, "findOne", { filter: { _id: { $exists: true }, at: { $lt: cutoff } } }),
    action(origin, "countDocuments", { filter: { at: { $gte: cutoff } } }),
  ]);
  if (!(old.document?.at instanceof Date) || young.count < EACH)
    throw new Error(`the fill is not what the store would write: ${JSON.stringify(old)} ${young.count}`);
};

/** GET /org/get with `connections` clients until `seconds` pass or `until()` says stop. */
const load = (origin, name, seconds, until = async () => false) =>
  new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: origin,
        connections: LOAD.connections,
        duration: seconds,
        timeout: 30,
        requests: [{ method: "GET", path: `/org/get?organization_name=${encodeURIComponent(name)}` }],
      },
      (error, result) => {
        clearInterval(watch);
        if (error) reject(error);
        else resolve(result);
      },
    );
    const watch = setInterval(() => {
      until().then((stop) => stop && instance.stop(), reject);
    }, 1_000);
  });

const turns = (origin) => call(origin, "/__bench/turns");
/** Done when the expiry index holds nothing past its time (the live entries expire in a day at the earliest). */
const purgeDone = async (origin) => (await call(origin, "/__bench/expired")).count === 0;

const main = async () => {
  const began = Date.now();
  const seconds = () => `${((Date.now() - began) / 1000).toFixed(0)} s`;
  console.log(
    `bench:ttl: ${EACH.toLocaleString("en")} expired + ${EACH.toLocaleString("en")} live audit entries; load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores`,
  );
  const service = await startWorker("the service (bench:ttl)", "ttl-wrangler.toml", { JWT_SECRET: randomBytes(32).toString("hex") }, "/health");
  const { origin } = service;
  const name = "TtlBench";
  const created = await fetch(`${origin}/org/create`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ organization_name: name, email: "admin@ttlbench.example", password: "Bench-pass-1" }),
  });
  if (!created.ok) throw new Error(`create: ${created.status} ${await created.text()}`);
  const org = await action(origin, "findOne", { collection: "organizations", filter: { slug: "ttlbench" } });
  await fill(origin, String(org.document._id));
  console.log(`bench:ttl: filled after ${seconds()}`);

  await load(origin, name, LOAD.warmupSeconds);
  const baseline = await load(origin, name, LOAD.seconds);
  console.log(`bench:ttl: baseline measured after ${seconds()}`);

  await call(origin, "/__bench/purge");
  const purgeStart = Date.now();
  const beside = await load(origin, name, LOAD.seconds, () => purgeDone(origin));
  const loadedMs = Date.now() - purgeStart;
  const expiredAfterLoad = (await call(origin, "/__bench/expired")).count;
  while (!(await purgeDone(origin))) {
    if (Date.now() - purgeStart > PURGE_LIMIT_MS) throw new Error(`the purge did not finish within ${PURGE_LIMIT_MS / 1000} s`);
    await sleep(500);
  }
  const t = await turns(origin);
  console.log(`bench:ttl: purge finished after ${seconds()}`);

  // End state: nothing expired left, every live entry kept (plus the audit entries of the bench's own create).
  const cutoff = new Date(Date.now() - RETENTION_DAYS * DAY);
  const expiredLeft = (await action(origin, "countDocuments", { filter: { at: { $lt: cutoff } } })).count;
  const liveLeft = (await action(origin, "countDocuments", { filter: { at: { $gte: cutoff } } })).count;
  await stopEverything();
  if (expiredLeft !== 0 || liveLeft < EACH) throw new Error(`wrong end state: ${expiredLeft} expired left, ${liveLeft} live (expected 0 and ≥ ${EACH})`);

  const purgeMs = t.lastEnd - t.firstStart;
  const removedWhileLoaded = EACH - expiredAfterLoad;
  const ratio = beside.latency.p99 / baseline.latency.p99;
  const rows = [
    [
      "purge throughput (whole purge)",
      `${Math.round((EACH * 1000) / purgeMs).toLocaleString("en")} documents/s (${EACH.toLocaleString("en")} in ${(purgeMs / 1000).toFixed(1)} s)`,
    ],
    ["purge throughput beside the load", `${Math.round((removedWhileLoaded * 1000) / loadedMs).toLocaleString("en")} documents/s`],
    [
      "purge turns",
      `${t.count} (${Math.round(EACH / t.count)} documents each), ms: p50 ${percentile(t.durations, 0.5)}, p99 ${percentile(t.durations, 0.99)}, longest ${t.longestMs}`,
    ],
    ["GET /org/get without purge", `p50 ${baseline.latency.p50} ms, p99 ${baseline.latency.p99} ms, ${baseline.requests.average.toFixed(1)} req/s`],
    [
      "GET /org/get beside the purge",
      `p50 ${beside.latency.p50} ms, p99 ${beside.latency.p99} ms, ${beside.requests.average.toFixed(1)} req/s (${(loadedMs / 1000).toFixed(1)} s)`,
    ],
    ["p99 ratio", `${ratio.toFixed(2)}× (goal ≤ ${GOAL_P99_RATIO}×: ${ratio <= GOAL_P99_RATIO ? "met" : "not met"})`],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log("");
  for (const [label, value] of rows) console.log(`${label.padEnd(width)}  ${value}`);
  const failures = baseline.non2xx + baseline.errors + beside.non2xx + beside.errors;
  if (failures > 0) console.log(`\n${failures} requests failed`);
  console.log(`\nbench:ttl: done in ${seconds()}; load average ${loadavg()[0].toFixed(2)}`);
};

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stopEverything().then(() => process.exit(130)));
main().catch(async (error) => {
  console.error(`bench:ttl: ${error.stack ?? error}`);
  await stopEverything();
  process.exit(1);
});
