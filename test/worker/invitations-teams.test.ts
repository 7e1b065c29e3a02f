// Invitations beyond the built-in ladder: a member whose `member:invite` comes from a role of the
// organization's own invites members (never more than they hold), and an invitation may name teams
// the invitee joins on accepting. Both are checked again at the accept, in the update that adds
// the member, whatever changed in between.
import { describe, expect, it } from "vitest";
import { ERRORS } from "../../src/domain/kernel/errors";
import { ORGANIZATIONS, type OrganizationDoc } from "../../src/domain/kernel/model";
import type { Permission } from "../../src/domain/kernel/roles";
import { bearer, call, createOrg, env, join, loginToken, patchJson, postJson, storeClient, uniqueName, useOwnDatabase } from "../helpers";

useOwnDatabase("invitations_teams");

const organizations = () => storeClient(env.DATABASE ?? "master_db").collection<OrganizationDoc>(ORGANIZATIONS);
const stored = async (name: string) => (await organizations().findOne({ organization_name: name })) as OrganizationDoc;
const del = (path: string, token: string) => call(path, { method: "DELETE", headers: bearer(token) });
const detail = async (res: Response) => ((await res.json()) as { detail: unknown }).detail;
const freshEmail = (prefix: string) =>
  `${prefix}+${uniqueName("i")
    .replace(/[^a-z0-9]/gi, "")
    .toLowerCase()}@example.com`;

const MEMBER_PERMISSIONS: Permission[] = ["member:read", "records:read", "records:write"];

const organization = async () => {
  const org = await createOrg(uniqueName("Invites"));
  return { org, owner: await loginToken(org.email, org.password) };
};

const defineRole = async (token: string, name: string, permissions: readonly Permission[]) => {
  const res = await postJson("/org/roles", { name, permissions }, bearer(token));
  expect(res.status, await res.clone().text()).toBe(201);
};

/** A member holding exactly `roles`, signed in after being given them. */
const holder = async (owner: string, roles: string[]) => {
  const member = await join(owner);
  const res = await patchJson(`/org/members/${member.userId}`, { roles }, bearer(owner));
  expect(res.status, await res.clone().text()).toBe(200);
  return { ...member, token: await loginToken(member.email, member.password) };
};

const createTeam = async (token: string, name: string) => {
  const res = await postJson("/org/teams", { name }, bearer(token));
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { id: string }).id;
};

const inviteWith = (token: string, body: Record<string, unknown>) => postJson("/org/invitations", body, bearer(token));

const accept = async (token: string) => {
  const res = await postJson("/invitations/accept", { token, password: "Joiner-1234" });
  return { status: res.status, body: (await res.json()) as { access_token?: string; detail?: string } };
};

const userIdOf = (token: string) => (JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as { admin_id: string }).admin_id;

/** Every team membership names a team that exists, and every member is whole. */
const expectConsistent = (org: OrganizationDoc) => {
  for (const member of Object.values(org.members)) {
    expect(member.email, JSON.stringify(member)).toEqual(expect.any(String));
    for (const teamId of Object.keys(member.teams ?? {})) expect(org.teams?.[teamId], `${member.email} in ${teamId}`).toBeDefined();
  }
};

