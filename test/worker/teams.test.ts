// Teams: created and named by whoever holds team:manage, filled with members of the organization,
// each a lead or a plain member; a lead runs their own team's membership and nothing else. A team
// lives in its organization's document and its memberships on the members, so removing a member,
// deleting a team or the organization leaves no trace of either, whatever runs beside it.
import { describe, expect, it } from "vitest";
import { ERRORS } from "../../src/domain/kernel/errors";
import { ORGANIZATIONS, type OrganizationDoc } from "../../src/domain/kernel/model";
import { bearer, call, createOrg, env, join, loginToken, patchJson, postJson, putJson, storeClient, uniqueName, useOwnDatabase } from "../helpers";

useOwnDatabase("teams");

const organizations = () => storeClient(env.DATABASE ?? "master_db").collection<OrganizationDoc>(ORGANIZATIONS);
const del = (path: string, token: string) => call(path, { method: "DELETE", headers: bearer(token) });
const detail = async (res: Response) => ((await res.json()) as { detail: unknown }).detail;
const claimsOf = (token: string) => JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
const stored = async (name: string) => (await organizations().findOne({ organization_name: name })) as OrganizationDoc;

interface Team {
  id: string;
  name: string;
  members: { user_id: string; role: string }[];
}

const createTeam = async (token: string, name: string) => {
  const res = await postJson("/org/teams", { name }, bearer(token));
  if (res.status !== 201) throw new Error(`team failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Team;
};

const addToTeam = (token: string, teamId: string, userId: string, role?: string) =>
  postJson(`/org/teams/${teamId}/members`, { user_id: userId, ...(role ? { role } : {}) }, bearer(token));

const organization = async () => {
  const org = await createOrg(uniqueName("Teams"));
  return { org, owner: await loginToken(org.email, org.password) };
};

/** Every team membership names a team that exists, and every member is whole. */
const expectConsistent = (org: OrganizationDoc) => {
  for (const member of Object.values(org.members)) {
    expect(member.email, JSON.stringify(member)).toEqual(expect.any(String));
    for (const teamId of Object.keys(member.teams ?? {})) expect(org.teams?.[teamId], `${member.email} in ${teamId}`).toBeDefined();
  }
};

describe("teams and their leads", () => {
  it("organizes members into teams; a lead adds and removes their own team's plain members, and nothing more", async () => {
    const { org, owner } = await organization();
    const finance = await createTeam(owner, "Finance");
    const support = await createTeam(owner, "Support");
    const lead = await join(owner);
    const alice = await join(owner);
    const bob = await join(owner);
    expect((await addToTeam(owner, finance.id, lead.userId, "lead")).status).toBe(200);

    // The lead, a plain member of the organization, runs the team's membership.
    const added = await addToTeam(lead.token, finance.id, alice.userId);
    expect(added.status).toBe(200);
    expect(((await added.json()) as Team).members.map((m) => [m.user_id, m.role]).sort()).toEqual(
      [
        [lead.userId, "lead"],
        [alice.userId, "member"],
      ].sort(),
    );
    expect((await del(`/org/teams/${finance.id}/members/${alice.userId}`, lead.token)).status).toBe(200);
    expect((await addToTeam(lead.token, finance.id, alice.userId)).status).toBe(200);

    // But makes no lead, touches no lead, runs no other team, and manages no team itself.
    for (const res of [
      await addToTeam(lead.token, finance.id, bob.userId, "lead"),
      await addToTeam(lead.token, support.id, bob.userId),
      await del(`/org/teams/${finance.id}/members/${lead.userId}`, lead.token),
      await postJson("/org/teams", { name: "Mine" }, bearer(lead.token)),
      await patchJson(`/org/teams/${finance.id}`, { name: "Renamed" }, bearer(lead.token)),
      await del(`/org/teams/${finance.id}`, lead.token),
      await addToTeam(alice.token, finance.id, bob.userId),
    ]) {
      expect(res.status).toBe(403);
      expect(await detail(res)).toBe(ERRORS.PERMISSION_DENIED.message);
    }

    // Only members of the organization join a team.
    const outsider = await createOrg(uniqueName("Outside"));
    const outsiderId = claimsOf(await loginToken(outsider.email, outsider.password)).admin_id as string;
    const refused = await addToTeam(owner, finance.id, outsiderId);
    expect(refused.status).toBe(404);
    expect(await detail(refused)).toBe(ERRORS.MEMBER_NOT_FOUND.message);
    expect((await addToTeam(owner, "ffffffffffffffffffffffff", alice.userId)).status).toBe(404);

    // The member list and the token show a member's teams.
    const members = (await (await call("/org/members", { headers: bearer(owner) })).json()) as { members: { user_id: string; teams: unknown }[] };
    expect(members.members.find((m) => m.user_id === lead.userId)?.teams).toEqual([{ id: finance.id, role: "lead" }]);
    expect(claimsOf(await loginToken(alice.email, alice.password)).teams).toEqual([finance.id]);

    const listed = (await (await call("/org/teams", { headers: bearer(alice.token) })).json()) as { teams: Team[] };
    expect(listed.teams.map((team) => team.name)).toEqual(["Finance", "Support"]);
    expectConsistent(await stored(org.name));
  });

  it("names are unique whatever their case; a bad body is a 422 that changes nothing", async () => {
    const { org, owner } = await organization();
    const team = await createTeam(owner, "Finance");
    const before = await stored(org.name);
    expect((await postJson("/org/teams", { name: "FINANCE" }, bearer(owner))).status).toBe(409);
    for (const body of [{}, { name: "" }, { name: "x".repeat(101) }, { name: "ok", extra: 1 }]) {
      expect((await postJson("/org/teams", body, bearer(owner))).status, JSON.stringify(body)).toBe(422);
    }
    expect((await addToTeam(owner, team.id, "not-an-id")).status).toBe(422);
    expect((await postJson(`/org/teams/${team.id}/members`, { user_id: before._id.toHexString(), role: "boss" }, bearer(owner))).status).toBe(422);
    expect((await stored(org.name)).teams).toEqual(before.teams);
    expect((await patchJson(`/org/teams/${team.id}`, { name: "Billing", description: "Invoices" }, bearer(owner))).status).toBe(200);
    expect((await stored(org.name)).teams?.[team.id]).toMatchObject({ name: "Billing", description: "Invoices" });
  });

  it("a custom role with team:manage manages teams; one without it does not", async () => {
    const { owner } = await organization();
    expect((await postJson("/org/roles", { name: "people", permissions: ["team:manage"] }, bearer(owner))).status).toBe(201);
    const manager = await join(owner);
    expect((await patchJson(`/org/members/${manager.userId}`, { roles: ["people"] }, bearer(owner))).status).toBe(200);
    const token = await loginToken(manager.email, manager.password);
    const team = await createTeam(token, "Ops");
    expect((await addToTeam(token, team.id, manager.userId, "lead")).status).toBe(200);
    expect((await patchJson("/org/roles/people", { permissions: ["records:read"] }, bearer(owner))).status).toBe(200);
    // Still the team's lead: their own team's plain members, not another team.
    expect((await postJson("/org/teams", { name: "Another" }, bearer(token))).status).toBe(403);
  });
});

describe("lifecycle", () => {
  it("removing a member takes them out of every team; deleting a team leaves no membership of it; a rename changes nothing", async () => {
    const { org, owner } = await organization();
    const a = await createTeam(owner, "A");
    const b = await createTeam(owner, "B");
    const member = await join(owner);
    const other = await join(owner);
    for (const team of [a, b]) {
      expect((await addToTeam(owner, team.id, member.userId)).status).toBe(200);
      expect((await addToTeam(owner, team.id, other.userId, "lead")).status).toBe(200);
    }
    const renamed = uniqueName("Renamed");
    expect((await putJson("/org/update", { organization_name: org.name, new_organization_name: renamed }, bearer(owner))).status).toBe(200);
    expect(Object.keys((await stored(renamed)).teams ?? {}).sort()).toEqual([a.id, b.id].sort());

    expect((await del(`/org/members/${member.userId}`, owner)).status).toBe(200);
    expect((await del(`/org/teams/${a.id}`, owner)).status).toBe(200);
    const doc = await stored(renamed);
    expect(doc.members[member.userId]).toBeUndefined();
    expect(doc.teams?.[a.id]).toBeUndefined();
    expect(doc.members[other.userId]?.teams).toEqual({ [b.id]: "lead" });
    expectConsistent(doc);

    await new Promise((resolve) => setTimeout(resolve, 100));
    const feed = (await (await call("/org/events?limit=100", { headers: bearer(owner) })).json()) as {
      events: { type: string; data: Record<string, unknown> }[];
    };
    const types = new Set(feed.events.map((event) => event.type));
    for (const type of ["team.created", "team.member_added", "team.deleted"]) expect(types.has(type), type).toBe(true);
    expect(feed.events.find((event) => event.type === "team.deleted")?.data).toEqual({ team_id: a.id, user_ids: [other.userId] });

    expect((await del(`/org/delete?organization_name=${encodeURIComponent(renamed)}`, owner)).status).toBe(200);
    expect(await organizations().findOne({ organization_name: renamed })).toBeNull();
  });
});

// Each round builds an organization and its members first; on the gateway over FerretDB, with the
// other suites beside it, a round takes seconds.
describe("races", { timeout: 180_000 }, () => {
  it("a team deleted while members are added, and a member removed while added to a team: never a membership of nothing", async () => {
    for (let round = 0; round < 5; round++) {
      const { org, owner } = await organization();
      const team = await createTeam(owner, "Doomed");
      const kept = await createTeam(owner, "Kept");
      const a = await join(owner);
      const b = await join(owner);
      const answers = await Promise.all([
        addToTeam(owner, team.id, a.userId),
        del(`/org/teams/${team.id}`, owner),
        addToTeam(owner, kept.id, b.userId),
        del(`/org/members/${b.userId}`, owner),
        addToTeam(owner, team.id, b.userId, "lead"),
      ]);
      for (const res of answers) expect(res.status, await res.clone().text()).toBeLessThan(500);
      const doc = await stored(org.name);
      expectConsistent(doc);
      expect(doc.teams?.[team.id]).toBeUndefined();
      expect(doc.members[b.userId]).toBeUndefined();
    }
  });
});
