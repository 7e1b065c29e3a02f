// One endpoint of the service, seeded so that every request succeeds, for the tools that drive
// one endpoint at a time (bench/profile.mjs, bench/compare.mjs).
import { execFile } from "node:child_process";
import { join } from "node:path";
import { inParallel, postJson } from "./load.mjs";
import { ROOT } from "./processes.mjs";

export const ENDPOINTS = ["get", "get-token", "records", "page", "login"];
const PASSWORD = "Bench-pass-1";
const RECORD = { name: "Widget", price: 9.5, tags: ["blue", "small"], dimensions: { width_cm: 3, height_cm: 4 } };

/** The Worker of the project at `root`, built as `wrangler deploy` builds it (with `args`), into `outdir`. */
export const buildAt = (root, outdir, args = []) =>
  new Promise((resolve, reject) => {
    const wrangler = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
    const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
    const child = execFile(
      process.execPath,
      [wrangler, "deploy", "--dry-run", "--outdir", outdir, ...args],
      { cwd: root, env, timeout: 120_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`wrangler deploy --dry-run failed in ${root}:\n${stdout}\n${stderr}`)) : resolve()),
    );
    // Nothing to answer: a question from wrangler fails the build instead of waiting.
    child.stdin?.end();
  });

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
  let i = 0;
  const next = {
    get: () => ({ path: `/org/get?organization_name=${encodeURIComponent(orgs[i++ % orgs.length].name)}` }),
    "get-token": () => ({ path: `/org/get?organization_name=${encodeURIComponent(orgs[0].name)}`, headers }),
    records: () => ({ method: "POST", path: "/org/records", body: RECORD, headers }),
    page: () => ({ path: "/org/records?limit=50", headers }),
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
