// `npm run bundle:report`: what the Worker bundle is made of and what it costs an isolate to
// start. Builds it as `wrangler deploy` would (scripts/deploy-dry-run.ts), prints each
// dependency's share of the minified bytes (from the metafile of scripts/build-worker.mjs), and
// times the module's evaluation in fresh Node processes. The benchmark (bench/bundle.mjs) prints the same start time.
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { WORKER_OUT } from "./build-worker.mjs";
import { BUDGET_GZIP_KIB, dryRun } from "./deploy-dry-run.ts";

/** The part of esbuild's metafile read here: the bytes each input contributes to each output. */
interface Metafile {
  outputs: Record<string, { bytes: number; inputs: Record<string, { bytesInOutput: number }> }>;
}

export interface Share {
  /** An npm package, or `(the service)` for the project's own files, `(bundler)` for esbuild's helpers. */
  name: string;
  bytes: number;
  /** The package's own folders that weigh most (e.g. zod's `v4/locales`), biggest first. */
  parts: { name: string; bytes: number }[];
}

// The folder below a package root that says which part of it an input belongs to: zod's
// `v4/core` or `v4/locales`, mingo's `esm/operators/expression`.
const PART_DEPTH = 3;

const packageOf = (input: string): { name: string; part: string } => {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(input);
  if (!match) return { name: input.startsWith("src/") ? "(the service)" : "(bundler)", part: "" };
  const [, name = "", rest = ""] = match;
  return { name, part: rest.split("/").slice(0, -1).slice(0, PART_DEPTH).join("/") || "." };
};

/** Each package's bytes in the Worker's main module, biggest first. */
export const sharesOf = (metafile: Metafile, output = "index.js"): Share[] => {
  const main = Object.entries(metafile.outputs).find(([path]) => path.endsWith(`/${output}`) || path === output)?.[1];
  if (!main) throw new Error(`no ${output} in the metafile`);
  const byName = new Map<string, Map<string, number>>();
  for (const [input, { bytesInOutput }] of Object.entries(main.inputs)) {
    const { name, part } = packageOf(input);
    const parts = byName.get(name) ?? new Map<string, number>();
    parts.set(part, (parts.get(part) ?? 0) + bytesInOutput);
    byName.set(name, parts);
  }
  const biggestFirst = <T extends { bytes: number }>(list: T[]) => list.sort((a, b) => b.bytes - a.bytes);
  return biggestFirst(
    [...byName].map(([name, parts]) => ({
      name,
      bytes: [...parts.values()].reduce((sum, bytes) => sum + bytes, 0),
      parts: biggestFirst([...parts].map(([part, bytes]) => ({ name: part, bytes }))),
    })),
  );
};

// Workers has no Node stand-in for its built-in modules: the bundle imports `cloudflare:workers`
// for the Durable Object base class and `cloudflare:sockets` for SMTP, which Node cannot resolve. A
// stub with the same exports lets Node evaluate everything else exactly as built.
const CLOUDFLARE_STUB = `export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }
export class WorkerEntrypoint { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }
export class WorkflowEntrypoint { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }
export class RpcTarget {}
export const env = {};
export const connect = () => { throw new Error("no sockets where the bundle is measured"); };
`;

// One fresh process per sample: a second import in the same process would be served from the
// module cache. Node's compile cache stays off so that every sample parses and compiles anew,
// as an isolate starting the Worker does. Node loads some web globals (Web Crypto, streams,
// fetch's classes) on first touch, which cost several milliseconds the first time bson or jose
// reach them; workerd has them built in, so they are touched before the clock starts. bson also
// asks Node for its `v8` module (to reseed ObjectIds after a startup snapshot), which Node loads
// from scratch at the bundle's first line of bson; workerd has no `process` without the
// nodejs_compat flag, which this Worker does not set, so that load is Node's alone: done first too.
const CHILD = [
  "void [crypto.subtle, TextEncoder, TextDecoder, ReadableStream, WritableStream, TransformStream, Request, Response, Headers, URL, structuredClone];",
  'process.getBuiltinModule("v8");',
  "const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t));",
].join("\n");

const run = promisify(execFile);

/** The bundle beside itself, importing the stub instead of `cloudflare:*`; answers its path. */
const runnableInNode = (bundle: string): string => {
  const runnable = join(dirname(bundle), "start-measured.mjs");
  writeFileSync(join(dirname(bundle), "cloudflare-stub.mjs"), CLOUDFLARE_STUB);
  writeFileSync(runnable, readFileSync(bundle, "utf8").replace(/(from\s*)"cloudflare:[\w-]+"/g, '$1"./cloudflare-stub.mjs"'));
  return runnable;
};

// zod calls its global config's `postProcessor` once for every schema (and check) it constructs.
// After the import, one request to `GET /health` (which reads no data and writes no audit entry;
// the settings it checks need a signing key, a placeholder here) builds the settings' schema and
// its answer's: the count of that shows the count reaches the bundle's zod.
const COUNT_SCHEMAS = [
  "let built = 0;",
  "globalThis.__zod_globalConfig = { postProcessor: () => { built++; } };",
  "const { default: worker } = await import(process.argv[1]);",
  "const atStart = built;",
  "const log = console.log; console.log = () => {};",
  'const answer = await worker.fetch(new Request("https://oms.example/health"), { JWT_SECRET: "placeholder-signing-key-of-32-characters" }, { waitUntil: () => {}, passThroughOnException: () => {} });',
  "console.log = log;",
  "process.stdout.write(JSON.stringify({ atStart, firstRequest: built - atStart, status: answer.status }));",
].join("\n");

