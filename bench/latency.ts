// `npm run latency`: the expected network latency of each endpoint for callers around the world
// with the data in one region, with and without the Worker placed next to the data. Offline:
// the figures are tables: inter-region round-trip times from a published source
// (bench/latency/), and the data round trips each endpoint makes (test/round-trips.json).
//
//   npm run latency -- --data syd            the data in another region (ids in the RTT table)
//   npm run latency -- --markdown            the table as docs/operations.md has it
//   npm run latency -- --measure             count the round trips on a local Worker first
//                                            (wrangler dev, about a minute); fails when they
//                                            differ from test/round-trips.json
// The round trips are the ones test/worker/round-trips.test.ts asserts (test/round-trips.json,
// the rows marked "latency"), so the model and the docs' round-trip table cannot disagree.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = join(fileURLToPath(import.meta.url), "..", "latency");
const RTT_FILE = join(HERE, "inter-region-rtt.json");
const TRIPS_FILE = join(HERE, "..", "..", "test", "round-trips.json");

export interface Region {
  id: string;
  name: string;
  azure: string;
  locationHint: string;
  placementRegion: string;
}

export interface RttTable {
  source: string;
  statistic: string;
  note: string;
  regions: Region[];
  rttMs: Record<string, Record<string, number>>;
}

export interface EndpointTrips {
  endpoint: string;
  roundTrips: number;
}

export interface TripsTable {
  source: string;
  endpoints: EndpointTrips[];
}

export const loadRtt = (): RttTable => JSON.parse(readFileSync(RTT_FILE, "utf8"));
/** The endpoints the model shows: the rows of the asserted table marked `latency`. */
export const loadLatencyTrips = (): TripsTable => {
  const table = JSON.parse(readFileSync(TRIPS_FILE, "utf8")) as { source: string; endpoints: (EndpointTrips & { latency?: boolean })[] };
  return { source: table.source, endpoints: table.endpoints.filter((e) => e.latency).map(({ endpoint, roundTrips }) => ({ endpoint, roundTrips })) };
};

/**
 * A Worker and its store in the same metro. Cloudflare's Placement page puts a placed Worker's
 * queries at 1 to 3 ms; the middle of that stands for every nearby hop.
 */
export const NEARBY_RTT_MS = 2;

export const rttMs = (table: RttTable, from: string, to: string): number => {
  if (from === to) return NEARBY_RTT_MS;
  const ms = table.rttMs[from]?.[to];
  if (ms === undefined) throw new Error(`no round-trip time from ${from} to ${to}`);
  return ms;
};

/**
 * Network time of one request, from the Cloudflare location nearest the caller back to it (the
 * caller's own last mile is the same in every case and left out).
 * Without placement the Worker runs near the caller, and every data call crosses to the data.
 * Placed, the request crosses once to a Worker next to the data, whose calls stay nearby; a
 * caller already near the data is not forwarded at all.
 */
export const expectedMs = (roundTrips: number, callerToDataMs: number, placed: boolean): number => {
  if (!placed) return roundTrips * callerToDataMs;
  const forward = callerToDataMs > NEARBY_RTT_MS ? callerToDataMs : 0;
  return forward + roundTrips * NEARBY_RTT_MS;
};

/**
 * What would cut the round trips of an endpoint that makes more than one: beyond the first,
 * each costs a far caller another long-haul trip unless the Worker is placed by the data.
 */
export const CUTS: Record<string, string> = {
  "POST /admin/login":
    "Count the attempt and read the account (one document), then read the organization. The second depends on the first (the account names the organization), so only a store-side action could make it 1.",
  "POST /org/create":
    "Reserve the e-mail's account, insert the organization (reserving name and collection), create the collection, activate. One store-side action running the steps where the data is would make it 1.",
  "PUT /org/update (password)":
    "The login's two calls to check the password, then guarded update, renameCollection, activate. A bearer token skips the check (3); a store-side rename action would make it 3 (the check, then the rest).",
  "PUT /org/update (bearer)": "Guarded update, renameCollection, activate. A store-side rename action running the three would make it 1.",
  "DELETE /org/delete":
    "Mark, drop the collection, close the accounts it leaves empty, delete its events, remove. A store-side delete action would make it 1; the steps stay resumable by the reconciler.",
  "POST /org/records":
    "Read the organization (token version, status, collection), then the record call. One store-side action that checks the token version and does the record call would make it 1; taking the collection from the token would too, but a rename or revocation makes that stale.",
  "GET /org/records": "The same two calls as POST /org/records, and the same cuts.",
};

export interface Row {
  endpoint: string;
  roundTrips: number;
  /** Per caller region id: [without placement, placed] in ms. */
  cells: Record<string, [number, number]>;
}

export const model = (rtt: RttTable, trips: EndpointTrips[], data: string): Row[] =>
  trips.map(({ endpoint, roundTrips }) => ({
    endpoint,
    roundTrips,
    cells: Object.fromEntries(
      rtt.regions.map(({ id }) => {
        const toData = rttMs(rtt, id, data);
        return [id, [expectedMs(roundTrips, toData, false), expectedMs(roundTrips, toData, true)]];
      }),
    ),
  }));

/** Callers with the data in their own region first, then from nearest to farthest. */
const callerOrder = (rtt: RttTable, data: string): Region[] => [...rtt.regions].sort((a, b) => rttMs(rtt, a.id, data) - rttMs(rtt, b.id, data));

