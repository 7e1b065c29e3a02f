// The bench's output: one table of every measurement, then each goal with its figures.
import { BUDGET_START_MS } from "../scripts/bundle-report.ts";
import { BUDGET_GZIP_KIB } from "../scripts/deploy-dry-run.ts";
import { RECORDS_PAGE } from "./scenarios.mjs";

const GOALS = { ceilingShare: 0.5, loginOverPbkdf2: 1.1, bundleKiB: BUDGET_GZIP_KIB, startMs: BUDGET_START_MS, recordRoundTrips: 2 };

const fixed = (value, digits) => (value === undefined || Number.isNaN(value) ? "–" : value.toFixed(digits));

export const printTable = (rows) => {
  const header = ["target", "endpoint", "conn", "requests", "req/s", "p50 ms", "p99 ms", "mean ms", "round trips/req", "server CPU ms/req", "failed"];
  const cells = rows.map((r) => [
    r.target,
    r.endpoint,
    String(r.connections),
    String(r.requests),
    fixed(r.rps, 1),
    fixed(r.p50, 0),
    fixed(r.p99, 0),
    fixed(r.mean, 1),
    fixed(r.roundTrips, 2),
    fixed(r.cpuMs, 2),
    String(r.failures),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  // Text left, numbers right, as a reader scans them.
  const line = (c) => c.map((v, i) => (i < 2 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const c of cells) console.log(line(c));
};

const find = (rows, target, endpoint) => rows.find((r) => r.target === target && r.endpoint === endpoint);
const verdict = (ok, ...rows) => {
  const failed = rows.reduce((sum, r) => sum + (r?.failures ?? 0), 0);
  // Failed requests (fast 4xx, timeouts) would make any figure look better or worse than it is.
  if (failed) return `not judged: ${failed} requests failed`;
  return ok ? "met" : "NOT met";
};

/** Records per second: one per insert, a page's worth per read; and the round trips each call costs. */
const printRecords = (rows, target) => {
  const insert = find(rows, target, "POST /org/records");
  const page = find(rows, target, `GET /org/records?limit=${RECORDS_PAGE}`);
  if (!insert || !page) return;
  const trips = GOALS.recordRoundTrips;
  const tripsOk = insert.roundTrips === trips && page.roundTrips === trips;
  console.log(
    `  ${target}: records: insert ${fixed(insert.rps, 1)} records/s, read ${fixed(page.rps, 1)} pages/s = ${fixed(page.rps * RECORDS_PAGE, 0)} records/s; ` +
      `round trips ${fixed(insert.roundTrips, 2)} per insert, ${fixed(page.roundTrips, 2)} per page (expected ${trips} each: ${verdict(tripsOk, insert, page)})`,
  );
};

export const printGoals = (rows, bundle) => {
  const failed = rows.filter((r) => r.failures > 0);
  // A failed request is usually a fast 4xx or a timeout: either way its row's figures mislead.
  for (const r of failed) console.log(`\nwarning: ${r.target} ${r.endpoint}: ${r.failures} of ${r.requests} requests failed`);
  const bare = find(rows, "bare Worker", "GET / (from memory)");
  const logged = find(rows, "bare Worker", "GET /logged (+1 log line)");
  const pbkdf2 = find(rows, "bare Worker", "GET /pbkdf2 (100,000 iterations)");
  console.log("\ngoals");
  console.log(
    `  bare-Worker ceiling: ${fixed(bare?.rps, 1)} req/s, ${fixed(bare?.cpuMs, 2)} ms server CPU per request (GET / from memory, ${bare?.connections} connections)`,
  );
  console.log(`  one console.log line under wrangler dev: +${fixed(logged?.cpuMs - bare?.cpuMs, 2)} ms server CPU per request (GET /logged against GET /)`);
  for (const target of ["embedded store", "gateway + FerretDB"]) printRecords(rows, target);
  for (const target of ["embedded store", "gateway + FerretDB"]) {
    const get = find(rows, target, "GET /org/get");
    const login = find(rows, target, "POST /admin/login");
    if (!get || !login) continue;
    const share = get.rps / bare.rps;
    // The same ratio from CPU per request: what throughput would be if the servers had the cores to themselves.
    const cpuShare = bare.cpuMs / get.cpuMs;
    console.log(
      `  ${target}: GET /org/get / ceiling = ${fixed(share, 2)} by req/s, ${fixed(cpuShare, 2)} by server CPU per request (goal ≥ ${GOALS.ceilingShare}: ${verdict(share >= GOALS.ceilingShare, get, bare)})`,
    );
    // Mean latencies at one connection: the p50 of autocannon is whole milliseconds, too coarse for 10%.
    const cost = login.mean / pbkdf2.mean;
    console.log(
      `  ${target}: login ${fixed(login.mean, 1)} ms (p50 ${fixed(login.p50, 0)}, ${fixed(login.cpuMs, 1)} ms CPU) vs raw PBKDF2 ${fixed(pbkdf2.mean, 1)} ms (p50 ${fixed(pbkdf2.p50, 0)}, ${fixed(pbkdf2.cpuMs, 1)} ms CPU) = ${fixed(cost, 2)}× (goal ≤ ${GOALS.loginOverPbkdf2}×: ${verdict(cost <= GOALS.loginOverPbkdf2, login, pbkdf2)})`,
    );
  }
  if (bundle.error) {
    console.log(`  bundle: not measured (${bundle.error.message})`);
    return;
  }
  const kib = bundle.gzipped / 1024;
  const cross = bundle.wranglerGzipKiB ? `; wrangler says ${bundle.wranglerGzipKiB} KiB` : "";
  console.log(
    `  bundle (wrangler deploy --dry-run): ${fixed(bundle.raw / 1024, 1)} KiB, ${fixed(kib, 1)} KiB gzipped${cross} (goal ≤ ${GOALS.bundleKiB} KiB: ${verdict(kib <= GOALS.bundleKiB)})`,
  );
  const start = bundle.start;
  if (!start || start.error) {
    console.log(`  module evaluation: not measured${start?.error ? ` (${start.error.message})` : ""}`);
    return;
  }
  console.log(
    `  module evaluation (the built bundle imported in Node ${start.node}, median of ${start.samplesMs.length} fresh processes): ${fixed(start.medianMs, 1)} ms (goal ≤ ${GOALS.startMs} ms: ${verdict(start.medianMs <= GOALS.startMs)})`,
  );
};
