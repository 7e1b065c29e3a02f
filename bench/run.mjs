// `npm run bench [-- --quick] [-- --save-baseline]`: measures the service on this machine in three
// modes, `wrangler dev` (what `npm start` runs), the same build under workerd as production runs
// it (bench/workerd.mjs), and `npm run serve` (the self-hosted server: that build on the workerd
// binary, scripts/serve.ts), the first two beside a bare Worker that does only the unavoidable
// work of each endpoint (its ceiling). Every target is measured in several rounds, in turn, so that a
// change in the machine's load falls on all of them; the report gives medians and the spread,
// each endpoint's ratio to its ceiling, its CPU split by part, and every goal with PASS or FAIL.
// Everything runs on loopback and every load is bounded in time or count; the processes it starts
// are stopped before it exits.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { answers, waitFor } from "../scripts/processes.ts";
import { bundleSize } from "./bundle.mjs";
import { groupCpuMs } from "./cpu.mjs";
import {
  freePort,
  gatewayUnavailable,
  QUIET_ENV,
  ROOT,
  spawnGroup,
  startBare,
  startGateway,
  startProduction,
  startService,
  stopEverything,
  throwaway,
} from "./processes.mjs";
import { printProfile, profileEndpoints } from "./profile.mjs";
import { BASELINE_FILE, DEV, PRODUCTION, printBreakdowns, printGoals, printTable, SERVE, STORE_CEILING, summarise } from "./report.mjs";
import { measureBare, prepareService } from "./scenarios.mjs";
import { prepareStoreCeiling, startStoreCeiling } from "./store-ceiling.mjs";

const quick = process.argv.includes("--quick");
const saveBaseline = process.argv.includes("--save-baseline");
// `--workerd-only`: the workerd modes alone (the production-like one and `npm run serve`), embedded
// store alone: a short check of one change.
const workerdOnly = process.argv.includes("--workerd-only");
// --quick stays within a few minutes on 2 cores; the full run gives steadier medians.
// `records`: how many the page-read organization holds (more than one page; a few pages in a full run).
// `orgs`: organizations written to at once by the scale row.
const plan = quick
  ? { rounds: 3, duration: 1, warmup: 0.5, count: 6, records: 60, orgs: 8, profileSeconds: 3 }
  : { rounds: 5, duration: 4, warmup: 1, count: 12, records: 300, orgs: 32, profileSeconds: 8 };

/**
 * The service as `npm run serve` runs it (scripts/serve.ts, no build: the bench's bundle), on a
 * free port with a throwaway state folder. `--trust-proxy`: the load generator stands for the
 * proxy in front, whose cf-connecting-ip spreads the measured logins over many addresses.
 */
const startServe = async (built, secret) => {
  const port = await freePort();
  const args = ["--no-build", "--outdir", built, "--port", String(port), "--persist", throwaway("oms-bench-serve-"), "--trust-proxy"];
  const proc = spawnGroup(process.execPath, [join(ROOT, "scripts", "serve.ts"), ...args], { ...QUIET_ENV, JWT_SECRET: secret });
  const origin = `http://127.0.0.1:${port}`;
  await waitFor("the service (npm run serve)", answers(`${origin}/health`), proc, 90_000);
  return { origin, stop: proc.stop, groups: [proc.group] };
};

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stopEverything().then(() => process.exit(130)));

