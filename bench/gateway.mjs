// `npm run bench:gateway`: findOne by a unique key through the gateway (HTTP, Data API) and
// through the driver directly, on the same FerretDB in the same run, at 16 concurrent clients.
// Goal: the gateway keeps at least 70% of the direct driver's throughput. Not a test: it prints
// figures. Loopback only; every load is bounded in time, the seed in count, and the processes it
// starts are stopped before it exits. Runs under scripts/with-ferretdb.sh (MONGO_URL).
//
// Settings: BENCH_SECONDS (per measurement, default 10), BENCH_ROUNDS (default 2, alternating
// direct and gateway so that drift hits both), BENCH_DOCS (default 1000), BENCH_CLIENTS (16),
// BENCH_FIELD (`_id`, default, or `key`: both are unique). FerretDB's SQLite backend scans the
// collection for every lookup, in SQLite for `_id` and in Go for any other field, so its cost
// grows with BENCH_DOCS and, for `key`, swamps the gateway's; the defaults keep the database's
// share small, so that what is measured is the gateway's own cost.
import { randomBytes } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { MongoClient } from "mongodb";
import { answers, launch, waitFor } from "../scripts/processes.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const setting = (name, fallback, max) => Math.min(max, Math.max(1, Number(process.env[name] ?? fallback) || fallback));
const SECONDS = setting("BENCH_SECONDS", 10, 120);
const ROUNDS = setting("BENCH_ROUNDS", 2, 10);
const DOCS = setting("BENCH_DOCS", 1000, 1_000_000);
const CLIENTS = setting("BENCH_CLIENTS", 16, 256);
const FIELD = process.env.BENCH_FIELD === "key" ? "key" : "_id";
const WARMUP_SECONDS = 2;
const GOAL = 0.7;
const DATABASE = "bench_gateway";
const COLLECTION = "items";

const mongoUrl = process.env.MONGO_URL;
if (!mongoUrl) {
  console.error("bench:gateway: MONGO_URL is unset; run it as `npm run bench:gateway` (which starts FerretDB)");
  process.exit(2);
}

const randomKey = () => `key-${Math.floor(Math.random() * DOCS)}`;

const seed = async (client) => {
  const items = client.db(DATABASE).collection(COLLECTION);
  await items.drop().catch(() => {});
  await items.createIndexes([{ key: { key: 1 }, name: "key_unique", unique: true }]);
  const created = new Date();
  for (let start = 0; start < DOCS; start += 1000) {
    const batch = [];
    for (let i = start; i < Math.min(DOCS, start + 1000); i++)
      batch.push({ _id: `key-${i}`, key: `key-${i}`, n: i, name: `Item ${i}`, tags: ["a", "b"], created });
    await items.insertMany(batch, { ordered: false });
  }
};

/** Starts the built gateway as its own process, as `npm run gateway` would, and waits until it is healthy. */
const startGateway = async (key) => {
  const proc = launch(process.execPath, ["dist/gateway/server.mjs"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", MONGO_URL: mongoUrl, GATEWAY_API_KEY: key, HOST: "127.0.0.1", PORT: "0" },
  });
  const url = await waitFor("the gateway", () => proc.output().match(/"msg":"gateway listening","url":"([^"]+)"/)?.[1], proc, 30_000, 100);
  await waitFor("the gateway's MongoDB", answers(`${url}/health`), proc, 30_000, 100);
  return { url, stop: proc.stop };
};

/** CLIENTS loops, each awaiting one findOne at a time until the time is up. */
const measureDirect = async (items, seconds) => {
  const end = Date.now() + seconds * 1000;
  let done = 0;
  let wrong = 0;
  const loop = async () => {
    while (Date.now() < end) {
      const key = randomKey();
      const doc = await items.findOne({ [FIELD]: key });
      if (doc?.key !== key) wrong++;
      done++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CLIENTS }, loop));
  if (wrong) throw new Error(`direct: ${wrong} answers did not match their key`);
  return done / ((Date.now() - started) / 1000);
};

/** CLIENTS keep-alive connections, one request in flight on each, as the Worker's data client sends it. */
const measureGateway = async (gateway, key, seconds) => {
  const result = await autocannon({
    url: `${gateway.url}/action/findOne`,
    method: "POST",
    connections: CLIENTS,
    pipelining: 1,
    duration: seconds,
    headers: { "content-type": "application/ejson", accept: "application/ejson", apiKey: key },
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ dataSource: "bench", database: DATABASE, collection: COLLECTION, filter: { [FIELD]: randomKey() } }),
        }),
      },
    ],
  });
  if (result.non2xx || result.errors || result.timeouts)
    throw new Error(`gateway: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  return result.requests.total / (result.duration || seconds);
};

/** Autocannon does not read bodies: check once that the gateway answers with the right documents. */
const checkGatewayAnswers = async (gateway, key) => {
  for (let i = 0; i < 50; i++) {
    const wanted = randomKey();
    const res = await fetch(`${gateway.url}/action/findOne`, {
      method: "POST",
      headers: { "content-type": "application/json", apiKey: key },
      body: JSON.stringify({ dataSource: "bench", database: DATABASE, collection: COLLECTION, filter: { [FIELD]: wanted } }),
    });
    const body = await res.json();
    if (res.status !== 200 || body.document?.key !== wanted) throw new Error(`gateway answered ${res.status} ${JSON.stringify(body)} for ${wanted}`);
  }
};

const fmt = (opsPerSecond) => `${Math.round(opsPerSecond).toLocaleString("en-US")} ops/s`;
const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;

const main = async () => {
  console.log(`bench:gateway: findOne by unique ${FIELD}, ${CLIENTS} clients, ${DOCS} documents, ${ROUNDS} x ${SECONDS} s each way`);
  console.log(`bench:gateway: load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores, FerretDB at ${mongoUrl}`);
  const key = randomBytes(32).toString("hex");
  const client = new MongoClient(mongoUrl, { maxPoolSize: CLIENTS, serverSelectionTimeoutMS: 10_000 });
  let gateway;
  try {
    await seed(client);
    gateway = await startGateway(key);
    await checkGatewayAnswers(gateway, key);
    const items = client.db(DATABASE).collection(COLLECTION);
    await measureDirect(items, WARMUP_SECONDS);
    await measureGateway(gateway, key, WARMUP_SECONDS);
    const direct = [];
    const viaGateway = [];
    for (let round = 1; round <= ROUNDS; round++) {
      direct.push(await measureDirect(items, SECONDS));
      viaGateway.push(await measureGateway(gateway, key, SECONDS));
      console.log(`  round ${round}: direct ${fmt(direct.at(-1))}, gateway ${fmt(viaGateway.at(-1))}`);
    }
    const ratio = mean(viaGateway) / mean(direct);
    console.log(`direct driver: ${fmt(mean(direct))}`);
    console.log(`gateway:       ${fmt(mean(viaGateway))}`);
    console.log(`ratio:         ${(ratio * 100).toFixed(1)}% of direct (goal >= ${GOAL * 100}%: ${ratio >= GOAL ? "met" : "NOT met"})`);
  } finally {
    await gateway?.stop();
    await client
      .db(DATABASE)
      .dropDatabase()
      .catch(() => {});
    await client.close();
  }
};

await main();
