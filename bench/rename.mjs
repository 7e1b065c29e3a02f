// `npm run bench:rename [-- --quick]`: renames a tenant collection holding 0, 10,000 and 100,000
// documents (--quick: 0, 1,000, 10,000) on both stores, and times beside it a copy-then-drop
// migration of an equal collection, the old service's way of renaming. Goal: the rename time does
// not grow with the number of documents. Not a test: it prints figures, but it checks the end
// state of every operation it times (a benchmark that times a failure measures nothing).
//
// Both stores are driven with the Data API protocol over loopback HTTP: the embedded store through
// a bench-only Worker (bench/store-worker.ts) under `wrangler dev`, the MongoDB engine through the
// gateway on FerretDB. Every loop is bounded in count, every call in time, and each store in
// total time (BENCH_RENAME_STORE_SECONDS, default 300): sizes it cannot reach in that time are
// reported as not measured. The processes it starts are stopped before it exits.
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { median, dataApi as storeApi } from "./data-api.mjs";

// On FerretDB every page of the copy costs time in proportion to the whole collection (about 7 s
// per page at 100,000 documents here), close to the gateway's default 8 s operation timeout. The
// old service copied through the driver with no such limit, so the gateway started here gets a
// minute; set GATEWAY_OPERATION_TIMEOUT_MS to choose otherwise. Set before processes.mjs is loaded:
// it copies the environment for the processes it starts.
process.env.GATEWAY_OPERATION_TIMEOUT_MS ??= "60000";
const { freePort, gatewayUnavailable, ROOT, spawnGroup, startGateway, stopEverything, throwaway } = await import("./processes.mjs");
const { waitFor } = await import("../scripts/processes.ts");

const quick = process.argv.includes("--quick");
const SIZES = quick ? [0, 1_000, 10_000] : [0, 10_000, 100_000];
const INSERT_BATCH = 5_000;
/**
 * Pages of the copy: about 0.75 MB of EJSON and 60,000 JSON values per call, inside
 * the protocol's 100,000-value body budget (src/dataapi/limits.ts) that 10,000 of these would pass.
 */
const COPY_PAGE = 5_000;
/** Renames per size (back and forth); the median is reported, so one scheduling hiccup does not decide. */
const RENAMES = 5;
const CALL_TIMEOUT_MS = 120_000;
const STORE_BUDGET_MS = Math.min(1_800, Math.max(30, Number(process.env.BENCH_RENAME_STORE_SECONDS) || 300)) * 1000;
// Flat: the median rename at the largest size within 3× the one at 0, or within 5 ms of it (at a
// few milliseconds, loopback and scheduler noise alone moves a single call by that much).
const FLAT_FACTOR = 3;
const FLAT_SLACK_MS = 5;
const DATABASE = "bench_rename";

class OverBudget extends Error {}

/** One store's Data API, loopback only: documents read by the copy are written back with their ObjectIds and dates intact. */
const dataApi = (base, key) => {
  if (!base.startsWith("http://127.0.0.1:")) throw new Error(`refusing to drive anything but loopback: ${base}`);
  return storeApi(base, key, { database: DATABASE, timeoutMs: CALL_TIMEOUT_MS });
};

// --- starting the stores -------------------------------------------------------------------

/** `wrangler dev` on the bench Worker, in its own process group, with a throwaway store. */
const startStoreWorker = async () => {
  const port = await freePort();
  const state = throwaway("oms-bench-rename-");
  const wrangler = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
  const args = [wrangler, "dev", "--config", join(ROOT, "bench", "store-wrangler.toml"), "--ip", "127.0.0.1", "--port", String(port)];
  // Its own inspector port: two wranglers left to the default 9229 clash.
  args.push("--inspector-port", String(await freePort()), "--persist-to", state, "--log-level", "warn");
  const proc = spawnGroup(process.execPath, args);
  const call = dataApi(`http://127.0.0.1:${port}`);
  await waitFor("the bench store Worker", () => call("listCollections"), proc, 90_000, 250);
  return { call, stop: proc.stop };
};

const startGatewayStore = async () => {
  const gateway = await startGateway();
  return { call: dataApi(gateway.url, gateway.key), stop: gateway.stop };
};

const stopAll = () => stopEverything();
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stopAll().then(() => process.exit(130)));

// --- what is timed -------------------------------------------------------------------------

