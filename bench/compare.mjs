// `npm run bench:compare [-- --base <rev>] [-- --endpoints get,page,...] [-- --rounds 7]`: one
// change measured back to back. The Worker at `<rev>` (default: main) and the working tree's are
// built as `wrangler deploy` builds them and served side by side under workerd (the bench's
// production-like mode), each seeded alike; then each endpoint is driven on one and on the other
// in alternating rounds, so the machine's load falls on both. Prints the CPU per request of each
// (every process of its server, from /proc), the medians' ratio, and requests per second.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { buildWorker } from "./bundle.mjs";
import { groupCpuMs } from "./cpu.mjs";
import { measure } from "./load.mjs";
import { argument, ENDPOINTS, prepareEndpoint } from "./one-endpoint.mjs";
import { ROOT, startProduction, stopEverything, throwaway } from "./processes.mjs";
import { median } from "./report.mjs";

const base = argument("--base", "main");
const endpoints = argument("--endpoints", "get,page,records,login").split(",");
const rounds = Number(argument("--rounds", "7"));
const seconds = Number(argument("--seconds", "2"));
for (const endpoint of endpoints) if (!ENDPOINTS.includes(endpoint)) throw new Error(`unknown endpoint ${endpoint}: ${ENDPOINTS.join(", ")}`);

const scratch = throwaway("oms-compare-");

/** The tree at `rev`, unpacked beside this one with this one's dependencies. */
const checkout = (rev) => {
  const dir = join(scratch, "base");
  execFileSync("bash", ["-c", `mkdir -p "${dir}" && git archive "${rev}" | tar -x -C "${dir}"`], { cwd: ROOT });
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  // The static files the build uploads beside the Worker are made, not committed.
  execFileSync(process.execPath, [join(dir, "scripts", "docs-assets.mjs")], { cwd: dir, stdio: "ignore" });
  return dir;
};

const main = async () => {
  const baseRoot = checkout(base);
  const sides = [
    { label: base, root: baseRoot },
    { label: "working tree", root: ROOT },
  ];
  const secret = randomBytes(32).toString("hex");
  await Promise.all(
    sides.map(async (side) => {
      side.outdir = join(scratch, side === sides[0] ? "base-build" : "head-build");
      await buildWorker(side.root, side.outdir);
      const script = join(side.outdir, "index.js");
      side.server = await startProduction(`the Worker at ${side.label}`, join(side.root, "wrangler.toml"), script, { JWT_SECRET: secret }, "/health");
    }),
  );
  console.log(`compare: ${base} against the working tree, ${rounds} alternating rounds of ${seconds} s per endpoint`);
  for (const endpoint of endpoints) {
    for (const side of sides) side.load = await prepareEndpoint(side.server.origin, endpoint);
    const figures = sides.map(() => ({ cpu: [], rps: [] }));
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, so neither always runs right after the other's load.
      const order = round % 2 ? [1, 0] : [0, 1];
      for (const i of order) {
        const { server, load } = sides[i];
        const cpu = () => groupCpuMs(server.groups);
        const result = await measure({ origin: server.origin, connections: load.connections, duration: seconds, warmup: 0.5, next: load.next, cpu });
        if (result.failures) throw new Error(`${endpoint} at ${sides[i].label}: ${result.failures} failed requests`);
        figures[i].cpu.push(result.cpuMs);
        figures[i].rps.push(result.rps);
      }
    }
    const [a, b] = figures.map((f) => ({ cpu: median(f.cpu), rps: median(f.rps), low: Math.min(...f.cpu), high: Math.max(...f.cpu) }));
    const show = (f) => `${f.cpu.toFixed(2)} ms CPU (${f.low.toFixed(2)}–${f.high.toFixed(2)}), ${f.rps.toFixed(0)} req/s`;
    console.log(`  ${endpoint.padEnd(9)} ${base}: ${show(a)}   working tree: ${show(b)}   CPU ${(b.cpu / a.cpu).toFixed(2)}×`);
  }
};

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => stopEverything());
