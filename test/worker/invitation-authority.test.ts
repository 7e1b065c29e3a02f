import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { INVITATIONS } from "../../src/domain/invitations/invitations";
import { ERRORS } from "../../src/domain/kernel/errors";
import { bearer, call, createOrg, invite, join, loginToken, patchJson, postJson, storeClient, uniqueName, useOwnDatabase } from "../helpers";
import { fillInvitations, freshEmail, inviteLimited, MAX_PENDING_INVITATIONS, SLOW } from "./invitation-limit";

/**
 * An invitation is only as good as its inviter's authority at the moment it is accepted: a removed
 * or demoted inviter's invitations admit nobody, are not listed, and give way to new ones. And the
 * pending invitations of an organization are bounded, expired ones giving their place up; token
 * guesses are throttled per client address.
 */
const database = useOwnDatabase("invitation_authority");

const listed = async (token: string) =>
  ((await (await call("/org/invitations", { headers: bearer(token) })).json()) as { invitations: { email: string }[] }).invitations;

const memberCount = async (token: string) => ((await (await call("/org/members", { headers: bearer(token) })).json()) as { members: unknown[] }).members.length;

const remove = (token: string, userId: string) => call(`/org/members/${userId}`, { method: "DELETE", headers: bearer(token) });

describe("an invitation whose inviter lost the authority to invite", () => {
  it(
    "a removed admin's invitation admits nobody, themselves included",
    async () => {
      const org = await createOrg(uniqueName("Removed"));
      const owner = await loginToken(org.email, org.password);
      const admin = await join(owner, "admin");
      // The admin prepares a way back for themselves under a second address, and one for a friend.
      const comeback = await invite(admin.token, freshEmail("comeback"), "admin");
      const friend = await invite(admin.token, freshEmail("friend"), "member");
      expect((await remove(owner, admin.userId)).status).toBe(200);
      const accepted = await postJson("/invitations/accept", { token: comeback.token, password: "Comeback-1234" });
      expect(accepted.status).toBe(410);
      expect(await accepted.json()).toEqual({ detail: ERRORS.INVITATION_INVALID.message });
      expect((await postJson("/invitations/accept", { token: friend.token, password: "Friend-1234" })).status).toBe(410);
      // The refused invitation went: the same token stays refused.
      expect((await postJson("/invitations/accept", { token: comeback.token, password: "Comeback-1234" })).status).toBe(410);
      expect(await memberCount(owner)).toBe(1);
    },
    SLOW,
  );

  it(
    "a demoted inviter's invitations admit nobody: an admin made member, an owner made admin inviting an owner",
    async () => {
      const org = await createOrg(uniqueName("Demoted"));
      const owner = await loginToken(org.email, org.password);
      const admin = await join(owner, "admin");
      const second = await join(owner, "owner");
      const byAdmin = await invite(admin.token, freshEmail("byadmin"), "admin");
      const byOwner = await invite(second.token, freshEmail("byowner"), "owner");
      const memberByOwner = await invite(second.token, freshEmail("memberbyowner"), "member");
      expect((await patchJson(`/org/members/${admin.userId}`, { role: "member" }, bearer(owner))).status).toBe(200);
      expect((await patchJson(`/org/members/${second.userId}`, { role: "admin" }, bearer(owner))).status).toBe(200);
      expect((await postJson("/invitations/accept", { token: byAdmin.token, password: "Joiner-1234" })).status).toBe(410);
      expect((await postJson("/invitations/accept", { token: byOwner.token, password: "Joiner-1234" })).status).toBe(410);
      // An admin may still invite a member: that invitation stands.
      expect((await postJson("/invitations/accept", { token: memberByOwner.token, password: "Joiner-1234" })).status).toBe(200);
      expect(await memberCount(owner)).toBe(4);
    },
    SLOW,
  );

  it(
    "is not listed, and a new invitation for the same e-mail replaces it",
    async () => {
      const org = await createOrg(uniqueName("Replace"));
      const owner = await loginToken(org.email, org.password);
      const admin = await join(owner, "admin");
      const email = freshEmail("replaced");
      const dead = await invite(admin.token, email, "member");
      const kept = await invite(owner, freshEmail("kept"), "member");
      expect((await listed(owner)).map((i) => i.email).sort()).toEqual([email, kept.email].sort());
      expect((await remove(owner, admin.userId)).status).toBe(200);
      expect((await listed(owner)).map((i) => i.email)).toEqual([kept.email]);
      const fresh = await postJson("/org/invitations", { email, role: "member" }, bearer(owner));
      expect(fresh.status).toBe(201);
      const { token } = (await fresh.json()) as { token: string };
      expect((await postJson("/invitations/accept", { token: dead.token, password: "Joiner-1234" })).status).toBe(410);
      expect((await postJson("/invitations/accept", { token, password: "Joiner-1234" })).status).toBe(200);
    },
    SLOW,
  );
});

