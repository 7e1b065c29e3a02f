// `npm run bench:platform [-- --quick]`: the cost of one page of the platform operator's listing
// (GET /platform/organizations) with 10,000 and 100,000 organizations (--quick: 1,000 and 10,000),
// seeded straight into the store (no PBKDF2-cost creates). Not a test: it prints figures, and
// checks that every page it times holds what it asked for.
//
// The embedded store is driven with the Data API through the bench store Worker (bench/store-worker.ts),
// with the query the listing sends (src/domain/platform/, pageQuery; mirrored below, as this
// script runs in Node without the Worker's bundler); the gateway on FerretDB, when it can run here,
// through the service itself (wrangler dev), so its figures include the Worker and its round trips.
// Beside each page, the same page in an order no index has (organization_name) shows what a
// page costs when the store must read and sort every organization.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ObjectId } from "bson";
import { ORGANIZATION_INDEXES } from "../src/domain/kernel/model.ts";
import { median, dataApi as storeApi } from "./data-api.mjs";

// FerretDB 1.24 sorts a page in memory over the whole collection: at 100,000 organizations one
// page outlasts the gateway's default 8 s operation deadline. The gateway started here gets two
// minutes and the service its longest store deadline, so the cost is measured rather than cut off.
process.env.GATEWAY_OPERATION_TIMEOUT_MS ??= "120000";
const { freePort, gatewayUnavailable, ROOT, spawnGroup, startGateway, startService, stopEverything, throwaway } = await import("./processes.mjs");
const { waitFor } = await import("../scripts/processes.ts");

// --quick: 1,000 and 10,000; --sizes=a,b: those sizes; --runs=n: timed runs per page (median);
// --only=embedded|gateway: one store.
const { values: options } = parseArgs({
  options: { quick: { type: "boolean" }, sizes: { type: "string" }, runs: { type: "string" }, only: { type: "string" } },
});
const quick = options.quick === true;
const SIZES = options.sizes ? options.sizes.split(",").map(Number) : quick ? [1_000, 10_000] : [10_000, 100_000];
const BATCH = 5_000;
const RUNS = Number(options.runs) || (quick ? 5 : 9);
const LIMIT = 50;
const CALL_TIMEOUT_MS = 300_000;
const DATABASE = "master_db";
const KEY = `bench-${crypto.randomUUID().replaceAll("-", "")}`;

const fmt = (n) => n.toLocaleString("en-US");

const dataApi = (base, key) => storeApi(base, key, { database: DATABASE, timeoutMs: CALL_TIMEOUT_MS });

/** Organizations as the service stores them; one in a hundred suspended, creation times a second apart. */
const organizations = (start, end) =>
  Array.from({ length: end - start }, (_, k) => {
    const i = start + k;
    const slug = `bench_org_${String(i).padStart(6, "0")}`;
    const at = new Date(Date.UTC(2025, 0, 1) + i * 1000);
    const owner = new ObjectId();
    return {
      _id: new ObjectId(),
      organization_name: `Bench Org ${i}`,
      slug,
      collection_name: `org_${slug}`,
      status: "active",
      created_at: at,
      updated_at: at,
      members: {
        [owner.toHexString()]: {
          user_id: owner,
          email: `${slug}@example.com`,
          email_key: `${slug}@example.com`,
          role: "owner",
          token_version: 0,
          joined_at: at,
        },
      },
      owner_count: 1,
      ...(i % 100 === 7 ? { suspended: true, suspension: { at, reason: "bench", by_key_id: "bench" } } : {}),
    };
  });

const seed = async (call, from, to) => {
  for (let start = from; start < to; start += BATCH)
    await call("insertMany", "organizations", { documents: organizations(start, Math.min(to, start + BATCH)) });
};

/** The listing's query (pageQuery in src/domain/platform/) for the pages timed here. */
const PAGES = [
  { label: "name, first page", query: "sort=name", filter: {}, sort: { slug: 1 } },
  {
    label: "name, from the middle",
    query: (n) => `sort=name&cursor=${cursorAfter("name", slugOf(n / 2))}`,
    filter: (n) => ({ slug: { $gt: slugOf(n / 2) } }),
    sort: { slug: 1 },
  },
  { label: "-created_at, first page", query: "sort=-created_at", filter: {}, sort: { created_at: -1, _id: -1 } },
  { label: "status=suspended", query: "status=suspended", filter: { suspended: true }, sort: { slug: 1 } },
  { label: "status=active", query: "status=active", filter: { status: "active", suspended: { $ne: true } }, sort: { slug: 1 } },
  { label: "query=bench_org_0012", query: "query=bench_org_0012", filter: { slug: { $gte: "bench_org_0012", $lt: "bench_org_0012{" } }, sort: { slug: 1 } },
];
const UNINDEXED = { label: "no index has the order (organization_name)", filter: {}, sort: { organization_name: 1 } };