const documentsFor = (start, end) => {
  const created = new Date();
  return Array.from({ length: end - start }, (_, k) => ({ n: start + k, name: `Item ${start + k}`, price: (start + k) % 100, tags: ["a", "b"], created }));
};

/** A fresh collection of `n` small documents, inserted in batches; returns the seconds it took. */
const seed = async (call, collection, n, deadline, label) => {
  const began = performance.now();
  await call("dropCollection", collection);
  await call("createCollection", collection);
  for (let start = 0; start < n; start += INSERT_BATCH) {
    if (Date.now() > deadline) throw new OverBudget(`seeding ${label} stopped at ${start.toLocaleString("en-US")} of ${n.toLocaleString("en-US")} documents`);
    await call("insertMany", collection, { documents: documentsFor(start, Math.min(n, start + INSERT_BATCH)) });
    const done = Math.min(n, start + INSERT_BATCH);
    if (n >= 50_000 && done % 25_000 === 0) console.log(`    ${label}: ${done.toLocaleString("en-US")} of ${n.toLocaleString("en-US")} seeded`);
  }
  return (performance.now() - began) / 1000;
};

const count = async (call, collection) => (await call("countDocuments", collection, { filter: {} })).count;
const exists = async (call, collection) => (await call("listCollections", undefined, { filter: { name: collection } })).collections.length > 0;

/** The end state the timed operation promised: `to` holds `n` documents and `from` is gone. */
const verifyMoved = async (call, from, to, n, what) => {
  const [held, left] = [await count(call, to), await exists(call, from)];
  if (held !== n || left || !(await exists(call, to))) {
    throw new Error(`${what}: expected ${n} documents in ${to} and no ${from}; found ${held} and ${left ? "the source still there" : "no source"}`);
  }
};

/** Back and forth RENAMES times; ends with the documents in `b`. Returns each call's milliseconds. */
const timeRenames = async (call, a, b) => {
  const times = [];
  for (let i = 0; i < RENAMES; i++) {
    const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
    const began = performance.now();
    await call("renameCollection", from, { to });
    times.push(performance.now() - began);
  }
  return times;
};

/**
 * The old service's migration: create the target, page through the source in _id order, insert
 * each page, drop the source. Returns the milliseconds spent reading, writing and dropping.
 */
const copyThenDrop = async (call, from, to) => {
  const spent = { read: 0, write: 0, drop: 0 };
  const timed = async (part, promise) => {
    const began = performance.now();
    const result = await promise();
    spent[part] += performance.now() - began;
    return result;
  };
  await timed("write", () => call("createCollection", to));
  let last;
  for (let page = 0; page < 1_000; page++) {
    const filter = last === undefined ? {} : { _id: { $gt: last } };
    const { documents } = await timed("read", () => call("find", from, { filter, sort: { _id: 1 }, limit: COPY_PAGE }));
    if (documents.length === 0) break;
    await timed("write", () => call("insertMany", to, { documents }));
    last = documents.at(-1)._id;
    if (documents.length < COPY_PAGE) break;
  }
  await timed("drop", () => call("dropCollection", from));
  return spent;
};

const measureSize = async (call, n, deadline, run) => {
  const name = (suffix) => `bench_${run}_${n}_${suffix}`;
  const seedSeconds = await seed(call, name("a"), n, deadline, `rename source (${n})`);
  const renames = await timeRenames(call, name("a"), name("b"));
  await verifyMoved(call, name("a"), name("b"), n, "rename");
  await call("dropCollection", name("b"));

  await seed(call, name("src"), n, deadline, `copy source (${n})`);
  const began = performance.now();
  const copyParts = await copyThenDrop(call, name("src"), name("dst"));
  const copyMs = performance.now() - began;
  await verifyMoved(call, name("src"), name("dst"), n, "copy-then-drop");
  await call("dropCollection", name("dst"));
  return { n, renameMs: median(renames), renameMaxMs: Math.max(...renames), copyMs, copyParts, seedSeconds };
};

