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

/** Members of the crowded organization besides its owner: a document that grew with its people. */
export const CROWD = 300;

/**
 * An organization with `count` members besides its owner, each invited and accepting with a
 * password of their own, as people join. Each accept comes from an address of its own in the
 * benchmarking range (RFC 2544), clear of the per-address throttle of password checks. Answers
 * the organization with its owner's bearer header.
 */
export const seedCrowd = async (origin, run, count) => {
  const [org] = await seedOrgs(origin, run, 1);
  const login = await postJson(origin, "/admin/login", { email: org.email, password: PASSWORD }, { "cf-connecting-ip": "192.0.2.2" });
  const headers = { authorization: `Bearer ${login.access_token}` };
  const people = Array.from({ length: count }, (_, i) => `bench-${run}-m${i}@example.com`);
  await inParallel(people, 2, async (email, i) => {
    const { token } = await postJson(origin, "/org/invitations", { email, role: "member" }, headers);
    await postJson(origin, "/invitations/accept", { token, password: PASSWORD }, { "cf-connecting-ip": `198.18.${Math.floor(i / 250)}.${i % 250}` });
  });
  return { ...org, headers };
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
 * Seeds the service at `origin` once for `plan.rounds` rounds and returns `round(cpu)`, which
 * measures every endpoint once. `plan` bounds it: `duration`/`warmup` in seconds for the endpoints
 * that can repeat, `count` requests per round for update and delete, which use up their
 * organizations, `orgs` organizations written to at once by the scale row.
 */
export const prepareService = async (origin, plan) => {
  const run = Date.now().toString(36);
  const used = plan.count * plan.rounds;
  // Record inserts go to an organization of their own, so the page read sees the same records throughout.
  const [readOnly, renamed, doomed, inserter, pageReader, crowded, ...tenants] = await Promise.all([
    ...["r", "u", "d"].map((group) => seedOrgs(origin, `${run}${group}`, group === "r" ? plan.count : used)),
    seedRecords(origin, `${run}w`, 0),
    seedRecords(origin, `${run}p`, plan.records),
    seedCrowd(origin, `${run}m`, CROWD),
    ...Array.from({ length: plan.orgs }, (_, i) => seedRecords(origin, `${run}t${i}`, 0)),
  ]);
  await checkFullPage(origin, pageReader);
  // The same page read with an organization API key instead of the admin's token (the issue's
  // comparison). Each key may make 1,000 requests a minute (wrangler.toml), fewer than a run sends:
  // the requests take turns among 20 keys, each one still counted against its own allowance.
  const keys = await inParallel(
    Array.from({ length: 20 }, (_, i) => i),
    2,
    (i) => postJson(origin, "/org/api-keys", { name: `bench page reader ${i}`, scopes: ["records:read"] }, pageReader),
  );
  const pageKeys = cycle(keys.map((key) => ({ authorization: `Bearer ${key.secret}` })));
  await checkFullPage(origin, { authorization: `Bearer ${keys[0].secret}` });
  // From addresses of their own (RFC 5737), clear of the per-address throttle the measured logins use.
  const tokens = await inParallel(doomed, 2, async (org, i) => {
    const headers = { "cf-connecting-ip": `203.0.113.${i % 250}` };
    return (await postJson(origin, "/admin/login", { email: org.email, password: PASSWORD }, headers)).access_token;
  });
  let renames = 0;
  let deleted = 0;
  let created = 0;
  let client = 0;

  const round = async (cpu) => {
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

    results[`GET /org/records?limit=${RECORDS_PAGE}, API key`] = await measure({
      ...timed,
      connections: 10,
      next: () => ({ path: `/org/records?limit=${RECORDS_PAGE}`, headers: pageKeys() }),
    });

    // Many organizations written at once: on the embedded store all of them share the one Durable
    // Object of their database, behind the gateway they share MongoDB.
    const tenant = cycle(tenants);
    results[`POST /org/records, ${plan.orgs} orgs`] = await measure({
      ...timed,
      connections: 10,
      next: () => ({ method: "POST", path: "/org/records", body: RECORD, headers: tenant() }),
    });

    // The same read of an organization whose document holds its members: it grows with each of them.
    results[`GET /org/get, ${CROWD} members`] = await measure({
      ...timed,
      connections: 10,
      next: () => ({ path: `/org/get?organization_name=${encodeURIComponent(crowded.name)}` }),
    });

    const admin = cycle(readOnly);
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

    // Its owner signing in: the sign-in reads only the owner's own member of the document.
    results[`POST /admin/login, ${CROWD} members`] = await measure({
      ...timed,
      connections: 1,
      next: () => ({
        method: "POST",
        path: "/admin/login",
        body: { email: crowded.email, password: PASSWORD },
        headers: { "cf-connecting-ip": `198.51.100.${client++ % 250}` },
      }),
    });

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

    results["PUT /org/update"] = await measure({
      origin,
      cpu,
      connections: 1,
      amount: plan.count,
      next: () => {
        const n = renames++;
        const org = renamed[n];
        return {
          method: "PUT",
          path: "/org/update",
          body: { organization_name: org.name, new_organization_name: `${org.name} renamed`, email: org.email, password: PASSWORD },
          // Each rename checks the password, which the per-address throttle counts.
          headers: { "cf-connecting-ip": `192.0.2.${n % 250}` },
        };
      },
    });

    results["DELETE /org/delete"] = await measure({
      origin,
      cpu,
      connections: 1,
      amount: plan.count,
      next: () => {
        const i = deleted++;
        return {
          method: "DELETE",
          path: `/org/delete?organization_name=${encodeURIComponent(doomed[i].name)}`,
          headers: { authorization: `Bearer ${tokens[i]}` },
        };
      },
    });
    return results;
  };
  return { round };
};

/** The bare Worker's store read over RPC: GET /org/get's ceiling (a log line and one read no cache answers). */
export const RPC_READ = "GET /store-rpc (+1 store call, RPC)";

/** The same read answered with the headers every answer of the service carries. */
export const HEADED_READ = "GET /store-rpc + the service's headers";

/** The bare Worker's PBKDF2 as login verifies a password, and one log line: login's ceiling. */
export const HASH = "GET /pbkdf2 (PBKDF2 + 1 log line)";

/** The bare Worker's PBKDF2 after one count of the per-client throttle, as login counts one. */
export const THROTTLED_HASH = "GET /pbkdf2 (+1 throttle count)";
let bareClient = 0;

/**
 * The bare Worker: each endpoint's ceiling (its unavoidable work alone) and the parts a request's
 * CPU is split into. The hash runs at the configured cost (the service's default, 100,000).
 */
export const measureBare = async (origin, plan, cpu) => {
  const timed = { origin, cpu, duration: plan.duration, warmup: plan.warmup };
  return {
    "GET / (from memory)": await measure({ ...timed, connections: 10, next: () => ({ path: "/" }) }),
    "GET /logged (+1 log line)": await measure({ ...timed, connections: 10, next: () => ({ path: "/logged" }) }),
    "GET /store (+1 store call, fetch)": await measure({ ...timed, connections: 10, next: () => ({ path: "/store" }) }),
    [RPC_READ]: await measure({ ...timed, connections: 10, next: () => ({ path: "/store-rpc" }) }),
    [HEADED_READ]: await measure({ ...timed, connections: 10, next: () => ({ path: "/store-rpc?headed=1" }) }),
    [HASH]: await measure({ ...timed, connections: 1, next: () => ({ path: "/pbkdf2?iterations=100000" }) }),
    // Counted from as many addresses as the measured logins, so its answers are the same.
    [THROTTLED_HASH]: await measure({
      ...timed,
      connections: 1,
      next: () => ({ path: "/pbkdf2?iterations=100000&throttle=1", headers: { "cf-connecting-ip": `198.51.100.${bareClient++ % 250}` } }),
    }),
  };
};
