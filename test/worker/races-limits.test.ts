import { describe, expect, it } from "vitest";
import { ERRORS } from "../../src/domain/kernel/errors";
import { MAX_WEBHOOKS } from "../../src/domain/webhooks/endpoints";
import { bearer, call, createOrg, env, invite, join, loginToken, postJson, uniqueName, useOwnDatabase } from "../helpers";
import { fillInvitations, freshEmail, inviteLimited, MAX_PENDING_INVITATIONS, SLOW } from "./invitation-limit";

/**
 * Per-organization limits under concurrency, on whichever store the Worker is configured with: a
 * limit is held by the store (each document takes one of its organization's slots, a unique
 * index), so no burst of parallel creates passes it, and the listings show everything that exists.
 * And an invitation created while its inviter is being removed never lets anyone in.
 */
useOwnDatabase("limits");

/** Never delivered anywhere: subscribed to an event these tests do not cause. */
const hook = (i: number) => ({ url: `https://hooks.example.com/limit-${i}`, events: ["webhook.disabled"] });

const statusCounts = (statuses: number[]) => Object.fromEntries([...new Set(statuses)].map((s) => [s, statuses.filter((t) => t === s).length]));

const report = (race: string, statuses: number[]) =>
  console.info(`race ${race}: store=${env.DATA_API_URL ? "gateway" : "embedded"} statuses=${JSON.stringify(statusCounts(statuses))}`);

const delayed = <T>(ms: number, start: () => Promise<T>): Promise<T> => new Promise((resolve) => setTimeout(resolve, ms)).then(start);

/**
 * Sends the burst, then again each request the store answered 503 (it sheds load past its budget;
 * FerretDB behind the gateway takes writes one at a time), as a client retries, until none is left.
 */
const settle = async (send: (i: number) => Promise<Response>, count: number): Promise<Response[]> => {
  const answers = await Promise.all(Array.from({ length: count }, (_, i) => send(i)));
  for (let round = 0; round < 5 && answers.some((r) => r.status === 503); round++) {
    const retried = answers.flatMap((r, i) => (r.status === 503 ? [i] : []));
    const again = await Promise.all(retried.map((i) => send(i)));
    retried.forEach((i, k) => {
      answers[i] = again[k] as Response;
    });
  }
  return answers;
};