/** What `schemasBuilt` counts: zod schemas and checks built by the import, then by a first `GET /health`. */
export interface SchemasBuilt {
  atStart: number;
  firstRequest: number;
  /** The status `GET /health` answered. */
  status: number;
}

/**
 * How many zod schemas and checks the module builds while it is imported, and then for its first
 * request: building schemas was once the largest part of its evaluation, and every one is now
 * built on first use (`z.lazy`, src/zod.ts). Counted exactly where a time would depend on the
 * machine's load.
 */
export const schemasBuilt = async (bundle: string): Promise<SchemasBuilt> => {
  const { stdout } = await run(process.execPath, ["--input-type=module", "--eval", COUNT_SCHEMAS, runnableInNode(bundle)], { timeout: 60_000 });
  return JSON.parse(stdout) as SchemasBuilt;
};

/** Start times in milliseconds: the fastest is the figure judged, the median is shown beside it. */
export interface StartTimes {
  fastestMs: number;
  medianMs: number;
  samplesMs: number[];
  node: string;
}

export const startTimes = (samplesMs: number[]): StartTimes => {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return { fastestMs: sorted[0] ?? Number.NaN, medianMs: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN, samplesMs, node: process.version };
};

/**
 * Milliseconds to import the built module (read, parse, compile and run its top level) in each of
 * `samples` fresh Node processes: a stand-in for the time an isolate spends before its first
 * request. Rewrites the bundle beside itself to import the stub instead of `cloudflare:*`.
 *
 * The figure judged is the fastest process. The import is the same work every time, and the
 * machine only ever adds to it: this 2-core virtual machine runs every process about 45% slower
 * for spells of tens of seconds at a time (after a load of its own, and also when idle), its CPU
 * time then as long as its wall time. A median measured whichever spell it fell in
 * (docs/benchmarks.md, "Module evaluation: the fastest process").
 */
export const measureStart = async (bundle: string, samples = 9): Promise<StartTimes> => {
  const runnable = runnableInNode(bundle);
  const { NODE_COMPILE_CACHE: _cache, ...inherited } = process.env;
  const env = { ...inherited, NODE_DISABLE_COMPILE_CACHE: "1" };
  const samplesMs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const { stdout } = await run(process.execPath, ["--input-type=module", "--eval", CHILD, runnable], { env, timeout: 60_000 });
    samplesMs.push(Number(stdout));
  }
  return startTimes(samplesMs);
};

/** The start-time goal (issue 33): module evaluation as measured above, on this machine. */
export const BUDGET_START_MS = 25;

const kib = (bytes: number) => (bytes / 1024).toFixed(1);

const printShares = (shares: Share[]) => {
  const total = shares.reduce((sum, s) => sum + s.bytes, 0);
  const percent = (bytes: number) => `${((100 * bytes) / total).toFixed(1)}%`;
  console.log(`\nshare of the main module as esbuild bundled it, before its arrows were rewritten (${kib(total)} KiB before gzip), by package:`);
  for (const share of shares) {
    const parts =
      share.parts.length > 1
        ? `   (${share.parts
            .slice(0, 3)
            .map((p) => `${p.name} ${percent(p.bytes)}`)
            .join(", ")})`
        : "";
    console.log(`  ${share.name.padEnd(22)} ${kib(share.bytes).padStart(7)} KiB ${percent(share.bytes).padStart(6)}${parts}`);
  }
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = await dryRun({
    inspect: async (outdir) => ({
      // The shares of the module wrangler bundles (scripts/build-worker.mjs's metafile): wrangler's
      // own sees that one file only.
      shares: sharesOf(JSON.parse(readFileSync(`${WORKER_OUT}.meta.json`, "utf8")) as Metafile),
      start: await measureStart(join(outdir, "index.js")),
      schemas: await schemasBuilt(join(outdir, "index.js")),
    }),
  });
  if (!report.inspected) {
    console.error(`the bundle did not build:\n- ${report.failures.join("\n- ")}\n${report.output}`);
    process.exit(1);
  }
  const { shares, start, schemas } = report.inspected;
  console.log(`bundle: ${report.rawKiB} KiB, ${report.gzipKiB} KiB gzipped (budget ${BUDGET_GZIP_KIB} KiB)`);
  printShares(shares);
  console.log(
    `\nmodule evaluation (Node ${start.node}, the fastest of ${start.samplesMs.length} fresh processes): ${start.fastestMs.toFixed(1)} ms, median ${start.medianMs.toFixed(1)} ms ` +
      `(samples ${start.samplesMs.map((ms) => ms.toFixed(0)).join(", ")}; goal ≤ ${BUDGET_START_MS} ms: ${start.fastestMs <= BUDGET_START_MS ? "met" : "NOT met"})`,
  );
  console.log(`zod schemas built at start: ${schemas.atStart} (budget 0); by a first GET /health: ${schemas.firstRequest}`);
  if (report.failures.length > 0) {
    console.error(`\nthe deploy check would fail:\n- ${report.failures.join("\n- ")}`);
    process.exit(1);
  }
}