export const render = (rtt: RttTable, trips: TripsTable, data: string, markdown: boolean): string => {
  const rows = model(rtt, trips.endpoints, data);
  const callers = callerOrder(rtt, data);
  const dataRegion = rtt.regions.find((r) => r.id === data);
  if (!dataRegion) throw new Error(`unknown region ${data}; one of ${rtt.regions.map((r) => r.id).join(", ")}`);
  // In Markdown the method and path read as code, as elsewhere in the README.
  const name = (endpoint: string) => (markdown ? endpoint.replace(/^(\S+ \S+)/, "`$1`") : endpoint);
  const header = ["endpoint", "trips", ...callers.map((c) => `${c.name} (${rttMs(rtt, c.id, data)})`)];
  const body = rows.map((r) => [name(r.endpoint), String(r.roundTrips), ...callers.map((c) => (r.cells[c.id] ?? [0, 0]).join(" / "))]);
  const lines: string[] = [];
  lines.push(`Expected network latency in ms, without placement / with the Worker placed next to the data.`);
  lines.push(`Data in ${dataRegion.name} (${dataRegion.azure}); each caller's column gives its round-trip time to the data.`);
  lines.push("");
  if (markdown) {
    lines.push(`| ${header.join(" | ")} |`, `| ${header.map((_, i) => (i < 1 ? "---" : "---:")).join(" | ")} |`);
    for (const cells of body) lines.push(`| ${cells.join(" | ")} |`);
  } else {
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((c) => (c[i] ?? "").length)));
    const line = (c: string[]) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join("  ");
    lines.push(line(header), widths.map((w) => "-".repeat(w)).join("  "));
    for (const cells of body) lines.push(line(cells));
  }
  const farthest = callers.at(-1);
  const bound = rows.filter((r) => r.roundTrips >= 2);
  if (farthest && bound.length > 0) {
    lines.push("");
    lines.push(
      `Round-trip bound (more than one data round trip: beyond the first, each costs a far caller a long-haul trip; from ${farthest.name}, without placement):`,
    );
    for (const r of bound) {
      const [off] = r.cells[farthest.id] ?? [0, 0];
      const extra = off - rttMs(rtt, farthest.id, data);
      lines.push(`- ${name(r.endpoint)}: ${extra} of ${off} ms are trips beyond the first. ${CUTS[r.endpoint] ?? ""}`);
    }
  }
  lines.push("");
  lines.push(`Round-trip times: ${rtt.source}. ${rtt.note} Same region: ${NEARBY_RTT_MS} ms.`);
  if (markdown) lines.push("");
  lines.push(`Round trips: ${trips.source}. Server time (CPU, PBKDF2) comes on top and does not depend on placement.`);
  return lines.join("\n");
};

/** One request per endpoint against a local Worker, reading x-data-round-trips. */
const measure = async (): Promise<EndpointTrips[]> => {
  const { startService, stopEverything } = await import("./processes.mjs");
  const service = await startService("the service (embedded store)");
  try {
    const { origin } = service;
    const json = { "content-type": "application/json" };
    const found: EndpointTrips[] = [];
    const call = async (endpoint: string, path: string, init: RequestInit = {}) => {
      const res = await fetch(`${origin}${path}`, init);
      if (!res.ok) throw new Error(`${endpoint}: ${res.status} ${await res.text()}`);
      const trips = Number(res.headers.get("x-data-round-trips"));
      found.push({ endpoint, roundTrips: trips });
      return res;
    };
    const suffix = crypto.randomUUID().slice(0, 8);
    const [name, renamed, again] = ["Latency", "LatencyRenamed", "LatencyAgain"].map((n) => `${n}${suffix}`) as [string, string, string];
    const email = `admin-${suffix}@latency.example`;
    const password = "Latency1234";
    await call("GET /health", "/health");
    await call("POST /org/create", "/org/create", { method: "POST", headers: json, body: JSON.stringify({ organization_name: name, email, password }) });
    await call("GET /org/get", `/org/get?organization_name=${name}`);
    const login = await call("POST /admin/login", "/admin/login", { method: "POST", headers: json, body: JSON.stringify({ email, password }) });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const bearer = { ...json, authorization: `Bearer ${token}` };
    const update = { organization_name: name, new_organization_name: renamed, email, password };
    await call("PUT /org/update (password)", "/org/update", { method: "PUT", headers: json, body: JSON.stringify(update) });
    const byToken = { organization_name: renamed, new_organization_name: again };
    await call("PUT /org/update (bearer)", "/org/update", { method: "PUT", headers: bearer, body: JSON.stringify(byToken) });
    await call("POST /org/records", "/org/records", { method: "POST", headers: bearer, body: JSON.stringify({ plan: "pro" }) });
    await call("GET /org/records", "/org/records", { headers: bearer });
    await call("DELETE /org/delete", `/org/delete?organization_name=${again}`, { method: "DELETE", headers: { ...bearer, "x-admin-email": email } });
    return found;
  } finally {
    await stopEverything();
  }
};

const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rtt = loadRtt();
  const trips = loadLatencyTrips();
  if (process.argv.includes("--measure")) {
    const measured = await measure();
    const order = trips.endpoints.map((e) => e.endpoint);
    const changed = measured.filter((m) => trips.endpoints.find((e) => e.endpoint === m.endpoint)?.roundTrips !== m.roundTrips);
    const missing = order.filter((endpoint) => !measured.some((m) => m.endpoint === endpoint));
    if (changed.length > 0 || missing.length > 0) {
      // The stored figures are the asserted ones: a difference is a change to make on purpose, in
      // test/round-trips.json (then npm run docs:generate), never written over silently.
      const also = missing.length > 0 ? `; not measured: ${missing.join(", ")}` : "";
      console.error(`measured round trips differ from test/round-trips.json: ${JSON.stringify(changed)}${also}`);
      process.exit(1);
    }
    console.log("measured round trips: as test/round-trips.json has them");
  }
  console.log(render(rtt, trips, option("--data") ?? "fra", process.argv.includes("--markdown")));
}
