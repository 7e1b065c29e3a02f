import { switchOrganization } from "../../domain/auth/auth";
import { assignRoles, changeRole, leaveOrganization, listMembers, removeMember } from "../../domain/members/members";
import { MemberListQuery, MemberPage, MemberPath, MemberView, RoleBody, SwitchBody } from "../member-schemas";
import { BODY_ERRORS, defineRoute, idOr404, NO_STORE, TOKEN_ERRORS } from "../route";
import { detailAnswer, TokenResponse } from "../schemas";

export const listMembersRoute = defineRoute({
  method: "get",
  path: "/org/members",
  permission: "member:read",
  tag: "members",
  summary: __DOCS__ && "List the organization's members, a page at a time",
  description: __DOCS__ && "In a stable order (by `user_id`); following `next_cursor` until it is null lists every member present throughout exactly once.",
  auth: "required",
  request: { query: MemberListQuery, blankQueryIsAbsent: true },
  responses: { 200: { description: __DOCS__ && "A page of members", schema: MemberPage } },
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
  summary: __DOCS__ && "Change a member's roles; their earlier tokens for this organization stop working",
  description:
    __DOCS__ &&
    "`role` gives one built-in role (and takes any custom ones); `roles` gives exactly the roles named. Only an owner can make an owner or change an owner's role, only an admin or owner an admin's; no one gives or takes a custom role that allows more than they may; the last owner cannot be demoted (409).",
  auth: "required",
  audit: "member.update",
  request: { path: MemberPath, body: { schema: RoleBody } },
  responses: { 200: { description: __DOCS__ && "Changed", schema: MemberView } },
  errors: [...TOKEN_ERRORS, "MEMBER_NOT_FOUND", "LAST_OWNER", "ROLE_UNKNOWN", "ORGANIZATION_BUSY", ...BODY_ERRORS],
  handler: async ({ deps, principal, input }) => {
    const target = idOr404(input.params().user_id, "MEMBER_NOT_FOUND");
    const { role, roles } = await input.body();
    return { body: role ? await changeRole(deps, principal, target, role) : await assignRoles(deps, principal, target, roles ?? []) };
  },
});

export const removeMemberRoute = defineRoute({
  method: "delete",
  path: "/org/members/{user_id}",
  permission: "member:remove",
  tag: "members",
  summary: __DOCS__ && "Remove a member; their tokens for this organization stop working at once",
  description: __DOCS__ && "Only an owner can remove an owner; the last owner cannot be removed (409). An account left in no organization is closed.",
  auth: "required",
  audit: "member.remove",
  request: { path: MemberPath },
  responses: {
    200: detailAnswer(__DOCS__ && { description: "Removed", detail: "removed" }),
  },
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
  summary: __DOCS__ && "Leave the organization the token names",
  description: __DOCS__ && "Any member may leave except the last owner (409). An account left in no organization is closed.",
  auth: "required",
  audit: "member.leave",
  responses: {
    200: detailAnswer(__DOCS__ && { description: "Left", detail: "left" }),
  },
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
  summary: __DOCS__ && "Get a token for another organization the signed-in user belongs to",
  auth: "required",
  audit: "admin.switch",
  request: { body: { schema: SwitchBody } },
  responses: { 200: { description: __DOCS__ && "A token for that organization", schema: TokenResponse } },
  errors: [...TOKEN_ERRORS, "ORGANIZATION_NOT_FOUND", ...BODY_ERRORS],
  handler: async ({ deps, principal, input, audit }) => {
    const { organization_name } = await input.body();
    const { org, ...token } = await switchOrganization(deps, principal, organization_name);
    audit.note({ orgId: org._id.toHexString() });
    return { body: token, headers: NO_STORE };
  },
});
