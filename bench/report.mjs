// The bench's output: one table of medians (with the spread over rounds), where each endpoint's
// CPU goes, then every goal with its figures and PASS or FAIL.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BUDGET_GZIP_KIB } from "../scripts/deploy-dry-run.ts";
import { CROWD, HASH, HEADED_READ, RECORDS_PAGE, RPC_READ, THROTTLED_HASH } from "./scenarios.mjs";

export const PRODUCTION = "workerd";
export const DEV = "wrangler dev";
/** The self-hosted server: the same build on the workerd binary (scripts/serve.ts). */
export const SERVE = "npm run serve";
export const BASELINE_FILE = join(import.meta.dirname, "baseline.json");
/** The rows of bench/store-ceiling.mjs: the service's Durable Object driven with Data API actions. */
export const STORE_CEILING = "one DO";

const PAGE = `GET /org/records?limit=${RECORDS_PAGE}`;
/** Issue 33's goals, judged on medians of the workerd mode with the embedded store. */
const GOALS = {
  /** CPU per request of a record write and of a page of 50, each (from 4.40 and 3.89 ms). */
  recordsCpuMs: 2.0,
  /** GET /org/get against a bare Worker that logs one line and reads one row of a Durable Object over RPC, by req/s. */
  getShare: 0.85,
  /** Login against one PBKDF2 at the configured cost plus one log line, by mean latency at one connection. */
  loginOverCeiling: 1.3,
  /** Module evaluation of the built bundle, as scripts/bundle-report.ts measures it, in ms. */
  startMs: 25,
  bundleKiB: BUDGET_GZIP_KIB,
};

/** Data round trips per request before the answer, from test/round-trips.json (the table the docs show and the tests assert). */
const TRIPS_TABLE = JSON.parse(readFileSync(join(import.meta.dirname, "..", "test", "round-trips.json"), "utf8")).endpoints;
const tripsOf = (endpoint) => {
  const row = TRIPS_TABLE.find((r) => r.endpoint === endpoint);
  if (!row) throw new Error(`test/round-trips.json has no row ${endpoint}`);
  return row.roundTrips;
};
/** By the bench's names for what it measures. */
const ROUND_TRIPS = {
  "GET /health": tripsOf("GET /health"),
  "GET /org/get": tripsOf("GET /org/get"),
  // As many with a crowded organization: its members change what a trip carries, never how many.
  [`GET /org/get, ${CROWD} members`]: tripsOf("GET /org/get"),
  [`POST /admin/login, ${CROWD} members`]: tripsOf("POST /admin/login"),
  "POST /org/records": tripsOf("POST /org/records"),
  [PAGE]: tripsOf("GET /org/records"),
  [`${PAGE}, API key`]: tripsOf("GET /org/records (API key)"),
  "POST /admin/login": tripsOf("POST /admin/login"),
  "POST /org/create": tripsOf("POST /org/create"),
  "PUT /org/update": tripsOf("PUT /org/update (password)"),
  "DELETE /org/delete": tripsOf("DELETE /org/delete"),
};

const fixed = (value, digits) => (value === undefined || Number.isNaN(value) ? "–" : value.toFixed(digits));

/**
 * A ratio judged against `goal`, with as many digits as it takes to print it apart from the goal:
 * 0.8454 against 0.85 reads 0.845 beside its FAIL, not 0.85.
 */
const judged = (value, goal) => {
  let digits = 2;
  while (digits < 6 && value !== goal && Number(fixed(value, digits)) === goal) digits++;
  return fixed(value, digits);
};

