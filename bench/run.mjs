// `npm run bench [-- --quick]`: measures the service on this machine and prints one table, the
// bare-Worker ceiling beside it, and the goals: GET /org/get ≥ half the ceiling, login within 10%
// of one raw PBKDF2 derivation, the bundle ≤ 256 KiB gzipped. Everything runs on loopback and
// every load is bounded in time or count; the processes it starts are stopped before it exits.
import { cpus, loadavg } from "node:os";
import { bundleSize } from "./bundle.mjs";
import { gatewayUnavailable, startBare, startGateway, startService, stopEverything } from "./processes.mjs";
import { printGoals, printTable } from "./report.mjs";
import { measureBare, measureService } from "./scenarios.mjs";

const quick = process.argv.includes("--quick");
// --quick stays within a minute on 2 cores; the full run gives steadier percentiles.
const plan = quick ? { duration: 2, warmup: 0.5, count: 10 } : { duration: 10, warmup: 2, count: 40 };

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => stopEverything().then(() => process.exit(130)));

const main = async () => {
  const began = Date.now();
  console.log(`bench: ${quick ? "quick" : "full"} run, ${plan.duration} s per endpoint after ${plan.warmup} s warm-up, ${plan.count} updates and deletes`);
  // The figures are only as good as the machine was idle: its load is printed with them.
  const load = () => `load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores`;
  console.log(`bench: ${load()} at start`);
  // Both Workers and the bundle build start together; nothing is measured until all are ready.
  const bundle = bundleSize().catch((error) => ({ error }));
  const [bare, service] = await Promise.all([startBare(), startService("the service (embedded store)")]);
  const rows = [];
  for (const [endpoint, result] of Object.entries(await measureBare(bare.origin, plan))) rows.push({ target: "bare Worker", endpoint, ...result });
  await bare.stop();
  const embedded = await measureService(service.origin, plan);
  for (const [endpoint, result] of Object.entries(embedded)) rows.push({ target: "embedded store", endpoint, ...result });
  await service.stop();

  const reason = gatewayUnavailable();
  if (!reason) {
    const gateway = await startGateway();
    const viaGateway = await startService("the service (gateway)", { DATA_API_URL: gateway.url, DATA_API_KEY: gateway.key }, "/ready");
    for (const [endpoint, result] of Object.entries(await measureService(viaGateway.origin, plan)))
      rows.push({ target: "gateway + FerretDB", endpoint, ...result });
  }
  await stopEverything();

  printTable(rows);
  if (reason) console.log(`\ngateway: not available (${reason})`);
  printGoals(rows, await bundle);
  console.log(`\nbench: finished in ${((Date.now() - began) / 1000).toFixed(0)} s, ${load()}`);
};

main().catch(async (error) => {
  console.error(error instanceof Error ? error.message : error);
  await stopEverything();
  process.exit(1);
});
