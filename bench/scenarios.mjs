// What the bench asks of the service: each of the five endpoints and the records API, with data
// seeded first so every request succeeds (a 4xx is fast and would flatter the figures). Names are
// unique per run, so a store that outlives the run never makes a create collide.
import { inParallel, measure, postJson } from "./load.mjs";

const PASSWORD = "Bench-pass-1";

const seedOrgs = async (origin, run, count) => {
  const orgs = Array.from({ length: count }, (_, i) => ({ name: `Bench ${run} ${i}`, email: `bench-${run}-${i}@example.com` }));
  await inParallel(orgs, 2, (org) => postJson(origin, "/org/create", { organization_name: org.name, email: org.email, password: PASSWORD }));
  return orgs;
};

/** A small record, as a tenant's client would store one. */
const RECORD = { name: "Widget", price: 9.5, tags: ["blue", "small"], dimensions: { width_cm: 3, height_cm: 4 } };
export const RECORDS_PAGE = 50;

/**
 * An organization holding `count` records, and the bearer header of its admin. The login comes
 * from its own documentation address (RFC 5737), clear of the per-address login throttle.
 */
const seedRecords = async (origin, run, count) => {
  const [org] = await seedOrgs(origin, run, 1);
  const login = await postJson(origin, "/admin/login", { email: org.email, password: PASSWORD }, { "cf-connecting-ip": "192.0.2.1" });
  const headers = { authorization: `Bearer ${login.access_token}` };
  const numbers = Array.from({ length: count }, (_, n) => n);
  await inParallel(numbers, 2, (n) => postJson(origin, "/org/records", { ...RECORD, n }, headers));
  return headers;
};

/** Autocannon does not read bodies: check once that a page is a full one, so its row measures what it says. */
const checkFullPage = async (origin, headers) => {
  const res = await fetch(`${origin}/org/records?limit=${RECORDS_PAGE}`, { headers });
  const body = await res.json();
  if (res.status !== 200 || body.records?.length !== RECORDS_PAGE || !body.next_cursor) {
    throw new Error(`GET /org/records?limit=${RECORDS_PAGE}: ${res.status}, ${body.records?.length} records, next_cursor ${body.next_cursor}`);
  }
};

const cycle = (items) => {
  let i = 0;
  return () => items[i++ % items.length];
};

/**
 * Measures the service at `origin`. `plan` bounds it: `duration`/`warmup` in seconds for the
 * endpoints that can repeat, `count` requests for update and delete, which use up their organizations.
 */
export const measureService = async (origin, plan, cpu) => {
  const run = Date.now().toString(36);
  // Record inserts go to an organization of their own, so the page read sees the same records throughout.
  const [readOnly, renamed, doomed, inserter, pageReader] = await Promise.all([
    ...["r", "u", "d"].map((group) => seedOrgs(origin, `${run}${group}`, plan.count)),
    seedRecords(origin, `${run}w`, 0),
    seedRecords(origin, `${run}p`, plan.records),
  ]);
  await checkFullPage(origin, pageReader);
  const tokens = await inParallel(doomed, 2, async (org) => (await postJson(origin, "/admin/login", { email: org.email, password: PASSWORD })).access_token);
  const timed = { origin, cpu, duration: plan.duration, warmup: plan.warmup };
  const results = {};

  // Routing, headers and the log line with no data: what separates the ceiling from GET /org/get.
  results["GET /health"] = await measure({ ...timed, connections: 10, next: () => ({ path: "/health" }) });

  const reader = cycle(readOnly);
  results["GET /org/get"] = await measure({
    ...timed,
    connections: 10,
    next: () => ({ path: `/org/get?organization_name=${encodeURIComponent(reader().name)}` }),
  });

  results["POST /org/records"] = await measure({
    ...timed,
    connections: 10,
    next: () => ({ method: "POST", path: "/org/records", body: RECORD, headers: inserter }),
  });

  results[`GET /org/records?limit=${RECORDS_PAGE}`] = await measure({
    ...timed,
    connections: 10,
    next: () => ({ path: `/org/records?limit=${RECORDS_PAGE}`, headers: pageReader }),
  });

  const admin = cycle(readOnly);
  let client = 0;
  results["POST /admin/login"] = await measure({
    ...timed,
    connections: 1,
    // Logins as from many clients: the service throttles each address to 100 a minute, and from one
    // address most of the run would be fast 429s. Local dev keeps a client's cf-connecting-ip;
    // the addresses are documentation ones (RFC 5737), only ever a header value.
    next: () => ({
      method: "POST",
      path: "/admin/login",
      body: { email: admin().email, password: PASSWORD },
      headers: { "cf-connecting-ip": `198.51.100.${client++ % 250}` },
    }),
  });

  let created = 0;
  results["POST /org/create"] = await measure({
    ...timed,
    connections: 2,
    next: () => {
      const n = created++;
      return {
        method: "POST",
        path: "/org/create",
        body: { organization_name: `Bench ${run} c${n}`, email: `bench-${run}-c${n}@example.com`, password: PASSWORD },
      };
    },
  });

  const toRename = cycle(renamed);
  results["PUT /org/update"] = await measure({
    origin,
    cpu,
    connections: 1,
    amount: plan.count,
    next: () => {
      const org = toRename();
      return {
        method: "PUT",
        path: "/org/update",
        body: { organization_name: org.name, new_organization_name: `${org.name} renamed`, email: org.email, password: PASSWORD },
      };
    },
  });

  let deleted = 0;
  results["DELETE /org/delete"] = await measure({
    origin,
    cpu,
    connections: 1,
    amount: plan.count,
    next: () => {
      const i = deleted++ % doomed.length;
      return {
        method: "DELETE",
        path: `/org/delete?organization_name=${encodeURIComponent(doomed[i].name)}`,
        headers: { authorization: `Bearer ${tokens[i]}` },
      };
    },
  });
  return results;
};

/** The bare Worker: its fixed answer (the ceiling) and the raw PBKDF2 cost of one login. */
export const measureBare = async (origin, plan, cpu) => {
  const timed = { origin, cpu, duration: plan.duration, warmup: plan.warmup };
  return {
    "GET / (from memory)": await measure({ ...timed, connections: 10, next: () => ({ path: "/" }) }),
    "GET /logged (+1 log line)": await measure({ ...timed, connections: 10, next: () => ({ path: "/logged" }) }),
    "GET /pbkdf2 (100,000 iterations)": await measure({ ...timed, connections: 1, next: () => ({ path: "/pbkdf2?iterations=100000" }) }),
  };
};
