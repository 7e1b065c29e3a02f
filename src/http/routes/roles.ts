import { AppError } from "../../domain/kernel/errors";
import { isRoleName } from "../../domain/kernel/roles";
import { createRole, deleteRole, listRoles, updateRole } from "../../domain/roles/roles";
import { RoleCreateBody, RoleDeleteQuery, RolePath, RoleUpdateBody, RoleView, RoleViews } from "../role-schemas";
import { BODY_ERRORS, defineRoute, type Route, TOKEN_ERRORS } from "../route";
import { detailAnswer } from "../schemas";

const nameOr404 = (text: string): string => {
  if (!isRoleName(text)) throw new AppError("ROLE_NOT_FOUND");
  return text;
};

const listRolesRoute = defineRoute({
  method: "get",
  path: "/org/roles",
  permission: "member:read",
  tag: "members",
  summary: __DOCS__ && "The roles members may hold: the three built in, then the organization's own",
  description: __DOCS__ && "Each with its permissions and how many members hold it. An API key with `member:read` may list them too.",
  auth: "required",
  responses: { 200: { description: __DOCS__ && "The roles", schema: RoleViews } },
  errors: TOKEN_ERRORS,
  handler: async ({ deps, caller }) => ({ body: await listRoles(deps, caller) }),
});

const createRoleRoute = defineRoute({
  method: "post",
  path: "/org/roles",
  permission: "role:manage",
  tag: "members",
  summary: __DOCS__ && "Define a role of the organization's own: a name and the permissions it gives",
  description: __DOCS__ && "A member who is not an owner gives a role only permissions they hold. At most 50 roles per organization.",
  auth: "required",
  audit: "role.create",
  request: { body: { schema: RoleCreateBody } },
  responses: { 201: { description: __DOCS__ && "Defined", schema: RoleView } },
  errors: [...TOKEN_ERRORS, "ROLE_EXISTS", "ROLE_LIMIT", "ORGANIZATION_BUSY", ...BODY_ERRORS],
  handler: async ({ deps, principal, input }) => ({ status: 201, body: await createRole(deps, principal, await input.body()) }),
});

const updateRoleRoute = defineRoute({
  method: "patch",
  path: "/org/roles/{name}",
  permission: "role:manage",
  tag: "members",
  summary: __DOCS__ && "Change what one of the organization's roles gives; its holders' next requests follow it",
  description:
    __DOCS__ &&
    "No token is reissued: every request whose permission comes from a custom role checks the role as it stands. Built-in roles cannot be changed (403).",
  auth: "required",
  audit: "role.update",
  request: { path: RolePath, body: { schema: RoleUpdateBody } },
  responses: { 200: { description: __DOCS__ && "Changed", schema: RoleView } },
  errors: [...TOKEN_ERRORS, "ROLE_NOT_FOUND", "ORGANIZATION_BUSY", ...BODY_ERRORS],
  handler: async ({ deps, principal, input }) => {
    const name = nameOr404(input.params().name);
    return { body: await updateRole(deps, principal, name, await input.body()) };
  },
});

const deleteRoleRoute = defineRoute({
  method: "delete",
  path: "/org/roles/{name}",
  permission: "role:manage",
  tag: "members",
  summary: __DOCS__ && "Delete one of the organization's roles",
  description:
    __DOCS__ &&
    "While members hold it, `replace_with` names the role they are given in its place (their tokens stop, as with any change of their roles); without it, 409. Built-in roles cannot be deleted (403).",
  auth: "required",
  audit: "role.delete",
  request: { path: RolePath, query: RoleDeleteQuery },
  responses: {
    200: detailAnswer(__DOCS__ && { description: "Deleted", detail: "deleted" }),
  },
  errors: [...TOKEN_ERRORS, "ROLE_NOT_FOUND", "ROLE_IN_USE", "ROLE_UNKNOWN", "ORGANIZATION_BUSY", "VALIDATION_FAILED"],
  handler: async ({ deps, principal, input }) => {
    const name = nameOr404(input.params().name);
    await deleteRole(deps, principal, name, input.query().replace_with);
    return { body: { detail: "deleted" } };
  },
});

export const roleRoutes: Route[] = [listRolesRoute, createRoleRoute, updateRoleRoute, deleteRoleRoute];
