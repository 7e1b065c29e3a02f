import type { ObjectId } from "bson";
import { revokeApiKeyAsOperator } from "../../domain/api-keys/api-keys";
import { AppError, type ErrorCode } from "../../domain/kernel/errors";
import { slugify } from "../../domain/kernel/slug";
import { decodePlatformCursor, PLATFORM_SORTS } from "../../domain/platform/cursor";
import { inspectOrganization, organizationIdOf } from "../../domain/platform/detail";
import { DEFAULT_PLATFORM_PAGE, listOrganizations, PLATFORM_STATUSES } from "../../domain/platform/listing";
import { removeOrganization } from "../../domain/platform/removal";
import { readRoleTemplates, replaceRoleTemplates } from "../../domain/platform/role-templates";
import { platformStats } from "../../domain/platform/stats";
import { reactivateOrganization, suspendOrganization } from "../../domain/platform/suspension";
import * as z from "../../zod";
import { ApiKeyView } from "../api-key-schemas";
import { optionalPageCursor, pageLimitOr } from "../record-schemas";
import { RoleTemplatesBody, RoleTemplatesView } from "../role-schemas";
import { type AuditTrail, defineRoute } from "../route";
import { detailAnswer } from "../schemas";
import { invalid } from "../validation";

/**
 * The platform operator's API: every organization, not the one a token names. Authenticated by
 * the operator keys of `PLATFORM_API_KEYS` (platform-auth.ts), checked before anything else, so
 * that without a valid key every /platform path answers the 404 of a path that does not exist.
 * Each route checks its input before the store is reached (`check`), and its call is audited
 * from the moment it names the organization.
 */

const exampleId = "6650f1c2e8b3e4a012345678";
const exampleTime = "2026-01-01T00:00:00.000Z";

