// `npm run bench:profile [-- --endpoint get|records|page|login] [-- --seconds 5]`: where one
// endpoint's CPU goes inside the isolate, by module and by function, from V8's sampling profiler.
//
// The service is built as `wrangler deploy` builds it but unminified (names kept; esbuild marks
// where each source module begins), run under workerd as the bench's production-like mode runs
// it (bench/workerd.mjs) with its inspector open, and loaded for a few seconds while the profiler
// samples every 50 µs. The Worker and its Durable Object share the isolate, so one profile holds
// both sides of a store call. Self time is summed per source module and divided by the requests
// served: milliseconds per request, beside "(program)" (the runtime's own C++ and the JS engine
// outside JavaScript) and "(garbage collector)". Minifying changes none of this work, only names.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measure } from "./load.mjs";
import { buildAt, prepareEndpoint } from "./one-endpoint.mjs";
import { freePort, ROOT, startProduction, stopEverything } from "./processes.mjs";

const argument = (flag, fallback) => {
  const at = process.argv.indexOf(flag);
  return at > 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
};
const endpoint = argument("--endpoint", "get");
const seconds = Number(argument("--seconds", "5"));

/** Line number (0-based) → source module, from the `// path` comment esbuild writes where each module begins. */
const moduleMap = (bundle) => {
  const starts = [];
  bundle.split("\n").forEach((line, i) => {
    const found = line.match(/^\/\/ ((?:node_modules|src)\/\S+)$/);
    if (found) starts.push([i, found[1]]);
  });
  return (line) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found = "(bundle prelude)";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid][0] <= line) {
        found = starts[mid][1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
};

/** A package or a source folder: what the per-module figures are summed into. */
const groupOf = (module) => {
  const pkg = module.match(/^node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1];
  const dir = module.match(/^src\/([^/]+)\//);
  return dir ? `src/${dir[1]}` : module;
};

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
const connect = async (url) => {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", reject, { once: true });
  });
  let id = 0;
  const pending = new Map();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    if (message.error) waiting.reject(new Error(message.error.message));
    else waiting.resolve(message.result);
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      pending.set(++id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => socket.close() };
};

const main = async () => {
  const outdir = mkdtempSync(join(tmpdir(), "oms-profile-"));
  process.once("exit", () => rmSync(outdir, { recursive: true, force: true }));
  await buildAt(ROOT, outdir, ["--minify=false"]);
  const script = join(outdir, "index.js");
  const lineModule = moduleMap(readFileSync(script, "utf8"));
  const inspectorPort = await freePort();
  const vars = { JWT_SECRET: randomBytes(32).toString("hex") };
  const config = join(ROOT, "wrangler.toml");
  const service = await startProduction("the service (workerd)", config, script, vars, "/health", ["--inspector-port", String(inspectorPort)]);
  const { next, connections } = await prepareEndpoint(service.origin, endpoint);

  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl && /bench/.test(`${t.title} ${t.id} ${t.url}`)) ?? targets[0];
  const url = target.webSocketDebuggerUrl ?? `ws://127.0.0.1:${inspectorPort}/${target.id}`;
  const cdp = await connect(url);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 50 });
  // Warm up first, so compilation and first-use work is not in the profile.
  await measure({ origin: service.origin, connections, duration: 1, next });
  await cdp.send("Profiler.start");
  const result = await measure({ origin: service.origin, connections, duration: seconds, next });
  const { profile } = await cdp.send("Profiler.stop");
  cdp.close();
  await stopEverything();

  // Self time per node: each sample's delta belongs to the node sampled.
  const self = new Map();
  profile.samples.forEach((node, i) => {
    self.set(node, (self.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byModule = new Map();
  const byFunction = new Map();
  for (const node of profile.nodes) {
    const micros = self.get(node.id) ?? 0;
    if (!micros) continue;
    const { functionName, url: file, lineNumber } = node.callFrame;
    const module = file?.endsWith("index.js") ? lineModule(lineNumber) : functionName.startsWith("(") ? functionName : file || "(runtime JavaScript)";
    const group = groupOf(module);
    byModule.set(group, (byModule.get(group) ?? 0) + micros);
    const key = `${functionName || "(anonymous)"}  ${module}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
  }
  const requests = result.requests;
  const idle = byModule.get("(idle)") ?? 0;
  const busy = [...byModule.values()].reduce((a, b) => a + b, 0) - idle;
  const perRequest = (micros) => (micros / 1000 / requests).toFixed(3);
  console.log(
    `profile: ${endpoint}, ${requests} requests in ${seconds} s at ${connections} connections (${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms)`,
  );
  console.log(`the isolate's thread, busy: ${perRequest(busy)} ms per request\n`);
  console.log("by module group (self time, ms per request)");
  for (const [group, micros] of [...byModule]
    .filter(([g]) => g !== "(idle)")
    .sort((a, b) => b[1] - a[1])
    .slice(0, 20)) {
    console.log(`  ${perRequest(micros).padStart(7)}  ${((100 * micros) / busy).toFixed(1).padStart(5)}%  ${group}`);
  }
  console.log("\nby function (self time, ms per request)");
  for (const [key, micros] of [...byFunction]
    .filter(([k]) => !k.startsWith("(idle)"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 30)) {
    console.log(`  ${perRequest(micros).padStart(7)}  ${key}`);
  }
};

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => stopEverything());