export const median = (values) => {
  const sorted = values.filter((v) => v !== undefined && !Number.isNaN(v)).sort((a, b) => a - b);
  if (!sorted.length) return undefined;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const spread = (values) => {
  const present = values.filter((v) => v !== undefined && !Number.isNaN(v));
  return present.length ? { min: Math.min(...present), max: Math.max(...present) } : undefined;
};

/** One row per mode, store and endpoint: medians over the rounds, the spread of req/s and CPU. */
export const summarise = (samples) => {
  const groups = new Map();
  for (const s of samples) {
    const key = `${s.mode}|${s.store}|${s.endpoint}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(s);
  }
  return [...groups.values()].map((group) => {
    const [{ mode, store, endpoint, connections }] = group;
    const of = (field) => group.map((s) => s[field]);
    return {
      mode,
      store,
      endpoint,
      connections,
      rounds: group.length,
      requests: of("requests").reduce((a, b) => a + b, 0),
      rps: median(of("rps")),
      rpsSpread: spread(of("rps")),
      p50: median(of("p50")),
      p99: median(of("p99")),
      mean: median(of("mean")),
      roundTrips: median(of("roundTrips")),
      cpuMs: median(of("cpuMs")),
      cpuSpread: spread(of("cpuMs")),
      failures: of("failures").reduce((a, b) => a + b, 0),
    };
  });
};

const range = (s, digits) => (s ? `${fixed(s.min, digits)}–${fixed(s.max, digits)}` : "–");

export const printTable = (rows) => {
  const header = ["mode", "store", "endpoint", "conn", "req/s", "req/s range", "p50 ms", "p99 ms", "mean ms", "trips", "CPU ms/req", "CPU range", "failed"];
  const cells = rows.map((r) => [
    r.mode,
    r.store,
    r.endpoint,
    String(r.connections),
    fixed(r.rps, 1),
    range(r.rpsSpread, 0),
    fixed(r.p50, 0),
    fixed(r.p99, 0),
    fixed(r.mean, 1),
    fixed(r.roundTrips, 2),
    fixed(r.cpuMs, 2),
    range(r.cpuSpread, 2),
    String(r.failures),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  // Text left, numbers right, as a reader scans them.
  const line = (c) => c.map((v, i) => (i < 3 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  const rounds = Math.max(...rows.map((r) => r.rounds));
  console.log(`\nmedians of ${rounds} rounds (ranges: lowest–highest round); CPU: every process of the server, per request`);
  console.log(`${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const c of cells) console.log(line(c));
};

const find = (rows, mode, store, endpoint) => rows.find((r) => r.mode === mode && r.store === store && r.endpoint === endpoint);

/** The parts priced by the bare Worker of one mode, in CPU ms per request. */
const partsOf = (rows, mode) => {
  const bare = (endpoint) => find(rows, mode, "bare", endpoint)?.cpuMs;
  const floor = bare("GET / (from memory)");
  const logged = bare("GET /logged (+1 log line)");
  return {
    floor,
    log: logged - floor,
    trip: bare("GET /store (+1 store call, fetch)") - logged,
    tripRpc: bare(RPC_READ) - logged,
    headers: bare(HEADED_READ) - bare(RPC_READ),
    hash: bare(HASH) - logged,
    throttle: bare(THROTTLED_HASH) - bare(HASH),
  };
};

/**
 * Each service endpoint's CPU split into what the bare Worker prices (the runtime's floor, the log
 * line, the headers every answer carries, a store round trip, the hash) and the rest, which is the
 * service's own code: routing, validation, context, EJSON, the SQLite engine, and writes after the answer.
 */
export const printBreakdowns = (rows) => {
  for (const mode of [PRODUCTION, DEV]) {
    const parts = partsOf(rows, mode);
    if (parts.floor === undefined) continue;
    console.log(
      `\nwhere the CPU goes, ${mode} (bare Worker: runtime floor ${fixed(parts.floor, 2)} ms, log line ${fixed(parts.log, 2)} ms, answer headers ${fixed(parts.headers, 2)} ms, ` +
        `store round trip ${fixed(parts.trip, 2)} ms over fetch / ${fixed(parts.tripRpc, 2)} ms over RPC, PBKDF2 ${fixed(parts.hash, 2)} ms, ` +
        `one count of the throttle ${fixed(parts.throttle, 2)} ms)`,
    );
    for (const row of rows.filter((r) => r.mode === mode && (r.store === "embedded" || r.store === "gateway"))) {
      if (row.cpuMs === undefined) continue;
      const trips = row.roundTrips ?? 0;
      const checksPassword = row.endpoint.startsWith("POST /admin/login") || row.endpoint === "PUT /org/update";
      const hash = checksPassword ? parts.hash : 0;
      // The Worker calls the embedded store over RPC; the gateway is reached with fetch.
      const trip = row.store === "embedded" ? parts.tripRpc : parts.trip;
      const priced = [
        ["runtime floor", parts.floor],
        ["log line", parts.log],
        // NaN when the bare Worker's headed row is missing.
        ...(Number.isNaN(parts.headers) ? [] : [["headers", parts.headers]]),
        [`${fixed(trips, 0)} store trips`, trips * trip],
        ...(hash ? [["PBKDF2", hash]] : []),
        // NaN when the bare Worker's throttled row is missing (a difference with an undefined side).
        ...(checksPassword && !Number.isNaN(parts.throttle) ? [["throttle count", parts.throttle]] : []),
      ];
      const own = row.cpuMs - priced.reduce((sum, [, ms]) => sum + ms, 0);
      const share = (ms) => `${fixed(ms, 2)} (${fixed((100 * ms) / row.cpuMs, 0)}%)`;
      const text = [...priced, ["service's own", own]].map(([name, ms]) => `${name} ${share(ms)}`).join(" + ");
      console.log(`  ${row.store.padEnd(8)} ${row.endpoint.padEnd(33)} ${fixed(row.cpuMs, 2).padStart(6)} ms = ${text}`);
    }
  }
};

const mark = (ok, ...rows) => {
  const failed = rows.reduce((sum, r) => sum + (r?.failures ?? 0), 0);
  // Failed requests (fast 4xx, timeouts) would make any figure look better or worse than it is.
  if (failed) return `FAIL (${failed} requests failed)`;
  if (rows.some((r) => r === undefined)) return "FAIL (not measured)";
  return ok ? "PASS" : "FAIL";
};

const readBaseline = () => (existsSync(BASELINE_FILE) ? JSON.parse(readFileSync(BASELINE_FILE, "utf8")) : undefined);

const verdictOf = (ok, ...rows) => mark(ok, ...rows);
const shown = (verdict) => `${verdict.replace(/^(PASS|FAIL)/, (m) => m.toLowerCase())}, not judged`;

export const printGoals = (rows, bundle) => {
  for (const r of rows.filter((row) => row.failures > 0))
    console.log(`\nwarning: ${r.mode} ${r.store} ${r.endpoint}: ${r.failures} of ${r.requests} requests failed`);
  const at = (mode, endpoint, store = "embedded") => find(rows, mode, store, endpoint);
  const ceiling = (mode) => find(rows, mode, "bare", RPC_READ);
  const hashed = (mode) => find(rows, mode, "bare", HASH);

  console.log(`\ngoals of issue 33 (medians of the ${PRODUCTION} mode, embedded store, as production runs the Worker)`);
  for (const endpoint of ["POST /org/records", PAGE]) {
    const row = at(PRODUCTION, endpoint);
    console.log(
      `  ${endpoint}: ${fixed(row?.cpuMs, 2)} ms CPU per request (goal ≤ ${fixed(GOALS.recordsCpuMs, 1)} ms: ${verdictOf(row?.cpuMs <= GOALS.recordsCpuMs, row)})`,
    );
  }
  const get = at(PRODUCTION, "GET /org/get");
  const fair = ceiling(PRODUCTION);
  const getShare = get?.rps / fair?.rps;
  console.log(
    `  GET /org/get ÷ its ceiling (bare Worker + 1 log line + 1 store read over RPC, ${fixed(fair?.rps, 0)} req/s, ${fixed(fair?.cpuMs, 2)} ms CPU): ` +
      `${judged(getShare, GOALS.getShare)} by req/s, ${fixed(fair?.cpuMs / get?.cpuMs, 2)} by CPU (goal ≥ ${GOALS.getShare} by req/s: ${verdictOf(getShare >= GOALS.getShare, get, fair)})`,
  );
  // The ceiling answers with one header; every answer of the service carries seven more (the
  // security headers, its request id and its data round trips), which the contract requires.
  const headed = find(rows, PRODUCTION, "bare", HEADED_READ);
  if (headed) {
    console.log(
      `    the same ÷ that ceiling answered with the service's headers (${fixed(headed.rps, 0)} req/s, ${fixed(headed.cpuMs, 2)} ms CPU): ` +
        `${fixed(get?.rps / headed.rps, 2)} by req/s, ${fixed(headed.cpuMs / get?.cpuMs, 2)} by CPU (shown, not judged)`,
    );
  }
  const login = at(PRODUCTION, "POST /admin/login");
  const hash = hashed(PRODUCTION);
  const loginOver = login?.mean / hash?.mean;
  console.log(
    `  login ${fixed(login?.mean, 1)} ms mean (${fixed(login?.cpuMs, 1)} ms CPU) ÷ its ceiling (PBKDF2 + 1 log line, ${fixed(hash?.mean, 1)} ms, ${fixed(hash?.cpuMs, 1)} ms CPU): ` +
      `${judged(loginOver, GOALS.loginOverCeiling)}× by latency, ${fixed(login?.cpuMs / hash?.cpuMs, 2)}× by CPU (goal ≤ ${GOALS.loginOverCeiling}× by latency: ${verdictOf(loginOver <= GOALS.loginOverCeiling, login, hash)})`,
  );
  // Every password check counts against the Rate Limiting binding first: under Miniflare an HTTP
  // call into a Durable Object of its own, which a deployed Worker's binding does not make.
  const throttled = find(rows, PRODUCTION, "bare", THROTTLED_HASH);
  if (throttled) {
    console.log(
      `    the same ÷ PBKDF2 + 1 count of the per-client throttle + 1 log line (${fixed(throttled.mean, 1)} ms, ${fixed(throttled.cpuMs, 1)} ms CPU): ` +
        `${fixed(login?.mean / throttled.mean, 2)}× by latency, ${fixed(login?.cpuMs / throttled.cpuMs, 2)}× by CPU (shown, not judged)`,
    );
  }
  const create = at(PRODUCTION, "POST /org/create");
  const remove = at(PRODUCTION, "DELETE /org/delete");
  console.log(
    `  DELETE /org/delete ${fixed(remove?.cpuMs, 2)} ms CPU against POST /org/create ${fixed(create?.cpuMs, 2)} ms (goal: no more than create's: ${verdictOf(remove?.cpuMs <= create?.cpuMs, remove, create)})`,
  );
  printStart(bundle);

  console.log(`\nbeside them (shown, not judged)`);
  printServe(rows);
  for (const [mode, store] of [
    [PRODUCTION, "gateway"],
    [DEV, "embedded"],
  ]) {
    const getHere = at(mode, "GET /org/get", store);
    if (!getHere) continue;
    const fairHere = ceiling(mode);
    const loginHere = at(mode, "POST /admin/login", store);
    const hashHere = hashed(mode);
    const shareHere = getHere.rps / fairHere?.rps;
    const overHere = loginHere?.mean / hashHere?.mean;
    console.log(
      `  ${mode}, ${store}: GET /org/get ÷ its ceiling ${judged(shareHere, GOALS.getShare)} by req/s (${shown(verdictOf(shareHere >= GOALS.getShare, getHere, fairHere))}); ` +
        `login ÷ its ceiling ${judged(overHere, GOALS.loginOverCeiling)}× by latency (${shown(verdictOf(overHere <= GOALS.loginOverCeiling, loginHere, hashHere))})`,
    );
  }
  if (get) {
    const logged = find(rows, PRODUCTION, "bare", "GET /logged (+1 log line)");
    console.log(
      `  ${PRODUCTION}, embedded: GET /org/get at ${get.connections} connections: ${fixed(get.rps, 0)} req/s, p50 ${fixed(get.p50, 0)} ms, p99 ${fixed(get.p99, 0)} ms; ` +
        `against the log line alone (${fixed(logged?.rps, 0)} req/s): ${fixed(get.rps / logged?.rps, 2)} by req/s`,
    );
  }
  for (const endpoint of ["GET /org/get", "POST /admin/login"]) {
    const small = at(PRODUCTION, endpoint);
    const crowded = at(PRODUCTION, `${endpoint}, ${CROWD} members`);
    if (!small || !crowded) continue;
    console.log(
      `  ${PRODUCTION}, embedded: ${endpoint} of an organization with ${CROWD} members: ${fixed(crowded.cpuMs, 2)} ms CPU, ${fixed(crowded.mean, 1)} ms mean, ` +
        `${fixed(crowded.cpuMs / small.cpuMs, 2)}× the CPU of a new organization's (${fixed(small.cpuMs, 2)} ms)`,
    );
  }
  printCpuAgainstBaseline(rows);
  printScale(rows);

  console.log(`\nchecks`);
  for (const store of ["embedded", "gateway"]) {
    const rowsHere = rows.filter((r) => r.mode === PRODUCTION && r.store === store && ROUND_TRIPS[r.endpoint] !== undefined);
    if (!rowsHere.length) continue;
    const wrong = rowsHere.filter((r) => r.roundTrips !== ROUND_TRIPS[r.endpoint]);
    const text = wrong.map((r) => `${r.endpoint} ${fixed(r.roundTrips, 2)} (expected ${ROUND_TRIPS[r.endpoint]})`).join(", ");
    console.log(`  ${PRODUCTION}, ${store}: data round trips per request as test/round-trips.json states them: ${wrong.length ? `FAIL: ${text}` : "PASS"}`);
  }
  printBundle(bundle);
};

/**
 * The self-hosted server against the development server it replaces in the image, and against
 * the bench's own workerd mode (the same bundle through Miniflare's API): what serving the built
 * Worker on the workerd binary, with serve's edge Worker in front, costs or saves.
 */
const printServe = (rows) => {
  for (const endpoint of ["GET /org/get", "POST /org/records", PAGE, "POST /admin/login"]) {
    const served = find(rows, SERVE, "embedded", endpoint);
    if (!served) continue;
    const others = [DEV, PRODUCTION]
      .map((mode) => [mode, find(rows, mode, "embedded", endpoint)])
      .filter(([, row]) => row)
      .map(
        ([mode, row]) =>
          `${mode} ${fixed(row.rps, 0)} req/s, ${fixed(row.cpuMs, 2)} ms (serve ${fixed(served.rps / row.rps, 2)}× the req/s, ${fixed(served.cpuMs / row.cpuMs, 2)}× the CPU)`,
      );
    console.log(
      `  ${SERVE}, embedded: ${endpoint} ${fixed(served.rps, 0)} req/s, ${fixed(served.cpuMs, 2)} ms CPU per request; ${others.join("; ") || "nothing beside it"}`,
    );
  }
};

/** CPU per request against the figures saved before the changes they judge (bench/baseline.json). */
const printCpuAgainstBaseline = (rows) => {
  const baseline = readBaseline();
  if (!baseline) {
    console.log(`  CPU per request against the baseline: none (no ${BASELINE_FILE}; \`npm run bench -- --save-baseline\` writes one)`);
    return;
  }
  for (const mode of [PRODUCTION, DEV]) {
    const saved = baseline.cpuMs[`${mode} · embedded`];
    if (!saved) continue;
    const lines = [];
    let failed = 0;
    for (const row of rows.filter((r) => r.mode === mode && r.store === "embedded")) {
      const before = saved[row.endpoint];
      if (before === undefined || row.cpuMs === undefined) continue;
      // No worse than the baseline, with 10% for the noise of a quick run: a regression to look at.
      const ok = row.cpuMs <= before * 1.1;
      if (!ok) failed++;
      lines.push(`${row.endpoint} ${fixed(before, 2)} → ${fixed(row.cpuMs, 2)} ms (${fixed(row.cpuMs / before, 2)}×${ok ? "" : ", over 1.1×"})`);
    }
    if (!lines.length) continue;
    console.log(
      `  ${mode}, embedded: CPU per request against the baseline of ${baseline.measured} (${baseline.run} run): ${failed ? `${failed} over 1.1×` : "none over 1.1×"}\n    ${lines.join("\n    ")}`,
    );
  }
};

/** Many organizations at once: the same writes spread over `orgs` organizations, against one; and one Durable Object's ceiling. */
const printScale = (rows) => {
  const actions = rows.filter((r) => r.store === STORE_CEILING);
  if (actions.length) {
    const each = actions.map((r) => `${r.endpoint} ${fixed(r.rps, 0)}/s (${fixed(r.cpuMs, 2)} ms CPU)`).join(", ");
    console.log(`  ${PRODUCTION}, one Durable Object (bench/store-worker.ts), actions per second at 10 connections: ${each} (shown, no goal)`);
  }
  for (const store of ["embedded", "gateway"]) {
    const one = find(rows, PRODUCTION, store, "POST /org/records");
    const many = rows.find((r) => r.mode === PRODUCTION && r.store === store && r.endpoint.startsWith("POST /org/records, "));
    if (!one || !many) continue;
    console.log(
      `  ${PRODUCTION}, ${store}: record writes, 1 organization ${fixed(one.rps, 0)}/s, ${many.endpoint.split(", ")[1]} at once ${fixed(many.rps, 0)}/s ` +
        `(${fixed(many.cpuMs, 2)} ms CPU each; shown, no goal)`,
    );
  }
};

const printBundle = (bundle) => {
  if (bundle.error) {
    console.log(`  bundle: FAIL (not measured: ${bundle.error.message})`);
    return;
  }
  const kib = bundle.gzipped / 1024;
  const cross = bundle.wranglerGzipKiB ? `; wrangler says ${bundle.wranglerGzipKiB} KiB` : "";
  console.log(
    `  bundle (wrangler deploy --dry-run): ${fixed(bundle.raw / 1024, 1)} KiB, ${fixed(kib, 1)} KiB gzipped${cross} (budget ≤ ${GOALS.bundleKiB} KiB: ${mark(kib <= GOALS.bundleKiB)})`,
  );
};

const printStart = (bundle) => {
  const start = bundle.error ? { error: bundle.error } : bundle.start;
  if (!start || start.error) {
    console.log(`  module evaluation: FAIL (not measured${start?.error ? `: ${start.error.message}` : ""})`);
    return;
  }
  console.log(
    `  module evaluation (the built bundle imported in Node ${start.node}, the fastest of ${start.samplesMs.length} fresh processes, before and after the rounds): ${fixed(start.fastestMs, 1)} ms, median ${fixed(start.medianMs, 1)} ms (goal ≤ ${GOALS.startMs} ms: ${mark(start.fastestMs <= GOALS.startMs)})`,
  );
};