const measureStore = async (label, store) => {
  const deadline = Date.now() + STORE_BUDGET_MS;
  const run = Date.now().toString(36);
  const rows = [];
  for (const n of SIZES) {
    try {
      const row = await measureSize(store.call, n, deadline, run);
      console.log(
        `  ${label}, ${n.toLocaleString("en-US")} documents: seeded in ${row.seedSeconds.toFixed(1)} s, rename ${row.renameMs.toFixed(1)} ms, copy-then-drop ${row.copyMs.toFixed(0)} ms ` +
          `(find ${row.copyParts.read.toFixed(0)}, insertMany ${row.copyParts.write.toFixed(0)}, drop ${row.copyParts.drop.toFixed(0)})`,
      );
      rows.push({ store: label, ...row });
    } catch (error) {
      if (!(error instanceof OverBudget)) throw error;
      console.log(`  ${label}: ${error.message} (budget ${STORE_BUDGET_MS / 1000} s per store)`);
      rows.push({ store: label, n, skipped: error.message });
    }
  }
  return rows;
};

// --- the report ----------------------------------------------------------------------------

const printTable = (rows) => {
  const header = ["store", "documents", "rename ms (median)", "rename ms (max)", "copy-then-drop ms", "copy ÷ rename"];
  const cells = rows.map((r) =>
    r.skipped
      ? [r.store, r.n.toLocaleString("en-US"), "not measured", "–", "–", "–"]
      : [r.store, r.n.toLocaleString("en-US"), r.renameMs.toFixed(1), r.renameMaxMs.toFixed(1), r.copyMs.toFixed(0), `${(r.copyMs / r.renameMs).toFixed(1)}×`],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const c of cells) console.log(line(c));
};

const printVerdicts = (rows, stores) => {
  console.log(
    `\ngoal: the rename time does not grow with the documents (median at the largest size ≤ ${FLAT_FACTOR}× the one at 0, or within ${FLAT_SLACK_MS} ms of it)`,
  );
  for (const store of stores) {
    const mine = rows.filter((r) => r.store === store && !r.skipped);
    const empty = mine.find((r) => r.n === 0);
    const largest = mine.at(-1);
    if (!empty || !largest || largest.n === 0) {
      console.log(`  ${store}: not judged (too few sizes measured)`);
      continue;
    }
    const flat = largest.renameMs <= Math.max(empty.renameMs * FLAT_FACTOR, empty.renameMs + FLAT_SLACK_MS);
    const partial = largest.n === SIZES.at(-1) ? "" : ` (only up to ${largest.n.toLocaleString("en-US")} documents)`;
    console.log(
      `  ${store}: ${empty.renameMs.toFixed(1)} ms at 0, ${largest.renameMs.toFixed(1)} ms at ${largest.n.toLocaleString("en-US")}: ${flat ? "flat" : "NOT flat"}${partial}; copy-then-drop took ${largest.copyMs.toFixed(0)} ms there`,
    );
  }
};

const main = async () => {
  const began = Date.now();
  console.log(
    `bench:rename: ${quick ? "quick" : "full"} run, sizes ${SIZES.map((n) => n.toLocaleString("en-US")).join(", ")}, ${RENAMES} renames each, load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores`,
  );
  const reason = gatewayUnavailable();
  const stores = [
    { label: "embedded (Durable Object)", start: startStoreWorker },
    { label: "gateway + FerretDB", start: startGatewayStore, unavailable: reason },
  ];
  // Both start together (starting is most of a quick run); each is measured alone and stopped after.
  const started = await Promise.all(
    stores.map((s) => (s.unavailable ? { error: s.unavailable } : s.start().catch((error) => ({ error: `failed to start: ${error.message.split("\n")[0]}` })))),
  );
  console.log(`bench:rename: stores ready after ${((Date.now() - began) / 1000).toFixed(0)} s`);
  const rows = [];
  const measured = [];
  for (const [i, store] of stores.entries()) {
    const handle = started[i];
    if (handle.error) {
      console.log(`${store.label === "gateway + FerretDB" ? "gateway" : store.label}: not available (${handle.error})`);
      continue;
    }
    rows.push(...(await measureStore(store.label, handle)));
    measured.push(store.label);
    await handle.stop();
  }
  await stopAll();
  printTable(rows);
  printVerdicts(rows, measured);
  console.log(`\nbench:rename: finished in ${((Date.now() - began) / 1000).toFixed(0)} s, load average ${loadavg()[0].toFixed(2)}`);
};

main().catch(async (error) => {
  console.error(error instanceof Error ? error.message : error);
  await stopAll();
  process.exit(1);
});
