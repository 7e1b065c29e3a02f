// One endpoint of the service, seeded so that every request succeeds, for the tools that drive
// one endpoint at a time (bench/profile.mjs, bench/compare.mjs).
import { inParallel, postJson } from "./load.mjs";
import { CROWD, seedCrowd } from "./scenarios.mjs";

/** `-crowd`: the same request in an organization of CROWD members, seeded only when asked for. */
export const ENDPOINTS = ["get", "get-token", "records", "page", "login", "get-crowd", "get-token-crowd", "records-crowd"];
const PASSWORD = "Bench-pass-1";
const RECORD = { name: "Widget", price: 9.5, tags: ["blue", "small"], dimensions: { width_cm: 3, height_cm: 4 } };

/** A `--flag value` argument of the command line, or `fallback`. */
export const argument = (flag, fallback) => {
  const at = process.argv.indexOf(flag);
  return at > 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
};

/** What each endpoint asks, after seeding what it needs so every request succeeds. */
export const prepareEndpoint = async (origin, endpoint) => {
  const run = Date.now().toString(36);
  const orgs = Array.from({ length: 8 }, (_, i) => ({ name: `Profile ${run} ${i}`, email: `profile-${run}-${i}@example.com` }));
  await inParallel(orgs, 2, (org) => postJson(origin, "/org/create", { organization_name: org.name, email: org.email, password: PASSWORD }));
  const login = await postJson(origin, "/admin/login", { email: orgs[0].email, password: PASSWORD }, { "cf-connecting-ip": "192.0.2.1" });
  const headers = { authorization: `Bearer ${login.access_token}` };
  await inParallel(
    Array.from({ length: 60 }, (_, n) => n),
    2,
    (n) => postJson(origin, "/org/records", { ...RECORD, n }, headers),
  );
  const crowd = endpoint.endsWith("-crowd") ? await seedCrowd(origin, `${run}c`, CROWD) : undefined;
  let i = 0;
  const next = {
    get: () => ({ path: `/org/get?organization_name=${encodeURIComponent(orgs[i++ % orgs.length].name)}` }),
    "get-token": () => ({ path: `/org/get?organization_name=${encodeURIComponent(orgs[0].name)}`, headers }),
    records: () => ({ method: "POST", path: "/org/records", body: RECORD, headers }),
    page: () => ({ path: "/org/records?limit=50", headers }),
    "get-crowd": () => ({ path: `/org/get?organization_name=${encodeURIComponent(crowd.name)}` }),
    "get-token-crowd": () => ({ path: `/org/get?organization_name=${encodeURIComponent(crowd.name)}`, headers: crowd.headers }),
    "records-crowd": () => ({ method: "POST", path: "/org/records", body: RECORD, headers: crowd.headers }),
    login: () => {
      const org = orgs[i % orgs.length];
      return {
        method: "POST",
        path: "/admin/login",
        body: { email: org.email, password: PASSWORD },
        headers: { "cf-connecting-ip": `198.51.100.${i++ % 250}` },
      };
    },
  }[endpoint];
  if (!next) throw new Error(`unknown endpoint ${endpoint}: ${ENDPOINTS.join(", ")}`);
  return { next, connections: endpoint === "login" ? 1 : 10 };
};
