import { switchOrganization } from "../../domain/auth/auth";
import { changeRole, leaveOrganization, listMembers, removeMember } from "../../domain/members/members";
import { MemberListQuery, MemberPage, MemberPath, MemberView, RoleBody, SwitchBody } from "../member-schemas";
import { BODY_ERRORS, defineRoute, idOr404, NO_STORE, TOKEN_ERRORS } from "../route";
import { Detail, TokenResponse } from "../schemas";

export const listMembersRoute = defineRoute({
  method: "get",
  path: "/org/members",
  permission: "member:read",
  tag: "members",
  summary: "List the organization's members, a page at a time",
  description: "In a stable order (by `user_id`); following `next_cursor` until it is null lists every member present throughout exactly once.",
  auth: "required",
  request: { query: MemberListQuery, blankQueryIsAbsent: true },
  responses: { 200: { description: "A page of members", schema: MemberPage } },
  errors: [...TOKEN_ERRORS, "VALIDATION_FAILED"],
  handler: async ({ deps, caller, input }) => {
    const { limit, cursor } = input.query();
    return { body: await listMembers(deps, caller, { limit, after: cursor }) };
  },
});

export const changeRoleRoute = defineRoute({
  method: "patch",
  path: "/org/members/{user_id}",
  permission: "member:update",
  tag: "members",
  summary: "Change a member's role; their earlier tokens for this organization stop working",
  description: "Only an owner can make an owner or change an owner's role; the last owner cannot be demoted (409).",
  auth: "required",
  audit: "member.update",
  request: { path: MemberPath, body: { schema: RoleBody } },
  responses: { 200: { description: "Changed", schema: MemberView } },
  errors: [...TOKEN_ERRORS, "MEMBER_NOT_FOUND", "LAST_OWNER", "ORGANIZATION_BUSY", ...BODY_ERRORS],
  handler: async ({ deps, principal, input }) => {
    const target = idOr404(input.params().user_id, "MEMBER_NOT_FOUND");
    const { role } = await input.body();
    return { body: await changeRole(deps, principal, target, role) };
  },
});

export const removeMemberRoute = defineRoute({
  method: "delete",
  path: "/org/members/{user_id}",
  permission: "member:remove",
  tag: "members",
  summary: "Remove a member; their tokens for this organization stop working at once",
  description: "Only an owner can remove an owner; the last owner cannot be removed (409). An account left in no organization is closed.",
  auth: "required",
  audit: "member.remove",
  request: { path: MemberPath },
  responses: { 200: { description: "Removed", schema: Detail, examples: { removed: { summary: "Removed", value: { detail: "removed" } } } } },
  errors: [...TOKEN_ERRORS, "MEMBER_NOT_FOUND", "LAST_OWNER", "ORGANIZATION_BUSY"],
  handler: async ({ deps, principal, input }) => {
    await removeMember(deps, principal, idOr404(input.params().user_id, "MEMBER_NOT_FOUND"));
    return { body: { detail: "removed" } };
  },
});

export const leaveRoute = defineRoute({
  method: "post",
  path: "/org/leave",
  tag: "members",
  summary: "Leave the organization the token names",
  description: "Any member may leave except the last owner (409). An account left in no organization is closed.",
  auth: "required",
  audit: "member.leave",
  responses: { 200: { description: "Left", schema: Detail, examples: { left: { summary: "Left", value: { detail: "left" } } } } },
  errors: [...TOKEN_ERRORS, "LAST_OWNER", "ORGANIZATION_BUSY"],
  handler: async ({ deps, principal }) => {
    await leaveOrganization(deps, principal);
    return { body: { detail: "left" } };
  },
});

export const switchRoute = defineRoute({
  method: "post",
  path: "/auth/switch",
  tag: "admin",
  summary: "Get a token for another organization the signed-in user belongs to",
  auth: "required",
  audit: "admin.switch",
  request: { body: { schema: SwitchBody } },
  responses: { 200: { description: "A token for that organization", schema: TokenResponse } },
  errors: [...TOKEN_ERRORS, "ORGANIZATION_NOT_FOUND", ...BODY_ERRORS],
  handler: async ({ deps, principal, input, audit }) => {
    const { organization_name } = await input.body();
    const { org, ...token } = await switchOrganization(deps, principal, organization_name);
    audit.note({ orgId: org._id.toHexString() });
    return { body: token, headers: NO_STORE };
  },
});