const main = async () => {
  const began = Date.now();
  console.log(
    `bench: ${quick ? "quick" : "full"} run, ${plan.rounds} rounds of ${plan.duration} s per endpoint after ${plan.warmup} s warm-up, ${plan.count} updates and deletes per round`,
  );
  // The figures are only as good as the machine was idle: its load is printed with them.
  const load = () => `load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores`;
  console.log(`bench: ${load()} at start`);
  const seconds = () => `${((Date.now() - began) / 1000).toFixed(0)} s`;

  // The build comes first: the production-like servers run exactly what `wrangler deploy` uploads.
  const size = await bundleSize();
  const built = join(size.outdir, "index.js");
  // Before any server starts, and again once they have all stopped (below).
  await size.measureStart().catch(() => undefined);
  const secret = randomBytes(32).toString("hex");
  const config = join(ROOT, "wrangler.toml");
  const bareConfig = join(ROOT, "bench", "bare-wrangler.toml");
  const bareScript = join(ROOT, "bench", "bare-worker.js");
  const reason = workerdOnly ? "not asked for (--workerd-only)" : gatewayUnavailable();
  const viaGateway = async () => {
    const gateway = await startGateway();
    const vars = { JWT_SECRET: secret, DATA_API_URL: gateway.url, DATA_API_KEY: gateway.key };
    const service = await startProduction("the service (workerd, gateway)", config, built, vars, "/ready");
    return { origin: service.origin, groups: [...service.groups, ...gateway.groups] };
  };
  // A gateway that will not start (FerretDB or the gateway build broken) costs its rows, not the run.
  const gateway = reason ? { error: reason } : viaGateway().catch((error) => ({ error: `failed to start: ${error.message.split("\n")[0]}` }));
  const [prodBare, prodService, serveService, storeCeiling, devBare, devService] = await Promise.all([
    startProduction("the bare Worker (workerd)", bareConfig, bareScript),
    startProduction("the service (workerd)", config, built, { JWT_SECRET: secret }, "/health"),
    startServe(size.outdir, secret),
    startStoreCeiling(),
    workerdOnly ? undefined : startBare(),
    workerdOnly ? undefined : startService("the service (wrangler dev)"),
  ]);
  const gatewayService = await gateway;
  console.log(`bench: servers ready after ${seconds()}`);

  // Each target: how to measure one round of it. Services are seeded once, before the first round.
  const targets = [
    { mode: PRODUCTION, store: "bare", server: prodBare },
    { mode: PRODUCTION, store: "embedded", server: prodService },
    ...(gatewayService.error ? [] : [{ mode: PRODUCTION, store: "gateway", server: gatewayService }]),
    { mode: PRODUCTION, store: STORE_CEILING, server: storeCeiling },
    { mode: SERVE, store: "embedded", server: serveService },
    ...(workerdOnly
      ? []
      : [
          { mode: DEV, store: "bare", server: devBare },
          { mode: DEV, store: "embedded", server: devService },
        ]),
  ];
  for (const target of targets) {
    const cpu = () => groupCpuMs(target.server.groups);
    if (target.store === "bare") target.round = () => measureBare(target.server.origin, plan, cpu);
    else if (target.store === STORE_CEILING) {
      const { round } = await prepareStoreCeiling(target.server.origin, plan);
      target.round = () => round(cpu);
    } else {
      const { round } = await prepareService(target.server.origin, plan);
      target.round = () => round(cpu);
    }
  }
  console.log(`bench: seeded after ${seconds()}`);

  const samples = [];
  for (let r = 1; r <= plan.rounds; r++) {
    for (const target of targets) {
      const results = await target.round();
      for (const [endpoint, result] of Object.entries(results)) samples.push({ mode: target.mode, store: target.store, endpoint, round: r, ...result });
    }
    console.log(`bench: round ${r} of ${plan.rounds} after ${seconds()}, ${load()}`);
  }
  await stopEverything();
  // Where the CPU goes inside the isolate, by module: V8's sampling profiler on an unminified build
  // of the same code, on a server of its own once the measured ones have stopped (bench/profile.mjs).
  console.log(`bench: profiling GET /org/get and a record page after ${seconds()}`);
  const profiles = await profileEndpoints(["get", "page"], plan.profileSeconds).catch((error) => ({ error }));
  // With every server stopped, so that the start time is the module's and not the machine's load;
  // judged over these samples and the ones taken before the servers started.
  size.start = await size.measureStart().catch((error) => ({ error }));
  size.discard();

  const rows = summarise(samples);
  printTable(rows);
  if (gatewayService.error) console.log(`\ngateway: not available (${gatewayService.error})`);
  printBreakdowns(rows);
  if (profiles.error) console.log(`\nprofile: failed: ${profiles.error.message}`);
  else for (const profile of profiles) printProfile(profile, { modules: 12, functions: quick ? 0 : 15 });
  printGoals(rows, size);
  if (saveBaseline) {
    const cpuMs = {};
    for (const row of rows.filter((r) => r.store !== "bare" && r.store !== STORE_CEILING && r.cpuMs !== undefined)) {
      const target = `${row.mode} · ${row.store}`;
      cpuMs[target] = { ...cpuMs[target], [row.endpoint]: Number(row.cpuMs.toFixed(2)) };
    }
    writeFileSync(BASELINE_FILE, `${JSON.stringify({ measured: new Date().toISOString().slice(0, 10), run: quick ? "quick" : "full", cpuMs }, null, 2)}\n`);
    console.log(`\nbench: CPU per request saved as the baseline in ${BASELINE_FILE}`);
  }
  console.log(`\nbench: finished in ${seconds()}, ${load()}`);
};

main().catch(async (error) => {
  console.error(error instanceof Error ? error.message : error);
  await stopEverything();
  process.exit(1);
});
