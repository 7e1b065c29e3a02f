// `npm run bench:profile [-- --endpoint get,records,page,login,get-token] [-- --seconds 5] [-- --functions 30]`: where an
// endpoint's CPU goes inside the isolate, by module and by function, from V8's sampling profiler.
//
// The service is built as `wrangler deploy` builds it but unminified (names kept; its source map
// says which source module each function comes from), run under workerd as the bench's
// production-like mode runs it (bench/workerd.mjs) with its inspector open, and loaded for a few
// seconds while the profiler samples every 50 µs. The Worker and its Durable Object share the
// isolate, so one profile holds both sides of a store call. Self time is summed per source module and divided by the requests
// served: milliseconds per request, beside "(program)" (the runtime's own C++ and the JS engine
// outside JavaScript) and "(garbage collector)". Minifying changes none of this work, only names.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { originalPositionFor, TraceMap } from "@jridgewell/trace-mapping";
import { buildWorker } from "./bundle.mjs";
import { measure } from "./load.mjs";
import { argument, prepareEndpoint } from "./one-endpoint.mjs";
import { freePort, ROOT, startProduction, stopEverything, throwaway } from "./processes.mjs";

/**
 * (line, column) in the bundle, 0-based as the profiler gives them → the source module there
 * (`src/…` or `node_modules/…`), from the bundle's source map: the map leads through both builds
 * (scripts/build-worker.mjs, then wrangler's) back to the source.
 */
const moduleMap = (map) => {
  const traced = new TraceMap(map);
  return (line, column) => {
    const { source } = originalPositionFor(traced, { line: line + 1, column });
    if (!source) return "(bundle prelude)";
    const pkg = source.lastIndexOf("node_modules/");
    if (pkg >= 0) return source.slice(pkg);
    const own = source.lastIndexOf("/src/");
    return own >= 0 ? source.slice(own + 1) : source;
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

/**
 * Builds the Worker unminified, serves it under workerd with its inspector open, seeds and loads
 * each endpoint in turn while V8 samples, and answers, per endpoint, its requests and the self
 * time of each module group and function in microseconds, over the whole run.
 */
export const profileEndpoints = async (endpoints, seconds) => {
  const outdir = throwaway("oms-profile-");
  await buildWorker(ROOT, outdir, ["--minify=false"]);
  const script = join(outdir, "index.js");
  const lineModule = moduleMap(readFileSync(`${script}.map`, "utf8"));
  const inspectorPort = await freePort();
  const vars = { JWT_SECRET: randomBytes(32).toString("hex") };
  const config = join(ROOT, "wrangler.toml");
  const service = await startProduction("the service (workerd, profiled)", config, script, vars, "/health", ["--inspector-port", String(inspectorPort)]);
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl && /bench/.test(`${t.title} ${t.id} ${t.url}`)) ?? targets[0];
  const cdp = await connect(target.webSocketDebuggerUrl ?? `ws://127.0.0.1:${inspectorPort}/${target.id}`);
  const profiles = [];
  try {
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 50 });
    for (const endpoint of endpoints) {
      const { next, connections } = await prepareEndpoint(service.origin, endpoint);
      // Warm up first, so compilation and first-use work is not in the profile.
      await measure({ origin: service.origin, connections, duration: 1, next });
      await cdp.send("Profiler.start");
      const result = await measure({ origin: service.origin, connections, duration: seconds, next });
      const { profile } = await cdp.send("Profiler.stop");
      profiles.push({ endpoint, connections, result, ...selfTimes(profile, lineModule) });
    }
  } finally {
    cdp.close();
    await service.stop();
  }
  return profiles;
};

/** Self time per module group and per function, in microseconds: each sample's delta belongs to the node sampled. */
const selfTimes = (profile, lineModule) => {
  const self = new Map();
  profile.samples.forEach((node, i) => {
    self.set(node, (self.get(node) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byModule = new Map();
  const byFunction = new Map();
  for (const node of profile.nodes) {
    const micros = self.get(node.id) ?? 0;
    if (!micros) continue;
    const { functionName, url: file, lineNumber, columnNumber } = node.callFrame;
    const module = file?.endsWith("index.js")
      ? lineModule(lineNumber, columnNumber)
      : functionName.startsWith("(")
        ? functionName
        : file || "(runtime JavaScript)";
    const group = groupOf(module);
    byModule.set(group, (byModule.get(group) ?? 0) + micros);
    const key = `${functionName || "(anonymous)"}  ${module}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
  }
  const idle = byModule.get("(idle)") ?? 0;
  byModule.delete("(idle)");
  byFunction.delete("(idle)  (idle)");
  const busy = [...byModule.values()].reduce((a, b) => a + b, 0);
  return { byModule, byFunction, busy, idle };
};

/** Prints one endpoint's profile: the busy time, then the `modules` largest module groups and `functions` largest functions. */
export const printProfile = ({ endpoint, connections, result, byModule, byFunction, busy }, { modules = 20, functions = 30 } = {}) => {
  const perRequest = (micros) => (micros / 1000 / result.requests).toFixed(3);
  const largest = (map, count) => [...map].sort((a, b) => b[1] - a[1]).slice(0, count);
  console.log(
    `\nprofile: ${endpoint}, ${result.requests} requests at ${connections} connections (${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms); ` +
      `the isolate's thread busy ${perRequest(busy)} ms per request`,
  );
  console.log("  by module group (self time, ms per request, share of the busy time)");
  for (const [group, micros] of largest(byModule, modules))
    console.log(`    ${perRequest(micros).padStart(7)}  ${((100 * micros) / busy).toFixed(1).padStart(5)}%  ${group}`);
  if (!functions) return;
  console.log("  by function (self time, ms per request)");
  for (const [key, micros] of largest(byFunction, functions)) console.log(`    ${perRequest(micros).padStart(7)}  ${key}`);
};

const main = async () => {
  const endpoints = argument("--endpoint", "get").split(",");
  for (const profile of await profileEndpoints(endpoints, Number(argument("--seconds", "5"))))
    printProfile(profile, { functions: Number(argument("--functions", "30")) });
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main()
    .catch((error) => {
      console.error(error);
      process.exitCode = 1;
    })
    .finally(() => stopEverything());
}
