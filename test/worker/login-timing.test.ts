import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { createOrg, env, uniqueName, useOwnDatabase } from "../helpers";
import { median, randomIp, separability, shuffled } from "../timing";

// Hundreds of counters and organizations of its own: a database of this file's own (see useOwnDatabase).
useOwnDatabase("timing");

/**
 * Samples per class: the AUC's spread is then about 0.020. Before the refusal beat, FerretDB showed
 * a small difference (0.50 to 0.61, about 0.54 on average), which 400 kept three spreads from the
 * limit; with the beat, the samples lie within a few milliseconds of one beat for both classes.
 */
const PER_CLASS = 400;
/** Wrong passwords per account: below the lockout threshold (10), so no sample is a 429. */
const USES = 4;
const LIMIT = 0.6;

/** The Worker as deployed: the refusal beat at its default (the suites turn it off, vitest.config.ts). */
const { LOGIN_FAILURE_BEAT_MS: _off, ...asDeployed } = env as typeof env & { LOGIN_FAILURE_BEAT_MS?: string };

/**
 * The time from sending a wrong-password login to reading its whole answer, as a client would
 * see it. The after-answer work (the audit write, the failure's report) is waited for before the
 * next sample, so each sample is one attempt's own time.
 */
const timedFailure = async (email: string): Promise<number> => {
  const ctx = createExecutionContext();
  const request = new Request("https://org.example/admin/login", {
    method: "POST",
    headers: { "content-type": "application/json", "cf-connecting-ip": randomIp() },
    body: JSON.stringify({ email, password: "not-the-password" }),
  });
  const started = performance.now();
  const res = await worker.fetch(request as Parameters<typeof worker.fetch>[0], asDeployed as typeof env, ctx);
  const body = await res.text();
  const took = performance.now() - started;
  expect(res.status, body).toBe(401);
  await waitOnExecutionContext(ctx);
  return took;
};

describe("login timing", () => {
  it("does not tell an e-mail with an account from one without, by a wrong password's answer time", { timeout: 180_000 }, async () => {
    const accounts: string[] = [];
    for (let batch = 0; batch < PER_CLASS / USES; batch += 5) {
      const made = await Promise.all(Array.from({ length: Math.min(5, PER_CLASS / USES - batch) }, () => createOrg(uniqueName("Timing"))));
      accounts.push(...made.map((org) => org.email));
    }
    // Each known e-mail a few times, and a fresh unknown one every time, as a caller probing a list would.
    const known = shuffled(accounts.flatMap((email) => Array.from({ length: USES }, () => email)));
    let fresh = 0;
    const unknownEmail = () =>
      `nobody+${uniqueName("t")
        .replace(/[^a-z0-9]/gi, "")
        .toLowerCase()}${fresh++}@example.com`;
    // Warm both paths up (compilation, the store's statement cache) before anything is counted.
    for (let i = 0; i < 5; i++) {
      await timedFailure(unknownEmail());
      await timedFailure(accounts[accounts.length - 1 - i] as string);
    }
    // Interleaved in random order, so drift and the other files' load fall on both alike.
    const order = shuffled([...Array.from({ length: PER_CLASS }, () => true), ...Array.from({ length: PER_CLASS }, () => false)]);
    const times = { known: [] as number[], unknown: [] as number[] };
    for (const isKnown of order) {
      if (isKnown) times.known.push(await timedFailure(known.pop() as string));
      else times.unknown.push(await timedFailure(unknownEmail()));
    }
    const chance = separability(times.known, times.unknown);
    console.info(
      `login timing: median ${median(times.known).toFixed(1)} ms with an account, ${median(times.unknown).toFixed(1)} ms without` +
        ` (${PER_CLASS} each); one attempt tells them apart with probability ${chance.toFixed(3)} (limit ${LIMIT})`,
    );
    expect(chance).toBeLessThanOrEqual(LIMIT);
  });
});
