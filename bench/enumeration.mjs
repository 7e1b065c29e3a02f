// `npm run bench:enumeration [-- --quick]`: whether `POST /auth/password-reset` tells, by its
// timing, an address that has an account from one that has none. The answer is the same by
// construction (202 before any data call, and test/worker/account-links.test.ts compares status,
// body and headers); after it, the request only queues the address for the mail dispatcher, which
// looks it up later (src/domain/mail/outbox.ts, queueReset). This measures what a caller can
// time: the service as production runs it (bench/workerd.mjs, the built bundle, embedded store,
// the dispatcher on the same thread as the requests), with a mail transport configured so a known
// address does all of its work (the SMTP server is a closed port on loopback: sends fail, as a
// real one's could).
//
// Requests go one at a time, known and unknown in pairs, the pair's order drawn at random, each
// from a client address of its own, each address asked at most 4 times (the per-address limit is
// 5 a minute). The two samples are compared with a Mann-Whitney U test: PASS when no difference
// is detectable (|z| < 3, p > 0.003) and the medians differ by less than the spread between two
// halves of the unknown sample itself (an A/A comparison: the noise floor).
import { randomBytes, randomInt } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { MAIL_TO_NOWHERE } from "../scripts/processes.ts";
import { bundleSize } from "./bundle.mjs";
import { inParallel } from "./load.mjs";
import { ROOT, startProduction, stopEverything } from "./processes.mjs";

const quick = process.argv.includes("--quick");
const PAIRS = quick ? 200 : 800;
const USES_PER_ADDRESS = 4;
const WARMUP = 40;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];

/** Mann-Whitney U, normal approximation with ties averaged: the z of sample `a` against `b`. */
const mannWhitneyZ = (a, b) => {
  const all = [...a.map((v) => ({ v, a: true })), ...b.map((v) => ({ v, a: false }))].sort((x, y) => x.v - y.v);
  let rankSumA = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1].v === all[i].v) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (all[k].a) rankSumA += rank;
    i = j + 1;
  }
  const u = rankSumA - (a.length * (a.length + 1)) / 2;
  const mean = (a.length * b.length) / 2;
  const sd = Math.sqrt((a.length * b.length * (a.length + b.length + 1)) / 12);
  return (u - mean) / sd;
};

const randomIp = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

const main = async () => {
  console.log(`bench:enumeration: ${quick ? "quick" : "full"} run, ${PAIRS} pairs, load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores`);
  const size = await bundleSize();
  const service = await startProduction(
    "the service (workerd)",
    join(ROOT, "wrangler.toml"),
    join(size.outdir, "index.js"),
    {
      JWT_SECRET: randomBytes(32).toString("hex"),
      PBKDF2_ITERATIONS: "10000",
      ...MAIL_TO_NOWHERE,
    },
    "/health",
  );
  const post = async (path, body) => {
    const started = performance.now();
    const res = await fetch(`${service.origin}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "cf-connecting-ip": randomIp() },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { ms: performance.now() - started, status: res.status, text };
  };

  const addresses = Math.ceil(PAIRS / USES_PER_ADDRESS) + Math.ceil(WARMUP / USES_PER_ADDRESS);
  const run = Date.now().toString(36);
  const known = Array.from({ length: addresses }, (_, i) => `known-${run}-${i}@bench.example.com`);
  const unknown = Array.from({ length: addresses }, (_, i) => `nobody-${run}-${i}@bench.example.com`);
  await inParallel(known, 2, async (email, i) => {
    const made = await post("/org/create", { organization_name: `Enum ${run} ${i}`, email, password: "Bench-pass-1" });
    if (made.status !== 200) throw new Error(`creating ${email}: ${made.status} ${made.text.slice(0, 200)}`);
  });

  const samples = { known: [], unknown: [] };
  const answers = new Set();
  for (let i = 0; i < WARMUP + PAIRS; i++) {
    const slot = Math.floor(i / USES_PER_ADDRESS);
    const pair = [
      ["known", known[slot]],
      ["unknown", unknown[slot]],
    ];
    if (randomInt(2)) pair.reverse();
    for (const [kind, email] of pair) {
      const { ms, status, text } = await post("/auth/password-reset", { email });
      answers.add(`${status} ${text}`);
      if (i >= WARMUP) samples[kind].push(ms);
    }
  }
  await stopEverything();

  const z = mannWhitneyZ(samples.known, samples.unknown);
  const shuffled = [...samples.unknown];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  const halves = [shuffled.filter((_, i) => i % 2 === 0), shuffled.filter((_, i) => i % 2 === 1)];
  const noise = Math.abs(median(halves[0]) - median(halves[1]));
  const difference = Math.abs(median(samples.known) - median(samples.unknown));
  const row = (name, values) =>
    `  ${name.padEnd(10)} median ${median(values).toFixed(3)} ms   p10 ${percentile(values, 0.1).toFixed(3)}   p90 ${percentile(values, 0.9).toFixed(3)}   n=${values.length}`;
  console.log("\nPOST /auth/password-reset, one request at a time (workerd, embedded store, SMTP configured)");
  console.log(row("known", samples.known));
  console.log(row("unknown", samples.unknown));
  console.log(`  answers seen: ${[...answers].join(" | ")}`);
  const sameAnswer = answers.size === 1 && [...answers][0].startsWith("202 ");
  const indistinct = Math.abs(z) < 3;
  const withinNoise = difference <= Math.max(noise, 0.05);
  const verdict = (ok) => (ok ? "PASS" : "FAIL");
  console.log(`\n  one answer for both (202, the same body)                     ${verdict(sameAnswer)}`);
  console.log(`  Mann-Whitney z = ${z.toFixed(2)} (|z| < 3: no detectable difference)       ${verdict(indistinct)}`);
  console.log(`  medians differ by ${difference.toFixed(3)} ms; A/A noise ${noise.toFixed(3)} ms (floor 0.050)      ${verdict(withinNoise)}`);
  if (!(sameAnswer && indistinct && withinNoise)) process.exitCode = 1;
};

main().catch(async (error) => {
  console.error(error);
  await stopEverything();
  process.exit(1);
});