const slugOf = (i) => `bench_org_${String(Math.floor(i)).padStart(6, "0")}`;
/** A cursor as the service writes it (encodePlatformCursor): the id does not matter in name order. */
const cursorAfter = (sort, slug) =>
  Buffer.from(JSON.stringify({ s: sort, k: slug, i: "0".repeat(24) }))
    .toString("base64")
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
const resolve = (value, n) => (typeof value === "function" ? value(n) : value);

const timeFind = async (call, page, n) => {
  const times = [];
  let docs = [];
  for (let r = 0; r < RUNS; r++) {
    const began = performance.now();
    docs = (
      await call("find", "organizations", {
        filter: resolve(page.filter, n),
        sort: page.sort,
        limit: LIMIT + 1,
        projection: { write_leases: 0, members: 0, departures: 0, pending: 0, suspension: 0 },
      })
    ).documents;
    times.push(performance.now() - began);
  }
  if (docs.length === 0) throw new Error(`${page.label}: an empty page`);
  return { ms: median(times), returned: Math.min(LIMIT, docs.length) };
};

const timeWorker = async (origin, page, n) => {
  const times = [];
  let trips = 0;
  let body;
  for (let r = 0; r < RUNS; r++) {
    const began = performance.now();
    const res = await fetch(`${origin}/platform/organizations?limit=${LIMIT}&${resolve(page.query, n)}`, {
      headers: { authorization: `Bearer ${KEY}` },
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    body = await res.json();
    times.push(performance.now() - began);
    if (res.status !== 200) throw new Error(`${page.label}: ${res.status} ${JSON.stringify(body)}`);
    trips = Number(res.headers.get("x-data-round-trips"));
  }
  if (body.organizations.length === 0) throw new Error(`${page.label}: an empty page`);
  return { ms: median(times), trips, returned: body.organizations.length };
};

const rows = [];
const record = (store, n, label, path, figures) => {
  rows.push({ store, n, label, path, ...figures });
  console.log(`  ${store} ${fmt(n)}: ${label} [${path}] ${figures.ms.toFixed(1)} ms${figures.trips ? `, ${figures.trips} round trip(s)` : ""}`);
};

const measure = async (store, call, origin) => {
  let seeded = 0;
  for (const n of SIZES) {
    const began = performance.now();
    await seed(call, seeded, n);
    seeded = n;
    console.log(`${store}: ${fmt(n)} organizations (seeded in ${((performance.now() - began) / 1000).toFixed(1)} s)`);
    for (const page of PAGES) {
      record(store, n, page.label, "store find", await timeFind(call, page, n));
      if (origin) record(store, n, page.label, "through the Worker", await timeWorker(origin, page, n));
    }
    record(store, n, UNINDEXED.label, "store find", await timeFind(call, UNINDEXED, n));
  }
};

const startStoreWorker = async () => {
  const port = await freePort();
  const wrangler = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
  const args = [wrangler, "dev", "--config", join(ROOT, "bench", "store-wrangler.toml"), "--ip", "127.0.0.1", "--port", String(port)];
  args.push("--inspector-port", String(await freePort()), "--persist-to", throwaway("oms-bench-platform-"), "--log-level", "warn");
  const proc = spawnGroup(process.execPath, args);
  const call = dataApi(`http://127.0.0.1:${port}`);
  await waitFor("the bench store Worker", () => call("listCollections"), proc, 90_000, 250);
  return { call, stop: proc.stop };
};

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stopEverything().then(() => process.exit(130)));

try {
  if (options.only !== "gateway") {
    const embedded = await startStoreWorker();
    await embedded.call("createIndexes", "organizations", { indexes: ORGANIZATION_INDEXES });
    await measure("embedded", embedded.call);
    await embedded.stop();
  }

  const why = options.only === "embedded" ? "--only=embedded" : gatewayUnavailable();
  if (why) console.log(`gateway + FerretDB: not measured (${why})`);
  else {
    const gateway = await startGateway();
    const service = await startService("the service on the gateway", {
      DATA_API_URL: gateway.url,
      DATA_API_KEY: gateway.key,
      PLATFORM_API_KEYS: `bench:read:${KEY}`,
      DATA_API_TIMEOUT_MS: "60000",
    });
    // The first request creates the master database's indexes, before anything is seeded.
    const stats = await fetch(`${service.origin}/platform/stats`, { headers: { authorization: `Bearer ${KEY}` } });
    if (stats.status !== 200) throw new Error(`stats: ${stats.status} ${await stats.text()}`);
    await measure("gateway + FerretDB", dataApi(gateway.url, gateway.key), service.origin);
  }

  console.log("\n| store | organizations | page | path | median ms | round trips |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const r of rows) console.log(`| ${r.store} | ${fmt(r.n)} | ${r.label} | ${r.path} | ${r.ms.toFixed(1)} | ${r.trips ?? "–"} |`);
} finally {
  await stopEverything();
}