const summary = () =>
  z.object({
    id: z.string().register(z.globalRegistry, __DOCS__ && { description: __DOCS__ && "24 hexadecimal digits" }),
    organization_name: z.string(),
    slug: z.string(),
    status: z
      .enum(["creating", "active", "renaming", "deleting"])
      .register(z.globalRegistry, __DOCS__ && { description: __DOCS__ && "Lifecycle status; see `suspended`" }),
    suspended: z.boolean(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  });

const exampleSummary = {
  id: exampleId,
  organization_name: "TestOrg",
  slug: "testorg",
  status: "active",
  suspended: false,
  created_at: exampleTime,
  updated_at: exampleTime,
} as const;

const OrganizationPageSchema = z.lazy(() =>
  z
    .object({
      organizations: z.array(summary()),
      next_cursor: z
        .nullable(z.string())
        .register(z.globalRegistry, __DOCS__ && { description: __DOCS__ && "`cursor` of the next page (same `sort`); null on the last" }),
    })
    .register(z.globalRegistry, __DOCS__ && { example: { organizations: [exampleSummary], next_cursor: null } }),
);

const count = () => z.number().check(z.int());

const Detail_ = z.lazy(() =>
  z.extend(summary(), {
    collection_name: z.string(),
    admins: z
      .array(z.object({ id: z.string(), email: z.string(), role: z.enum(["owner", "admin"]) }))
      .register(z.globalRegistry, __DOCS__ && { description: __DOCS__ && "Owners, then admins" }),
    member_count: count(),
    record_count: z.nullable(count()).register(z.globalRegistry, __DOCS__ && { description: __DOCS__ && "Null unless active" }),
    suspension: z.nullable(z.object({ at: z.iso.datetime(), reason: z.string(), by_key_id: z.string() })),
    pending: z
      .nullable(z.object({ op: z.string(), started_at: z.iso.datetime(), failed_at: z.optional(z.iso.datetime()), error: z.optional(z.string()) }))
      .register(z.globalRegistry, __DOCS__ && { description: __DOCS__ && "The operation in progress, if any" }),
    api_keys: z.array(ApiKeyView).register(z.globalRegistry, __DOCS__ && { description: __DOCS__ && "The organization's API keys, never their secrets" }),
  }),
);

const Stats = z.lazy(() =>
  z.object({
    storage_bytes: z.nullable(count()),
    organizations: z.object({
      total: count(),
      by_status: z.object(
        Object.fromEntries(PLATFORM_STATUSES.map((s) => [s, count()])) as Record<(typeof PLATFORM_STATUSES)[number], ReturnType<typeof count>>,
      ),
    }),
  }),
);

const ListQuery = z.lazy(() =>
  z.object({
    query: z
      .optional(z.string().check(z.maxLength(255)))
      .register(z.globalRegistry, __DOCS__ && { description: __DOCS__ && "Name or slug prefix (in slug form); name order only" }),
    status: z.optional(z.enum(PLATFORM_STATUSES)).register(z.globalRegistry, __DOCS__ && { description: __DOCS__ && "`active` excludes `suspended`" }),
    sort: z._default(z.enum(PLATFORM_SORTS), "name").register(z.globalRegistry, __DOCS__ && { description: __DOCS__ && "`-`: descending" }),
    limit: pageLimitOr(DEFAULT_PLATFORM_PAGE),
    cursor: optionalPageCursor(decodePlatformCursor),
  }),
);

const IdPath = z.lazy(() =>
  z.object({
    id: z.string().register(z.globalRegistry, __DOCS__ && { example: exampleId }),
  }),
);

const SuspendBody = z.lazy(() =>
  z
    .strictObject({
      reason: z
        .string()
        .check(z.trim(), z.minLength(1), z.maxLength(500))
        .register(z.globalRegistry, __DOCS__ && { description: "Kept with the suspension and audited" }),
    })
    .register(z.globalRegistry, __DOCS__ && { example: { reason: "Invoice 2026-11 unpaid" } }),
);

/** The organization a path names; from here on, the call is audited as concerning it. */
const organizationNamed = (text: string, audit: AuditTrail): ObjectId => {
  const id = organizationIdOf(text);
  audit.note({ orgId: id.toHexString() });
  return id;
};

const READ_ERRORS: ErrorCode[] = ["PLATFORM_KEY_REQUIRED", "STORE_UNAVAILABLE"];
const WRITE_ERRORS: ErrorCode[] = ["PLATFORM_KEY_REQUIRED", "PLATFORM_READ_ONLY", "STORE_UNAVAILABLE"];

export const listOrganizationsRoute = defineRoute({
  method: "get",
  path: "/platform/organizations",
  tag: "platform",
  summary: __DOCS__ && "List and search every organization, a page at a time",
  description: __DOCS__ && "Each organization once along `next_cursor` (by name: unless renamed meanwhile)",
  auth: "platform",
  request: { query: ListQuery, blankQueryIsAbsent: true },
  responses: { 200: { description: __DOCS__ && "A page of organizations", schema: OrganizationPageSchema } },
  errors: [...READ_ERRORS, "VALIDATION_FAILED"],
  check: ({ input }) => {
    const query = input.query();
    if (query.query !== undefined && slugify(query.query) === "") throw invalid(["query", "query"], "query must contain at least one letter or digit");
    if (query.query !== undefined && !query.sort.endsWith("name"))
      throw invalid(["query", "sort"], "a query prefix is matched in name order: sort by name or -name");
    if (query.cursor && query.cursor.sort !== query.sort) throw invalid(["query", "cursor"], "this cursor belongs to another sort order");
    return query;
  },
  handler: async ({ deps, checked }) => ({ body: await listOrganizations(deps, checked) }),
});

export const inspectOrganizationRoute = defineRoute({
  method: "get",
  path: "/platform/organizations/{id}",
  tag: "platform",
  summary: __DOCS__ && "One organization: metadata, owners and admins, member and record counts, operation in progress",
  auth: "platform",
  audit: { action: "platform.inspect", opens: "on-note" },
  request: { path: IdPath },
  responses: { 200: { description: __DOCS__ && "Found", schema: Detail_ } },
  errors: [...READ_ERRORS, "ORGANIZATION_NOT_FOUND"],
  check: ({ input, audit }) => organizationNamed(input.params().id, audit),
  handler: async ({ deps, checked }) => ({ body: await inspectOrganization(deps, checked) }),
});

export const suspendOrganizationRoute = defineRoute({
  method: "post",
  path: "/platform/organizations/{id}/suspend",
  tag: "platform",
  summary: __DOCS__ && "Suspend an organization (nothing is deleted)",
  description: __DOCS__ && "Login, tokens, records: 403. Answered once no record write can land.",
  auth: "platform",
  audit: { action: "platform.suspend", opens: "on-note" },
  request: { path: IdPath, body: { schema: SuspendBody } },
  responses: { 200: { description: __DOCS__ && "Suspended", schema: Detail_ } },
  errors: [...WRITE_ERRORS, "ORGANIZATION_NOT_FOUND", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "VALIDATION_FAILED"],
  check: async ({ input, audit }) => {
    const id = organizationNamed(input.params().id, audit);
    const { reason } = await input.body();
    audit.note({ reason });
    return { id, reason };
  },
  handler: async ({ deps, operator, checked: { id, reason } }) => ({ body: await suspendOrganization(deps, id, reason, operator.id) }),
});

export const reactivateOrganizationRoute = defineRoute({
  method: "post",
  path: "/platform/organizations/{id}/reactivate",
  tag: "platform",
  summary: __DOCS__ && "Lift a suspension",
  description: __DOCS__ && "Tokens issued before the suspension work again until they expire.",
  auth: "platform",
  audit: { action: "platform.reactivate", opens: "on-note" },
  request: { path: IdPath },
  responses: { 200: { description: __DOCS__ && "Active again (or never suspended)", schema: Detail_ } },
  errors: [...WRITE_ERRORS, "ORGANIZATION_NOT_FOUND"],
  check: ({ input, audit }) => organizationNamed(input.params().id, audit),
  handler: async ({ deps, operator, checked }) => ({ body: await reactivateOrganization(deps, checked, operator.id) }),
});

export const removeOrganizationRoute = defineRoute({
  method: "delete",
  path: "/platform/organizations/{id}",
  tag: "platform",
  summary: __DOCS__ && "Delete an organization, its memberships, invitations and tenant collection",
  description: __DOCS__ && "An owner's resumable delete.",
  auth: "platform",
  audit: { action: "platform.delete", opens: "on-note" },
  request: { path: IdPath },
  responses: {
    200: detailAnswer(__DOCS__ && { description: "Deleted", detail: "deleted" }),
  },
  errors: [...WRITE_ERRORS, "ORGANIZATION_NOT_FOUND", "ORGANIZATION_BUSY"],
  check: ({ input, audit }) => organizationNamed(input.params().id, audit),
  handler: async ({ deps, operator, checked, audit }) => {
    const { organization_name } = await removeOrganization(deps, checked, operator.id);
    audit.note({ organizationName: organization_name });
    return { body: { detail: "deleted" } };
  },
});

const ApiKeyIdPath = z.lazy(() =>
  z.object({
    id: z.string().register(z.globalRegistry, __DOCS__ && { example: exampleId }),
    key_id: z.string().register(z.globalRegistry, __DOCS__ && { description: __DOCS__ && "The key's `id`", example: "6650f1c2e8b3e4a0123456ab" }),
  }),
);

export const revokeApiKeyRoute = defineRoute({
  method: "delete",
  path: "/platform/organizations/{id}/api-keys/{key_id}",
  tag: "platform",
  summary: __DOCS__ && "Revoke one of an organization's API keys",
  description: __DOCS__ && "Whatever the organization's state; recorded in its feed as `api_key.revoked` by the operator key.",
  auth: "platform",
  audit: { action: "platform.api_key.revoke", opens: "on-note" },
  request: { path: ApiKeyIdPath },
  responses: {
    200: detailAnswer(__DOCS__ && { description: "Revoked", detail: "revoked" }),
  },
  errors: [...WRITE_ERRORS, "ORGANIZATION_NOT_FOUND", "API_KEY_NOT_FOUND"],
  check: ({ input, audit }) => {
    const { id, key_id } = input.params();
    const orgId = organizationNamed(id, audit);
    if (!/^[0-9a-f]{24}$/.test(key_id)) throw new AppError("API_KEY_NOT_FOUND");
    return { orgId, keyId: key_id };
  },
  handler: async ({ deps, operator, checked: { orgId, keyId } }) => {
    await revokeApiKeyAsOperator(deps, orgId, keyId, operator.id);
    return { body: { detail: "revoked" } };
  },
});

export const statsRoute = defineRoute({
  method: "get",
  path: "/platform/stats",
  tag: "platform",
  summary: __DOCS__ && "Organization counts by status",
  auth: "platform",
  responses: { 200: { description: __DOCS__ && "Counts", schema: Stats } },
  errors: READ_ERRORS,
  handler: async ({ deps }) => ({ body: await platformStats(deps) }),
});

export const roleTemplatesRoute = defineRoute({
  method: "get",
  path: "/platform/role-templates",
  tag: "platform",
  summary: __DOCS__ && "The roles every new organization starts with",
  auth: "platform",
  responses: { 200: { description: __DOCS__ && "The templates", schema: RoleTemplatesView } },
  errors: READ_ERRORS,
  handler: async ({ deps }) => ({ body: await readRoleTemplates(deps) }),
});

export const replaceRoleTemplatesRoute = defineRoute({
  method: "put",
  path: "/platform/role-templates",
  tag: "platform",
  summary: __DOCS__ && "Set the roles every new organization starts with",
  description:
    __DOCS__ &&
    "Replaces the whole list (empty: none). Each organization created from then on starts with these as its own roles, to change or delete as any other; organizations that exist keep theirs.",
  auth: "platform",
  audit: "platform.role_templates",
  request: { body: { schema: RoleTemplatesBody } },
  responses: { 200: { description: __DOCS__ && "The templates now", schema: RoleTemplatesView } },
  errors: [...WRITE_ERRORS, "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "VALIDATION_FAILED"],
  handler: async ({ deps, operator, input }) => ({ body: await replaceRoleTemplates(deps, (await input.body()).templates, operator.id) }),
});

export const platformRoutes = [
  listOrganizationsRoute,
  inspectOrganizationRoute,
  suspendOrganizationRoute,
  reactivateOrganizationRoute,
  removeOrganizationRoute,
  revokeApiKeyRoute,
  statsRoute,
  roleTemplatesRoute,
  replaceRoleTemplatesRoute,
];
