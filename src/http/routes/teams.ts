import { AppError } from "../../domain/kernel/errors";
import { addTeamMember, createTeam, deleteTeam, listTeams, removeTeamMember, updateTeam } from "../../domain/teams/teams";
import { BODY_ERRORS, defineRoute, idOr404, isHexId, type Route, TOKEN_ERRORS } from "../route";
import { detailAnswer } from "../schemas";
import { TeamCreateBody, TeamList, TeamMemberBody, TeamMemberPath, TeamPath, TeamUpdateBody, TeamView } from "../team-schemas";

const teamIdOr404 = (text: string): string => {
  if (!isHexId(text)) throw new AppError("TEAM_NOT_FOUND");
  return text;
};

const listTeamsRoute = defineRoute({
  method: "get",
  path: "/org/teams",
  permission: "member:read",
  tag: "members",
  summary: __DOCS__ && "The organization's teams, by name, each with its members and their role in it",
  auth: "required",
  responses: { 200: { description: __DOCS__ && "The teams", schema: TeamList } },
  errors: TOKEN_ERRORS,
  handler: async ({ deps, caller }) => ({ body: await listTeams(deps, caller) }),
});

const createTeamRoute = defineRoute({
  method: "post",
  path: "/org/teams",
  permission: "team:manage",
  tag: "members",
  summary: __DOCS__ && "Create a team",
  description: __DOCS__ && "At most 100 teams per organization; names are unique in it, whatever their case.",
  auth: "required",
  audit: "team.create",
  request: { body: { schema: TeamCreateBody } },
  responses: { 201: { description: __DOCS__ && "Created", schema: TeamView } },
  errors: [...TOKEN_ERRORS, "TEAM_EXISTS", "TEAM_LIMIT", "ORGANIZATION_BUSY", ...BODY_ERRORS],
  handler: async ({ deps, principal, input }) => ({ status: 201, body: await createTeam(deps, principal, await input.body()) }),
});

const updateTeamRoute = defineRoute({
  method: "patch",
  path: "/org/teams/{id}",
  permission: "team:manage",
  tag: "members",
  summary: __DOCS__ && "Rename a team, or change its description",
  auth: "required",
  audit: "team.update",
  request: { path: TeamPath, body: { schema: TeamUpdateBody } },
  responses: { 200: { description: __DOCS__ && "Changed", schema: TeamView } },
  errors: [...TOKEN_ERRORS, "TEAM_NOT_FOUND", "TEAM_EXISTS", "ORGANIZATION_BUSY", ...BODY_ERRORS],
  handler: async ({ deps, principal, input }) => {
    const id = teamIdOr404(input.params().id);
    return { body: await updateTeam(deps, principal, id, await input.body()) };
  },
});

const deleteTeamRoute = defineRoute({
  method: "delete",
  path: "/org/teams/{id}",
  permission: "team:manage",
  tag: "members",
  summary: __DOCS__ && "Delete a team; its members stay in the organization",
  auth: "required",
  audit: "team.delete",
  request: { path: TeamPath },
  responses: {
    200: detailAnswer(__DOCS__ && { description: "Deleted", detail: "deleted" }),
  },
  errors: [...TOKEN_ERRORS, "TEAM_NOT_FOUND", "ORGANIZATION_BUSY"],
  handler: async ({ deps, principal, input }) => {
    await deleteTeam(deps, principal, teamIdOr404(input.params().id));
    return { body: { detail: "deleted" } };
  },
});

const addTeamMemberRoute = defineRoute({
  method: "post",
  path: "/org/teams/{id}/members",
  permission: "team:manage",
  leadMay: true,
  tag: "members",
  summary: __DOCS__ && "Put a member of the organization in the team, as `member` (the default) or `lead`",
  description: __DOCS__ && "With `team:manage`, or as the team's lead (who adds plain members only). Again for someone in the team: their role in it changes.",
  auth: "required",
  audit: "team.member_add",
  request: { path: TeamPath, body: { schema: TeamMemberBody } },
  responses: { 200: { description: __DOCS__ && "The team as it now stands", schema: TeamView } },
  errors: [...TOKEN_ERRORS, "TEAM_NOT_FOUND", "MEMBER_NOT_FOUND", "ORGANIZATION_BUSY", ...BODY_ERRORS],
  handler: async ({ deps, principal, input }) => {
    const id = teamIdOr404(input.params().id);
    const { user_id, role } = await input.body();
    return { body: await addTeamMember(deps, principal, id, idOr404(user_id, "MEMBER_NOT_FOUND"), role ?? "member") };
  },
});

const removeTeamMemberRoute = defineRoute({
  method: "delete",
  path: "/org/teams/{id}/members/{user_id}",
  permission: "team:manage",
  leadMay: true,
  tag: "members",
  summary: __DOCS__ && "Take a member out of the team; they stay in the organization",
  description: __DOCS__ && "With `team:manage`, or as the team's lead (who removes plain members only).",
  auth: "required",
  audit: "team.member_remove",
  request: { path: TeamMemberPath },
  responses: {
    200: detailAnswer(__DOCS__ && { description: "Removed", detail: "removed" }),
  },
  errors: [...TOKEN_ERRORS, "TEAM_NOT_FOUND", "MEMBER_NOT_FOUND", "ORGANIZATION_BUSY"],
  handler: async ({ deps, principal, input }) => {
    const { id, user_id } = input.params();
    await removeTeamMember(deps, principal, teamIdOr404(id), idOr404(user_id, "MEMBER_NOT_FOUND"));
    return { body: { detail: "removed" } };
  },
});

export const teamRoutes: Route[] = [listTeamsRoute, createTeamRoute, updateTeamRoute, deleteTeamRoute, addTeamMemberRoute, removeTeamMemberRoute];