describe("inviting by a role of the organization's own", () => {
  it("a recruiter invites members, never admins, and only while holding everything a member may do", async () => {
    const { org, owner } = await organization();
    await defineRole(owner, "recruiter", ["member:invite", ...MEMBER_PERMISSIONS]);
    await defineRole(owner, "scout", ["member:invite"]);
    const recruiter = await holder(owner, ["recruiter"]);
    const scout = await holder(owner, ["scout"]);

    const invited = await inviteWith(recruiter.token, { email: freshEmail("hire"), role: "member" });
    expect(invited.status, await invited.clone().text()).toBe(201);
    const joined = await accept(((await invited.json()) as { token: string }).token);
    expect(joined.status).toBe(200);
    expect((await stored(org.name)).members[userIdOf(joined.body.access_token as string)]?.role).toBe("member");

    // An admin is an owner's or admin's to make; a scout holds less than a member may do.
    for (const res of [
      await inviteWith(recruiter.token, { email: freshEmail("boss"), role: "admin" }),
      await inviteWith(scout.token, { email: freshEmail("hire"), role: "member" }),
    ]) {
      expect(res.status).toBe(403);
      expect(await detail(res)).toBe(ERRORS.PERMISSION_DENIED.message);
    }
    // The scout, a member besides, holds what a member may do.
    expect((await patchJson(`/org/members/${scout.userId}`, { roles: ["member", "scout"] }, bearer(owner))).status).toBe(200);
    const scoutAgain = await loginToken(scout.email, scout.password);
    expect((await inviteWith(scoutAgain, { email: freshEmail("hire"), role: "member" })).status).toBe(201);
    // And the recruiter's invitations are listed, as any other.
    const listed = (await (await call("/org/invitations", { headers: bearer(recruiter.token) })).json()) as { invitations: unknown[] };
    expect(listed.invitations).toHaveLength(1);
  });

  it("an invitation stops admitting anyone once its inviter's role no longer gives the right to invite", async () => {
    const { owner } = await organization();
    await defineRole(owner, "recruiter", ["member:invite", ...MEMBER_PERMISSIONS]);
    const recruiter = await holder(owner, ["recruiter"]);
    const first = (await (await inviteWith(recruiter.token, { email: freshEmail("a"), role: "member" })).json()) as { token: string };
    const second = (await (await inviteWith(recruiter.token, { email: freshEmail("b"), role: "member" })).json()) as { token: string };

    // The role loses records:write: its holders no longer hold all a member may do.
    expect((await patchJson("/org/roles/recruiter", { permissions: ["member:invite", "member:read", "records:read"] }, bearer(owner))).status).toBe(200);
    const pending = async () => ((await (await call("/org/invitations", { headers: bearer(owner) })).json()) as { invitations: unknown[] }).invitations;
    // Dead while the role says so: not listed, and refused (the refused one goes).
    expect(await pending()).toHaveLength(0);
    expect(await accept(first.token)).toEqual({ status: 410, body: { detail: ERRORS.INVITATION_INVALID.message } });

    // Given back, the invitation still pending is listed and admits again.
    expect((await patchJson("/org/roles/recruiter", { permissions: ["member:invite", ...MEMBER_PERMISSIONS] }, bearer(owner))).status).toBe(200);
    expect(await pending()).toHaveLength(1);
    expect((await accept(second.token)).status).toBe(200);
  });
});