describe("the webhook endpoint limit under parallel creates", () => {
  it.each([30, 100])(
    "%i parallel registrations: exactly the limit succeed, the rest are refused, the listing shows them all",
    async (parallel) => {
      const org = await createOrg(uniqueName("HookRace"));
      const owner = await loginToken(org.email, org.password);
      const answers = await settle((i) => postJson("/org/webhooks", hook(i), bearer(owner)), parallel);
      const statuses = answers.map((r) => r.status);
      report(`webhooks x${parallel}`, statuses);
      expect(statuses.filter((s) => s === 201)).toHaveLength(MAX_WEBHOOKS);
      expect(statuses.filter((s) => s === 409)).toHaveLength(parallel - MAX_WEBHOOKS);
      const refusals = await Promise.all(answers.filter((r) => r.status === 409).map((r) => r.json()));
      expect(refusals.every((body) => (body as { detail: string }).detail === ERRORS.WEBHOOK_LIMIT.message)).toBe(true);
      const listed = (await (await call("/org/webhooks", { headers: bearer(owner) })).json()) as { webhooks: { id: string }[] };
      const created = await Promise.all(answers.filter((r) => r.status === 201).map(async (r) => ((await r.json()) as { id: string }).id));
      expect(listed.webhooks.map((w) => w.id).sort()).toEqual(created.sort());
    },
    SLOW,
  );

  it(
    "a deleted endpoint's place is free again once it is gone",
    async () => {
      const org = await createOrg(uniqueName("HookFree"));
      const owner = await loginToken(org.email, org.password);
      const answers = await Promise.all(Array.from({ length: MAX_WEBHOOKS + 2 }, (_, i) => postJson("/org/webhooks", hook(i), bearer(owner))));
      const first = answers.find((r) => r.status === 201) as Response;
      const { id } = (await first.json()) as { id: string };
      expect((await call(`/org/webhooks/${id}`, { method: "DELETE", headers: bearer(owner) })).status).toBe(200);
      const again = await Promise.all([0, 1, 2].map((i) => postJson("/org/webhooks", hook(100 + i), bearer(owner))));
      expect(again.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    },
    SLOW,
  );
});

describe("the pending invitation limit under parallel creates", () => {
  it(
    "40 parallel invitations for the last 10 places: exactly 10 succeed, the rest are refused, the listing shows them all",
    async () => {
      const org = await createOrg(uniqueName("InviteRace"));
      const owner = await loginToken(org.email, org.password);
      // Filled to ten short of the limit in small batches, then the race is for the last places.
      await fillInvitations(owner, MAX_PENDING_INVITATIONS - 10);
      const emails = Array.from({ length: 40 }, () => freshEmail("limit"));
      const answers = await settle((i) => inviteLimited(owner, emails[i] as string), emails.length);
      const statuses = answers.map((r) => r.status);
      report("invitations x40 at the limit", statuses);
      expect(statuses.filter((s) => s === 201)).toHaveLength(10);
      expect(statuses.filter((s) => s === 409)).toHaveLength(30);
      const refusals = await Promise.all(answers.filter((r) => r.status === 409).map((r) => r.json()));
      expect(refusals.every((body) => (body as { detail: string }).detail === ERRORS.INVITATION_LIMIT.message)).toBe(true);
      const listed = (await (await call("/org/invitations", { headers: bearer(owner) })).json()) as { invitations: unknown[] };
      expect(listed.invitations).toHaveLength(MAX_PENDING_INVITATIONS);
    },
    SLOW,
  );
});

describe("an invitation created while its inviter is removed", () => {
  it(
    "never admits anyone, and is not listed",
    async () => {
      const org = await createOrg(uniqueName("InviteRemoval"));
      const owner = await loginToken(org.email, org.password);
      const admin = await join(owner, "admin");
      // Creates spread over some milliseconds, the removal among them: some land before it, some are refused after, some in between.
      const creates = Array.from({ length: 16 }, (_, i) =>
        delayed(i * 4, () => postJson("/org/invitations", { email: freshEmail("racer"), role: "admin" }, bearer(admin.token))),
      );
      const removal = delayed(20, () => call(`/org/members/${admin.userId}`, { method: "DELETE", headers: bearer(owner) }));
      const [removed, ...answers] = await Promise.all([removal, ...creates]);
      expect(removed.status).toBe(200);
      const statuses = answers.map((r) => r.status);
      report("invite during removal", statuses);
      const tokens = await Promise.all(answers.filter((r) => r.status === 201).map(async (r) => ((await r.json()) as { token: string }).token));
      const accepts = await Promise.all(tokens.map((token) => postJson("/invitations/accept", { token, password: "Racer-1234" })));
      expect(accepts.map((r) => r.status)).toEqual(tokens.map(() => 410));
      const listed = (await (await call("/org/invitations", { headers: bearer(owner) })).json()) as { invitations: unknown[] };
      expect(listed.invitations).toHaveLength(0);
      const members = (await (await call("/org/members", { headers: bearer(owner) })).json()) as { members: unknown[] };
      expect(members.members).toHaveLength(1);
    },
    SLOW,
  );

  it(
    "an accept racing the inviter's removal either lands before it or is refused",
    async () => {
      const org = await createOrg(uniqueName("AcceptRemoval"));
      const owner = await loginToken(org.email, org.password);
      const admin = await join(owner, "admin");
      const invitations = await Promise.all(Array.from({ length: 8 }, () => invite(admin.token, freshEmail("joiner"), "member")));
      const removal = delayed(15, () => call(`/org/members/${admin.userId}`, { method: "DELETE", headers: bearer(owner) }));
      const [removed, ...accepts] = await Promise.all([
        removal,
        ...invitations.map((i, n) => delayed(n * 5, () => postJson("/invitations/accept", { token: i.token, password: "Joiner-1234" }))),
      ]);
      expect(removed.status).toBe(200);
      const statuses = accepts.map((r) => r.status);
      report("accept during removal", statuses);
      expect(statuses.every((s) => s === 200 || s === 410)).toBe(true);
      const members = (await (await call("/org/members", { headers: bearer(owner) })).json()) as { members: unknown[] };
      // The owner and those admitted before the removal; the inviter is gone.
      expect(members.members).toHaveLength(1 + statuses.filter((s) => s === 200).length);
    },
    SLOW,
  );
});
