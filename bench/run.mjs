// `npm run bench [-- --quick]`: measures the service on this machine and prints one table, the
// bare-Worker ceiling beside it, and the goals: GET /org/get ≥ half the ceiling, login within 10%
// of one raw PBKDF2 derivation, the bundle ≤ 110 KiB gzipped and its module evaluated in ≤ 40 ms.
// Everything runs on loopback and every load is bounded in time or count; the processes it starts
// are stopped before it exits.
import { cpus, loadavg } from "node:os";
import { bundleSize } from "./bundle.mjs";
import { groupCpuMs } from "./cpu.mjs";
import { gatewayUnavailable, startBare, startGateway, startService, stopEverything } from "./processes.mjs";
import { printGoals, printTable } from "./report.mjs";
import { measureBare, measureService } from "./scenarios.mjs";

const quick = process.argv.includes("--quick");
// --quick stays within a minute on 2 cores; the full run gives steadier percentiles.
// `records`: how many the page-read organization holds (more than one page; a few pages in a full run).
const plan = quick ? { duration: 1.5, warmup: 0.5, count: 10, records: 60 } : { duration: 10, warmup: 2, count: 40, records: 300 };

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stopEverything().then(() => process.exit(130)));

const main = async () => {
  const began = Date.now();
  console.log(`bench: ${quick ? "quick" : "full"} run, ${plan.duration} s per endpoint after ${plan.warmup} s warm-up, ${plan.count} updates and deletes`);
  // The figures are only as good as the machine was idle: its load is printed with them.
  const load = () => `load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores`;
  console.log(`bench: ${load()} at start`);
  // Everything starts together (the bundle build, both Workers, the gateway's stack): starting
  // is most of a quick run. Nothing is measured until all are ready, and each server is stopped
  // once measured, so idle servers are all that shares the cores with a measurement.
  const bundle = bundleSize().catch((error) => ({ error }));
  const reason = gatewayUnavailable();
  const startViaGateway = async () => {
    const gateway = await startGateway();
    const service = await startService("the service (gateway)", { DATA_API_URL: gateway.url, DATA_API_KEY: gateway.key }, "/ready");
    return { origin: service.origin, groups: [...service.groups, ...gateway.groups], stop: () => Promise.all([service.stop(), gateway.stop()]) };
  };
  const [bare, embedded, viaGateway, size] = await Promise.all([
    startBare(),
    startService("the service (embedded store)"),
    // A gateway that will not start (FerretDB or the gateway build broken) costs its rows, not the run.
    reason ? { error: reason } : startViaGateway().catch((error) => ({ error: `failed to start: ${error.message.split("\n")[0]}` })),
    bundle,
  ]);

  const seconds = () => `${((Date.now() - began) / 1000).toFixed(0)} s`;
  console.log(`bench: servers ready after ${seconds()}`);
  const rows = [];
  const record = (target, results) => {
    for (const [endpoint, result] of Object.entries(results)) rows.push({ target, endpoint, ...result });
  };
  record("bare Worker", await measureBare(bare.origin, plan, () => groupCpuMs(bare.groups)));
  await bare.stop();
  console.log(`bench: bare Worker measured after ${seconds()}`);
  record("embedded store", await measureService(embedded.origin, plan, () => groupCpuMs(embedded.groups)));
  await embedded.stop();
  console.log(`bench: embedded store measured after ${seconds()}`);
  if (!viaGateway.error) record("gateway + FerretDB", await measureService(viaGateway.origin, plan, () => groupCpuMs(viaGateway.groups)));
  await stopEverything();
  // With every server stopped, so that the start time is the module's and not the machine's load.
  if (size.measureStart) size.start = await size.measureStart().catch((error) => ({ error }));

  printTable(rows);
  if (viaGateway.error) console.log(`\ngateway: not available (${viaGateway.error})`);
  printGoals(rows, size);
  console.log(`\nbench: finished in ${seconds()}, ${load()}`);
};

main().catch(async (error) => {
  console.error(error instanceof Error ? error.message : error);
  await stopEverything();
  process.exit(1);
});
