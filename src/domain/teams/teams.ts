import { ObjectId } from "bson";
import { publishLater } from "../events/outbox";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { newEvent, userActor, withEvents } from "../kernel/event";
import { readOrganization } from "../kernel/guard";
import { type MemberRecord, memberOf, memberPath, type OrganizationDoc, type TeamRecord, type TeamRole } from "../kernel/model";
import type { Caller, Principal } from "../kernel/principal";
import { changeAgainstRead, type Plan } from "../kernel/revised";

/**
 * The organization's teams. A team is a name in the organization's document; who is in it, and as
 * what (`lead` or `member`), is kept on each membership (`members.<id>.teams`), so removing a member
 * takes them out of every team in the same update, and deleting the organization leaves no team
 * behind. Every change is one update made against what was read (`teams_rev`), as roles are.
 */

/** Teams an organization may have. */
export const MAX_TEAMS = 100;

export interface TeamView {
  id: string;
  name: string;
  description: string | null;
  members: { user_id: string; email: string; role: TeamRole }[];
  created_at: string;
  updated_at: string;
}

const teamPath = (teamId: string, field?: keyof TeamRecord) => `teams.${teamId}${field ? `.${field}` : ""}`;
const teamOfMemberPath = (userId: ObjectId, teamId: string) => `${memberPath(userId, "teams")}.${teamId}`;

const teamView = (org: Pick<OrganizationDoc, "members">, id: string, team: TeamRecord): TeamView => ({
  id,
  name: team.name,
  description: team.description ?? null,
  members: Object.values(org.members ?? {})
    .flatMap((member) => {
      const role = member.teams?.[id];
      return role ? [{ user_id: member.user_id.toHexString(), email: member.email, role }] : [];
    })
    .sort((a, b) => (a.user_id < b.user_id ? -1 : 1)),
  created_at: team.created_at.toISOString(),
  updated_at: team.updated_at.toISOString(),
});

/** The organization's teams by name, each with its members. */
export const listTeams = async (deps: Deps, caller: Caller): Promise<{ teams: TeamView[] }> => {
  const org = await readOrganization(deps, caller, { members: 1, teams: 1 });
  return {
    teams: Object.entries(org.teams ?? {})
      .sort(([, a], [, b]) => (a.name_key < b.name_key ? -1 : a.name_key > b.name_key ? 1 : 0))
      .map(([id, team]) => teamView(org, id, team)),
  };
};

/** A team change against the document as read, its event published after. */
const changeTeams = async <T>(deps: Deps, principal: Principal, plan: (org: OrganizationDoc, actor: MemberRecord) => Plan<T>): Promise<T> => {
  const result = await changeAgainstRead(deps, principal, "teams_rev", plan);
  publishLater(deps, principal.orgId);
  return result;
};

const teamOf = (org: OrganizationDoc, teamId: string): TeamRecord => {
  const team = org.teams?.[teamId];
  if (!team) throw new AppError("TEAM_NOT_FOUND");
  return team;
};

const nameTaken = (org: OrganizationDoc, nameKey: string, except?: string) =>
  Object.entries(org.teams ?? {}).some(([id, team]) => id !== except && team.name_key === nameKey);

export const createTeam = (deps: Deps, principal: Principal, input: { name: string; description?: string }): Promise<TeamView> =>
  changeTeams(deps, principal, (org) => {
    const name_key = input.name.trim().toLowerCase();
    if (nameTaken(org, name_key)) throw new AppError("TEAM_EXISTS");
    if (Object.keys(org.teams ?? {}).length >= MAX_TEAMS) throw new AppError("TEAM_LIMIT");
    const now = deps.now();
    const id = new ObjectId().toHexString();
    const team: TeamRecord = { name: input.name, name_key, ...(input.description ? { description: input.description } : {}), created_at: now, updated_at: now };
    return {
      update: withEvents(
        { $set: { [teamPath(id)]: team, updated_at: now }, $inc: { teams_rev: 1 } },
        newEvent("team.created", userActor(principal), { team_id: id, name: team.name }, now),
      ),
      result: teamView(org, id, team),
    };
  });

