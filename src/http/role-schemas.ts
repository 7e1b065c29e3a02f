import { CUSTOM_ROLE_PERMISSIONS, isRole, MAX_ROLES_PER_MEMBER, PERMISSIONS, ROLE_NAME_PATTERN } from "../domain/kernel/roles";
import { MAX_CUSTOM_ROLES } from "../domain/roles/roles";
import * as z from "../zod";

/**
 * The organization's roles: request and response schemas. Each is built on its first use (a role
 * route's first request, or the OpenAPI document), not at every isolate's start (`z.lazy`).
 */
const exampleTime = "2026-01-01T00:00:00.000Z";

/** A role a member may be given: a built-in one, or one of the organization's own. */
const roleName = () =>
  z
    .string()
    .check(z.regex(ROLE_NAME_PATTERN, "a role's name: a lower-case letter, then up to 31 lower-case letters, digits, '_' or '-'"))
    .register(z.globalRegistry, __DOCS__ && { description: "`owner`, `admin`, `member`, or the name of one of the organization's own roles" });

/** Every role a member holds: at most one built-in. */
export const RoleList = z.lazy(() =>
  z
    .array(roleName())
    .check(
      z.minLength(1),
      z.maxLength(MAX_ROLES_PER_MEMBER),
      z.refine(
        (roles) => roles.filter((role) => role === "owner" || role === "admin" || role === "member").length <= 1,
        "at most one of owner, admin and member",
      ),
    )
    .register(
      z.globalRegistry,
      __DOCS__ && {
        description: `Every role the member is to hold (1 to ${MAX_ROLES_PER_MEMBER}, at most one built-in); what they may do is what any of them allows`,
      },
    ),
);

const permissions = () =>
  z
    .array(z.enum(CUSTOM_ROLE_PERMISSIONS))
    .check(z.minLength(1), z.maxLength(CUSTOM_ROLE_PERMISSIONS.length))
    .register(
      z.globalRegistry,
      __DOCS__ && {
        description:
          "What the role allows; never `organization:delete` (an owner's), never more than its creator holds. With `member:invite` its holders invite members only, and only while their roles give everything a member may do",
      },
    );

const description = () =>
  z
    .string()
    .check(z.minLength(1), z.maxLength(200))
    .register(z.globalRegistry, __DOCS__ && { description: "For people: what the role is for" });

export const RoleCreateBody = z.lazy(() =>
  z.strictObject({ name: roleName(), permissions: permissions(), description: z.optional(description()) }).register(
    z.globalRegistry,
    __DOCS__ && {
      example: { name: "billing", permissions: ["records:read", "audit:read"], description: "Reads invoices and the event feed" },
    },
  ),
);

export const RoleUpdateBody = z.lazy(() =>
  z
    .strictObject({ permissions: z.optional(permissions()), description: z.optional(z.nullable(description())) })
    .check(z.refine((body) => body.permissions !== undefined || body.description !== undefined, "name permissions, description or both"))
    .register(z.globalRegistry, __DOCS__ && { example: { permissions: ["records:read", "records:write", "audit:read"] } }),
);

export const RolePath = z.lazy(() =>
  z.object({ name: z.string().register(z.globalRegistry, __DOCS__ && { description: "The role's name", example: "billing" }) }),
);

export const RoleDeleteQuery = z.lazy(() =>
  z.object({
    replace_with: z.optional(z.lazy(roleName)).register(
      z.globalRegistry,
      __DOCS__ && {
        description: "The role its holders are given in its place; required while members hold it (409 without)",
        example: "member",
      },
    ),
  }),
);

const roleView = () =>
  z
    .object({
      name: z.string(),
      permissions: z.array(z.enum(PERMISSIONS)),
      built_in: z.boolean().register(z.globalRegistry, __DOCS__ && { description: "`owner`, `admin` and `member`: fixed, never changed or deleted" }),
      description: z.nullable(z.string()),
      members: z.number().register(z.globalRegistry, __DOCS__ && { description: "How many members hold it" }),
      created_at: z.nullable(z.iso.datetime()),
      updated_at: z.nullable(z.iso.datetime()),
    })
    .register(
      z.globalRegistry,
      __DOCS__ && {
        example: {
          name: "billing",
          permissions: ["records:read", "audit:read"],
          built_in: false,
          description: "Reads invoices and the event feed",
          members: 2,
          created_at: exampleTime,
          updated_at: exampleTime,
        },
      },
    );

export const RoleView = z.lazy(roleView);

export const RoleViews = z.lazy(() => z.object({ roles: z.array(roleView()) }));

/** The platform's role templates: what every new organization's own roles start as. */
export const RoleTemplatesBody = z.lazy(() =>
  z
    .strictObject({
      templates: z.array(z.strictObject({ name: roleName(), permissions: permissions(), description: z.optional(description()) })).check(
        z.maxLength(MAX_CUSTOM_ROLES),
        z.refine((templates) => templates.every((template) => !isRole(template.name)), "never a built-in role's name"),
        z.refine((templates) => new Set(templates.map((template) => template.name)).size === templates.length, "each name once"),
      ),
    })
    .register(
      z.globalRegistry,
      __DOCS__ && { example: { templates: [{ name: "billing", permissions: ["records:read", "audit:read"], description: "Reads invoices" }] } },
    ),
);

export const RoleTemplatesView = z.lazy(() =>
  z.object({
    templates: z.array(z.object({ name: z.string(), permissions: z.array(z.enum(PERMISSIONS)), description: z.nullable(z.string()) })),
    updated_at: z.nullable(z.iso.datetime()).register(z.globalRegistry, __DOCS__ && { description: "When an operator last set them; null if never" }),
  }),
);