describe("invitations that name teams", () => {
  it("the invitee joins the named teams as a plain member, with an event for each", async () => {
    const { org, owner } = await organization();
    const finance = await createTeam(owner, "Finance");
    const support = await createTeam(owner, "Support");
    const invited = await inviteWith(owner, { email: freshEmail("t"), role: "member", teams: [finance, support, finance] });
    expect(invited.status, await invited.clone().text()).toBe(201);
    const invitation = (await invited.json()) as { token: string; teams: string[] };
    expect(invitation.teams.sort()).toEqual([finance, support].sort());

    const joined = await accept(invitation.token);
    expect(joined.status).toBe(200);
    const userId = userIdOf(joined.body.access_token as string);
    const members = (await (await call("/org/members", { headers: bearer(owner) })).json()) as {
      members: { user_id: string; teams: { id: string; role: string }[] }[];
    };
    expect(members.members.find((m) => m.user_id === userId)?.teams.sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(
      [
        { id: finance, role: "member" },
        { id: support, role: "member" },
      ].sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
    const events = (await (await call("/org/events?limit=100", { headers: bearer(owner) })).json()) as {
      events: { type: string; data: Record<string, unknown> }[];
    };
    const added = events.events.filter((event) => event.type === "team.member_added" && event.data.user_id === userId);
    expect(added.map((event) => event.data.team_id).sort()).toEqual([finance, support].sort());
    expectConsistent(await stored(org.name));
  });

  it("a team deleted before the accept is left out; the invitee still joins", async () => {
    const { org, owner } = await organization();
    const kept = await createTeam(owner, "Kept");
    const gone = await createTeam(owner, "Gone");
    const invitation = (await (await inviteWith(owner, { email: freshEmail("t"), role: "member", teams: [kept, gone] })).json()) as { token: string };
    expect((await del(`/org/teams/${gone}`, owner)).status).toBe(200);
    const joined = await accept(invitation.token);
    expect(joined.status).toBe(200);
    const doc = await stored(org.name);
    expect(doc.members[userIdOf(joined.body.access_token as string)]?.teams).toEqual({ [kept]: "member" });
    expectConsistent(doc);
  });

  it("names only teams the inviter may fill: a lead their own, with a clear 4xx for the rest, and nothing stored", async () => {
    const { org, owner } = await organization();
    await defineRole(owner, "recruiter", ["member:invite"]);
    const mine = await createTeam(owner, "Mine");
    const theirs = await createTeam(owner, "Theirs");
    const lead = await holder(owner, ["member", "recruiter"]);
    expect((await postJson(`/org/teams/${mine}/members`, { user_id: lead.userId, role: "lead" }, bearer(owner))).status).toBe(200);

    const before = await stored(org.name);
    for (const [body, status, error] of [
      [{ email: freshEmail("x"), role: "member", teams: [theirs] }, 403, ERRORS.PERMISSION_DENIED.message],
      [{ email: freshEmail("x"), role: "member", teams: [mine, theirs] }, 403, ERRORS.PERMISSION_DENIED.message],
      [{ email: freshEmail("x"), role: "member", teams: ["6650f1c2e8b3e4a0123456cc"] }, 404, ERRORS.TEAM_NOT_FOUND.message],
    ] as const) {
      const res = await inviteWith(lead.token, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(await detail(res)).toBe(error);
    }
    for (const teams of [["not-an-id"], "x", Array.from({ length: 101 }, () => mine)]) {
      expect((await inviteWith(lead.token, { email: freshEmail("x"), role: "member", teams })).status, JSON.stringify(teams)).toBe(422);
    }
    const listed = (await (await call("/org/invitations", { headers: bearer(owner) })).json()) as { invitations: unknown[] };
    expect(listed.invitations).toEqual([]);
    expect((await stored(org.name)).teams_rev).toEqual(before.teams_rev);

    // Their own team: accepted, and the accept checks the lead again.
    const ok = (await (await inviteWith(lead.token, { email: freshEmail("y"), role: "member", teams: [mine] })).json()) as { token: string };
    const demoted = (await (await inviteWith(lead.token, { email: freshEmail("z"), role: "member", teams: [mine] })).json()) as { token: string };
    const joined = await accept(ok.token);
    expect(joined.status).toBe(200);
    expect((await stored(org.name)).members[userIdOf(joined.body.access_token as string)]?.teams).toEqual({ [mine]: "member" });
    // No longer its lead: the invitee joins the organization, not the team.
    expect((await postJson(`/org/teams/${mine}/members`, { user_id: lead.userId, role: "member" }, bearer(owner))).status).toBe(200);
    const later = await accept(demoted.token);
    expect(later.status).toBe(200);
    expect((await stored(org.name)).members[userIdOf(later.body.access_token as string)]?.teams).toBeUndefined();
  });

  it("races: teams deleted while invitees accept into them leave no membership of a team that is gone", async () => {
    const { org, owner } = await organization();
    const teams = await Promise.all(["A", "B", "C"].map((name) => createTeam(owner, name)));
    const invitations = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const res = await inviteWith(owner, { email: freshEmail(`r${i}`), role: "member", teams: [teams[i % 3], teams[(i + 1) % 3]] });
        expect(res.status).toBe(201);
        return ((await res.json()) as { token: string }).token;
      }),
    );
    const results = await Promise.all([
      ...invitations.map((token) => accept(token)),
      del(`/org/teams/${teams[0]}`, owner),
      del(`/org/teams/${teams[1]}`, owner),
    ]);
    for (const result of results.slice(0, invitations.length)) expect((result as { status: number }).status).toBe(200);
    for (const result of results.slice(invitations.length)) expect([200, 409]).toContain((result as Response).status);
    const doc = await stored(org.name);
    expect(Object.keys(doc.members)).toHaveLength(7);
    expectConsistent(doc);
  });
});