describe("the pending invitation limit", () => {
  it(
    "is answered with its own 409, and expired or dead invitations give their places up",
    async () => {
      const org = await createOrg(uniqueName("Limit"));
      const owner = await loginToken(org.email, org.password);
      const admin = await join(owner, "admin");
      const byAdmin = await Promise.all(Array.from({ length: 5 }, () => inviteLimited(admin.token, freshEmail("byadmin"))));
      await fillInvitations(owner, MAX_PENDING_INVITATIONS - byAdmin.length);
      const over = await inviteLimited(owner, freshEmail("over"));
      expect(over.status).toBe(409);
      expect(await over.json()).toEqual({ detail: ERRORS.INVITATION_LIMIT.message });
      // One of the owner's expires: its place goes to the next invitation.
      const { invitations } = (await (await call("/org/invitations", { headers: bearer(owner) })).json()) as { invitations: { id: string }[] };
      const expiring = invitations.at(-1) as { id: string };
      await storeClient(database)
        .collection(INVITATIONS)
        .updateOne({ _id: new ObjectId(expiring.id) }, { $set: { expires_at: new Date(Date.now() - 1000) } });
      expect((await inviteLimited(owner, freshEmail("after-expiry"))).status).toBe(201);
      expect((await inviteLimited(owner, freshEmail("still-over"))).status).toBe(409);
      // The admin is removed: their five invitations are dead and give their places up.
      expect((await remove(owner, admin.userId)).status).toBe(200);
      const after = await Promise.all(Array.from({ length: 6 }, () => inviteLimited(owner, freshEmail("after-removal"))));
      expect(after.map((r) => r.status).sort()).toEqual([201, 201, 201, 201, 201, 409]);
      expect(await listed(owner)).toHaveLength(MAX_PENDING_INVITATIONS);
    },
    SLOW,
  );
});

describe("invitation token guesses", () => {
  it(
    "are throttled per client address, before the token is looked up",
    async () => {
      const ip = { "cf-connecting-ip": "203.0.113.91" };
      const statuses: number[] = [];
      // The limiter counts in fixed windows of a minute: 201 quick guesses put more than 100 into one.
      while (statuses.length < 201 && !statuses.includes(429)) {
        const batch = await Promise.all(
          Array.from({ length: 10 }, (_, k) => postJson("/invitations/accept", { token: `guess-${statuses.length + k}`, password: "Guess-1234" }, ip)),
        );
        statuses.push(...batch.map((r) => r.status));
      }
      expect(statuses).toContain(429);
      expect(statuses.indexOf(429)).toBeGreaterThanOrEqual(100);
      expect(statuses.filter((s) => s !== 429).every((s) => s === 410)).toBe(true);
      const other = await postJson("/invitations/accept", { token: "guess-elsewhere", password: "Guess-1234" }, { "cf-connecting-ip": "203.0.113.92" });
      expect(other.status).toBe(410);
    },
    SLOW,
  );

  it(
    "an accept that also checks a password is counted once",
    async () => {
      const org = await createOrg(uniqueName("CountedOnce"));
      const owner = await loginToken(org.email, org.password);
      const ip = { "cf-connecting-ip": "203.0.113.93" };
      const invitations: { token: string }[] = [];
      for (let batch = 0; batch < 6; batch++) invitations.push(...(await Promise.all(Array.from({ length: 10 }, () => invite(owner, freshEmail("once"))))));
      // Each accept checks its password (a new account's, as a login would): 60 at once stay within
      // the 100 a minute, which 120 counts would not.
      const accepts = await Promise.all(invitations.map((i) => postJson("/invitations/accept", { token: i.token, password: "Joiner-1234" }, ip)));
      const statuses = accepts.map((r) => r.status);
      expect(statuses).not.toContain(429);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    },
    SLOW,
  );
});
