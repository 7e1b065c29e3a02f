// The embedded store's ceiling: one database is one Durable Object, which runs one action at a
// time, so its actions per second bound everything the organizations of that database do. The
// service's Durable Object (bench/store-worker.ts, a Worker that only forwards Data API requests to
// it) is built as wrangler would build it and run under workerd like the service, then driven
// with each kind of action the service sends.
import { join } from "node:path";
import { build } from "esbuild";
import { inParallel, measure, postJson } from "./load.mjs";
import { ROOT, startProduction, throwaway } from "./processes.mjs";

const NS = { dataSource: "bench", database: "bench", collection: "ceiling" };
const SEEDED = 1000;

/** bench/store-worker.ts bundled for workerd (wrangler's resolve conditions), into a throwaway folder. */
const buildStoreWorker = async () => {
  const outfile = join(throwaway("oms-bench-store-"), "store-worker.js");
  await build({
    entryPoints: [join(ROOT, "bench", "store-worker.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    minify: true,
    keepNames: true,
    outfile,
    logLevel: "silent",
  });
  return outfile;
};

export const startStoreCeiling = async () => {
  const script = await buildStoreWorker();
  const listed = (origin) => async () => (await postJson(origin, "/action/listCollections", { ...NS, filter: {} }).catch(() => undefined)) && true;
  return startProduction("the store Worker (workerd)", join(ROOT, "bench", "store-wrangler.toml"), script, {}, listed);
};

/**
 * Seeds one collection (a unique index on `k`, as the service's organizations have on their
 * names), then returns `round(cpu)`: each action kind at 10 connections.
 */
export const prepareStoreCeiling = async (origin, plan) => {
  const action = (name, body) => postJson(origin, `/action/${name}`, { ...NS, ...body });
  await action("createIndexes", { indexes: [{ key: { k: 1 }, name: "k_unique", unique: true }] });
  const batches = Array.from({ length: SEEDED / 100 }, (_, b) => b);
  await inParallel(batches, 2, (b) =>
    action("insertMany", { documents: Array.from({ length: 100 }, (_, i) => ({ _id: b * 100 + i, k: `key-${b * 100 + i}`, status: "active", n: 0 })) }),
  );
  let next = 0;
  const some = () => next++ % SEEDED;
  const kinds = {
    "findOne by _id": () => ({ filter: { _id: some() } }),
    "findOne by unique key": () => ({ filter: { k: `key-${some()}` } }),
    // As the records page reads: a filter no index answers, sorted by _id, one more than a page.
    "find 51 of 1,000, sorted": () => ({ filter: { status: "active" }, sort: { _id: 1 }, limit: 51 }),
    insertOne: () => ({ document: { k: `new-${Date.now()}-${next++}`, status: "new", n: 0 } }),
    "updateOne $set": () => ({ filter: { _id: some() }, update: { $set: { n: next++ } } }),
    "findOneAndUpdate $set": () => ({ filter: { _id: some(), status: "active" }, update: { $set: { n: next++ } }, returnNewDocument: true }),
  };
  const actionOf = { "findOne by _id": "findOne", "findOne by unique key": "findOne", "find 51 of 1,000, sorted": "find" };
  const round = async (cpu) => {
    const results = {};
    for (const [kind, body] of Object.entries(kinds)) {
      const name = actionOf[kind] ?? kind.split(" ")[0];
      results[kind] = await measure({
        origin,
        cpu,
        connections: 10,
        duration: plan.duration,
        warmup: plan.warmup,
        next: () => ({ method: "POST", path: `/action/${name}`, body: { ...NS, ...body() } }),
      });
    }
    return results;
  };
  return { round };
};
