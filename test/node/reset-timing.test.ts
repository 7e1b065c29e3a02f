import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type Launched, MAIL_TO_NOWHERE } from "../../scripts/processes.ts";
import { median, randomIp, separability, shuffled } from "../timing";
import { launchServe } from "./serve-process.ts";

// Whether `POST /auth/password-reset` tells, by its timing, an address with an account from one
// without, as a caller sees it: over a socket, from the built Worker on workerd (`npm run serve`),
// where the mail dispatcher shares a thread with the requests. Inside the test runtime the answer
// is a JavaScript object handed over in memory, so work the Worker does after it could never
// delay it there; over a socket it can (the design before the dispatcher looked the address up
// was told apart 0.8 of the time, by bench/enumeration.mjs's z of 14). A mail transport is set so
// a known address does all of its work; its SMTP server is a closed port (every send fails and is
// retried, as a real server's could).

const PER_CLASS = 200;
/** Requests per known address: below the per-address allowance (5 a minute), so no sample is a 429. */
const USES = 4;
/** The AUC's spread at 200 a class is about 0.029: the limit is more than three of them from chance. */
const LIMIT = 0.6;

const state = mkdtempSync(join(tmpdir(), "reset-timing-state-"));
const build = mkdtempSync(join(tmpdir(), "reset-timing-build-"));
const env = {
  ...process.env,
  JWT_SECRET: randomBytes(32).toString("hex"),
  PBKDF2_ITERATIONS: "10000",
  ...MAIL_TO_NOWHERE,
  WRANGLER_SEND_METRICS: "false",
};
let origin = "";
let serve: Launched | undefined;

const post = (path: string, body: unknown) =>
  fetch(`${origin}${path}`, { method: "POST", headers: { "content-type": "application/json", "cf-connecting-ip": randomIp() }, body: JSON.stringify(body) });

/** From sending the request to reading its whole answer. */
const timedReset = async (email: string): Promise<number> => {
  const started = performance.now();
  const res = await post("/auth/password-reset", { email });
  const body = await res.text();
  const took = performance.now() - started;
  expect(res.status, body).toBe(202);
  return took;
};

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  // A proxy in front is assumed, so each request's cf-connecting-ip is its client: no per-client throttle is reached.
  serve = await launchServe({ port, state, outdir: build, env, args: ["--trust-proxy"] });
}, 60_000);

afterAll(async () => {
  await serve?.stop();
  rmSync(state, { recursive: true, force: true });
  rmSync(build, { recursive: true, force: true });
});

describe("password reset timing over a socket", () => {
  it("does not tell an address with an account from one without, by the answer's time", { timeout: 120_000 }, async () => {
    const run = Date.now().toString(36);
    const accounts = Array.from({ length: PER_CLASS / USES }, (_, i) => `known-${run}-${i}@timing.example.com`);
    for (const [i, email] of accounts.entries()) {
      const made = await post("/org/create", { organization_name: `Timing ${run} ${i}`, email, password: "Test1234" });
      expect(made.status, await made.text()).toBe(200);
    }
    // Each address, with an account or without, asked USES times: the account is the only difference.
    const asked = (emails: string[]) => shuffled(emails.flatMap((email) => Array.from({ length: USES }, () => email)));
    const known = asked(accounts);
    const unknown = asked(accounts.map((_, i) => `nobody-${run}-${i}@timing.example.com`));
    for (let i = 0; i < 20; i++) await timedReset(`warm-up-${run}-${i}@timing.example.com`);
    const order = shuffled([...Array.from({ length: PER_CLASS }, () => true), ...Array.from({ length: PER_CLASS }, () => false)]);
    const times = { known: [] as number[], unknown: [] as number[] };
    for (const isKnown of order) {
      if (isKnown) times.known.push(await timedReset(known.pop() as string));
      else times.unknown.push(await timedReset(unknown.pop() as string));
    }
    const chance = separability(times.known, times.unknown);
    console.info(
      `reset timing over a socket: median ${median(times.known).toFixed(2)} ms with an account, ${median(times.unknown).toFixed(2)} ms without` +
        ` (${PER_CLASS} each); one request tells them apart with probability ${chance.toFixed(3)} (limit ${LIMIT})`,
    );
    expect(chance).toBeLessThanOrEqual(LIMIT);
  });
});
