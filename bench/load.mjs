// Load generation with autocannon, bounded in time (or in count) and aimed at loopback only.
import autocannon from "autocannon";

const JSON_HEADERS = { "content-type": "application/json" };

const run = (options) =>
  new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });

/**
 * Drives one endpoint and summarises it. `next()` returns the next request (method, path, body,
 * headers), so each request can carry a unique name or another admin's credentials. Round trips
 * come from the service's `x-data-round-trips` header; the bare Worker sends it only on its read
 * answered with the service's headers (one trip, as it makes).
 */
export const measure = async ({ origin, connections, duration, amount, warmup = 0, next, cpu = () => undefined }) => {
  if (!origin.startsWith("http://127.0.0.1:")) throw new Error(`refusing to load anything but loopback: ${origin}`);
  let trips = 0;
  let counted = 0;
  const request = {
    setupRequest: (req) => {
      const { method = "GET", path, body, headers = {} } = next();
      return {
        ...req,
        method,
        path,
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: body === undefined ? headers : { ...JSON_HEADERS, ...headers },
      };
    },
    onResponse: (_status, _body, _context, headers) => {
      const value = Object.entries(headers).find(([name]) => name.toLowerCase() === "x-data-round-trips")?.[1];
      if (value !== undefined) {
        trips += Number(value);
        counted++;
      }
    },
  };
  const base = { url: origin, connections, requests: [request], timeout: 30 };
  if (warmup > 0) await run({ ...base, duration: warmup });
  trips = 0;
  counted = 0;
  const cpuBefore = cpu();
  const result = await run(amount ? { ...base, amount } : { ...base, duration });
  const cpuAfter = cpu();
  const total = result.requests.total ?? result.latency.totalCount;
  return {
    connections,
    requests: total,
    rps: result.duration > 0 ? total / result.duration : 0,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.average,
    roundTrips: counted ? trips / counted : undefined,
    cpuMs: cpuBefore === undefined || cpuAfter === undefined || !total ? undefined : (cpuAfter - cpuBefore) / total,
    failures: result.non2xx + result.errors + result.timeouts,
  };
};

/** Sends requests from Node with at most `concurrency` in flight: seeding, not measuring. */
export const inParallel = async (items, concurrency, task) => {
  const results = new Array(items.length);
  let index = 0;
  const worker = async () => {
    while (index < items.length) {
      const mine = index++;
      results[mine] = await task(items[mine], mine);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
};

export const postJson = async (origin, path, body, headers = {}) => {
  const res = await fetch(`${origin}${path}`, { method: "POST", headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return res.json();
};
