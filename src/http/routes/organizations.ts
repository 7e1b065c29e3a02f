import { settingsFor } from "../../deps";
import { accountTokenClaims } from "../../domain/accounts/signup";
import type { Deps } from "../../domain/kernel/deps";
import { slugProblem } from "../../domain/kernel/slug";
import { type Credentials, createOrganization, deleteOrganization, getOrganization, renameOrganization } from "../../domain/organizations/lifecycle";
import * as z from "../../zod";
import { bearerToken } from "../authenticate";
import { readJson } from "../body";
import { ValidationError } from "../http-error";
import { defineRoute } from "../route";
import {
  CreatedOrganization,
  CreateOrganizationBody,
  CreateOrganizationByTokenBody,
  detailAnswer,
  OrganizationMetadata,
  OrganizationQuery,
  UpdateOrganizationBody,
} from "../schemas";
import { invalid, parseOrThrow } from "../validation";

const checkName = (deps: Deps, name: string, loc: (string | number)[]): void => {
  const problem = slugProblem(name, deps.settings.data.database);
  if (problem) throw invalid(loc, problem);
};

export const createRoute = defineRoute({
  method: "post",
  path: "/org/create",
  tag: "organizations",
  summary: __DOCS__ && "Create an organization, its admin and its tenant collection",
  auth: "optional",
  audit: "org.create",
  request: { body: { schema: CreateOrganizationBody } },
  responses: { 200: { description: __DOCS__ && "Created", schema: CreatedOrganization } },
  errors: [
    "ORGANIZATION_EXISTS",
    "ADMIN_EMAIL_EXISTS",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "VALIDATION_FAILED",
    "NAME_REFUSED_BY_STORE",
    "INVALID_TOKEN",
    // An organization's API key creates no organization.
    "PERMISSION_DENIED",
    "ORGANIZATION_SUSPENDED",
    "STORE_UNAVAILABLE",
  ],
  handler: async ({ request, env, deps, hasToken, authenticate, audit }) => {
    const value = await readJson(request, z.unknown(), settingsFor(env).maxBodyBytes);
    if (hasToken && namesOnly(value)) {
      // A signed-in user creates another organization: the token names its owner, so the body is the name alone.
      // An account of no organization (signed up) creates its first one with its account token.
      const signedIn = (await accountTokenClaims(deps, bearerToken(request))) ?? (await authenticate());
      const body = parseOrThrow(CreateOrganizationByTokenBody, value, "body");
      audit.note({ organizationName: body.organization_name });
      checkName(deps, body.organization_name, ["body", "organization_name"]);
      return { body: await createOrganization(deps, body, signedIn) };
    }
    // The old contract's create, whatever Authorization header comes with it: the old service
    // ignored it, and clients that send their token with every call (Swagger UI once authorised,
    // for one) must keep creating organizations with an e-mail and a password.
    const body = parseOrThrow(CreateOrganizationBody, value, "body");
    audit.note({ organizationName: body.organization_name, email: body.email });
    checkName(deps, body.organization_name, ["body", "organization_name"]);
    return { body: await createOrganization(deps, body) };
  },
});

/** A create body without credentials of its own: the bearer token's user is to own it. */
const namesOnly = (value: unknown): boolean =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !("email" in value) && !("password" in value);

export const getRoute = defineRoute({
  method: "get",
  path: "/org/get",
  tag: "organizations",
  summary: __DOCS__ && "Organization metadata (the admin e-mail only for its own admin)",
  auth: "optional",
  request: { query: OrganizationQuery },
  responses: { 200: { description: __DOCS__ && "Found", schema: OrganizationMetadata } },
  errors: ["ORGANIZATION_NOT_FOUND", "VALIDATION_FAILED", "STORE_UNAVAILABLE"],
  handler: async ({ deps, input, hasToken, authenticate }) => {
    const { organization_name } = input.query();
    // The token is optional here: a bad one only means the caller is not shown the admin e-mail.
    const principal = hasToken ? await authenticate().catch(() => undefined) : undefined;
    return { body: await getOrganization(deps, organization_name, principal) };
  },
});

export const updateRoute = defineRoute({
  method: "put",
  path: "/org/update",
  permission: "organization:update",
  tag: "organizations",
  summary: __DOCS__ && "Rename an organization; its tenant data moves with it",
  auth: "optional",
  audit: "org.update",
  request: { body: { schema: UpdateOrganizationBody } },
  responses: { 200: { description: __DOCS__ && "Renamed", schema: OrganizationMetadata } },
  errors: [
    "INVALID_CREDENTIALS",
    "INVALID_TOKEN",
    "FORBIDDEN",
    "ORGANIZATION_SUSPENDED",
    "ORGANIZATION_NOT_FOUND",
    "ORGANIZATION_EXISTS",
    "ORGANIZATION_BUSY",
    "COLLECTION_EXISTS",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "VALIDATION_FAILED",
    "NAME_REFUSED_BY_STORE",
    "ACCOUNT_LOCKED",
    "RATE_LIMITED",
    "STORE_UNAVAILABLE",
  ],
  handler: async ({ deps, input, hasToken, authenticate, audit }) => {
    const body = await input.body();
    audit.note({ organizationName: body.organization_name, email: body.email });
    checkName(deps, body.new_organization_name, ["body", "new_organization_name"]);
    let credentials: Credentials;
    if (body.email !== undefined && body.password !== undefined) {
      credentials = { kind: "password", email: body.email, password: body.password, organizationName: body.organization_name };
    } else if (hasToken) {
      credentials = { kind: "token", principal: await authenticate() };
    } else {
      // Without a token the old contract applies: both credentials are required fields.
      const missing = (["email", "password"] as const).filter((field) => body[field] === undefined);
      throw new ValidationError(missing.map((field) => ({ loc: ["body", field], msg: "Field required", type: "missing" })));
    }
    return { body: await renameOrganization(deps, body, credentials) };
  },
});

export const deleteRoute = defineRoute({
  method: "delete",
  path: "/org/delete",
  permission: "organization:delete",
  tag: "organizations",
  summary: __DOCS__ && "Delete an organization, its admin and its tenant collection",
  auth: "required",
  // The name is read before the token: a refused delete is audited with the organization it aimed at (and a missing name is a 422 before a 401).
  authenticate: "in-handler",
  audit: "org.delete",
  request: {
    query: OrganizationQuery,
    headers: z.lazy(() =>
      z.object({
        "x-admin-email": z
          .optional(z.string())
          .register(z.globalRegistry, __DOCS__ && { description: __DOCS__ && "When sent, must be the authenticated admin's e-mail" }),
      }),
    ),
  },
  responses: {
    200: detailAnswer(__DOCS__ && { description: "Deleted", detail: "deleted" }),
  },
  errors: [
    "NOT_AUTHENTICATED",
    "INVALID_TOKEN",
    "FORBIDDEN",
    "ORGANIZATION_SUSPENDED",
    "ADMIN_EMAIL_MISMATCH",
    "ORGANIZATION_NOT_FOUND",
    "ORGANIZATION_BUSY",
    "VALIDATION_FAILED",
    "STORE_UNAVAILABLE",
  ],
  handler: async ({ deps, input, authenticate, audit }) => {
    const { organization_name } = input.query();
    audit.note({ organizationName: organization_name });
    const principal = await authenticate();
    await deleteOrganization(deps, organization_name, principal, input.headers()["x-admin-email"]);
    return { body: { detail: "deleted" } };
  },
});