export const updateTeam = (deps: Deps, principal: Principal, teamId: string, input: { name?: string; description?: string | null }): Promise<TeamView> =>
  changeTeams(deps, principal, (org) => {
    const before = teamOf(org, teamId);
    const name = input.name ?? before.name;
    const name_key = name.trim().toLowerCase();
    if (nameTaken(org, name_key, teamId)) throw new AppError("TEAM_EXISTS");
    const now = deps.now();
    const { description: _, ...kept } = before;
    const description = input.description === undefined ? before.description : (input.description ?? undefined);
    const team: TeamRecord = { ...kept, name, name_key, ...(description ? { description } : {}), updated_at: now };
    // Field by field: FerretDB may leave an embedded document in place when one of the same size replaces it.
    const set = { [teamPath(teamId, "name")]: name, [teamPath(teamId, "name_key")]: name_key, [teamPath(teamId, "updated_at")]: now, updated_at: now };
    return {
      update: withEvents(
        {
          $set: description ? { ...set, [teamPath(teamId, "description")]: description } : set,
          ...(description ? {} : { $unset: { [teamPath(teamId, "description")]: "" } }),
          $inc: { teams_rev: 1 },
        },
        newEvent("team.updated", userActor(principal), { team_id: teamId, name, previous_name: before.name }, now),
      ),
      result: teamView(org, teamId, team),
    };
  });

/** Deletes a team: it and every membership of it go in one update. */
export const deleteTeam = (deps: Deps, principal: Principal, teamId: string): Promise<void> =>
  changeTeams(deps, principal, (org) => {
    teamOf(org, teamId);
    const now = deps.now();
    const inTeam = Object.values(org.members).filter((member) => member.teams?.[teamId]);
    const unset = Object.fromEntries([[teamPath(teamId), ""], ...inTeam.map((member) => [teamOfMemberPath(member.user_id, teamId), ""])]);
    return {
      update: withEvents(
        { $unset: unset, $set: { updated_at: now }, $inc: { teams_rev: 1 } },
        newEvent("team.deleted", userActor(principal), { team_id: teamId, user_ids: inTeam.map((member) => member.user_id.toHexString()) }, now),
      ),
      result: undefined,
    };
  });

/**
 * Who may change a team's membership: a holder of `team:manage` (checked by the route, or by the
 * guard for a custom role), or, admitted as a lead, the team's lead, for its plain members only;
 * the lead's standing is part of the update's guard.
 */
const leadGuard = (principal: Principal, actor: MemberRecord, teamId: string, touched: (TeamRole | undefined)[]): Record<string, unknown> => {
  if (!principal.asLead) return {};
  if (actor.teams?.[teamId] !== "lead" || touched.includes("lead")) throw new AppError("PERMISSION_DENIED");
  return { [teamOfMemberPath(actor.user_id, teamId)]: "lead" };
};

/** Puts a member of the organization in the team as `role` (or changes their role in it). */
export const addTeamMember = (deps: Deps, principal: Principal, teamId: string, target: ObjectId, role: TeamRole): Promise<TeamView> =>
  changeTeams(deps, principal, (org, actor) => {
    const team = teamOf(org, teamId);
    const member = memberOf(org, target);
    if (!member) throw new AppError("MEMBER_NOT_FOUND");
    const guard = {
      ...leadGuard(principal, actor, teamId, [member.teams?.[teamId], role]),
      [teamPath(teamId)]: { $exists: true },
      // The member as read: one removed meanwhile is never given back half a membership.
      [memberPath(target, "token_version")]: member.token_version,
    };
    const now = deps.now();
    const after = { ...org, members: { ...org.members, [target.toHexString()]: { ...member, teams: { ...member.teams, [teamId]: role } } } };
    return {
      guard,
      update: withEvents(
        { $set: { [teamOfMemberPath(target, teamId)]: role, updated_at: now }, $inc: { teams_rev: 1 } },
        newEvent("team.member_added", userActor(principal), { team_id: teamId, user_id: target.toHexString(), role }, now),
      ),
      result: teamView(after, teamId, team),
    };
  });

export const removeTeamMember = (deps: Deps, principal: Principal, teamId: string, target: ObjectId): Promise<void> =>
  changeTeams(deps, principal, (org, actor) => {
    teamOf(org, teamId);
    const member = memberOf(org, target);
    const role = member?.teams?.[teamId];
    if (!member || !role) throw new AppError("MEMBER_NOT_FOUND");
    const now = deps.now();
    return {
      guard: leadGuard(principal, actor, teamId, [role]),
      update: withEvents(
        { $unset: { [teamOfMemberPath(target, teamId)]: "" }, $set: { updated_at: now }, $inc: { teams_rev: 1 } },
        newEvent("team.member_removed", userActor(principal), { team_id: teamId, user_id: target.toHexString() }, now),
      ),
      result: undefined,
    };
  });
