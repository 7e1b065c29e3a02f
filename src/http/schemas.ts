import * as z from "../zod";
import type { ResponseSpec } from "./route";

/**
 * Request and response schemas: they validate at the edge and generate the OpenAPI document. Each
 * is built on its first use (a route's first request, or the document), not at every isolate's
 * start (`z.lazy`); the parts they share are functions, so nothing here builds a schema on import.
 */
/** An organization's name as every route takes it. */
export const organizationName = () => z.string().check(z.minLength(1), z.maxLength(255));
/** An e-mail address as routes take a new one: 254 characters at most, the longest a mailbox can be. */
export const email = () => z.email().check(z.maxLength(254));
/** An e-mail given to find an account (a login, a reset) is looked up as it is, as an existing password is checked. */
export const accountEmail = () => z.string().check(z.minLength(1), z.maxLength(254));
/** New passwords: long enough to resist guessing, short enough to bound hashing work. */
export const newPassword = () => z.string().check(z.minLength(8), z.maxLength(256));
/** Existing passwords are checked as they are: accounts from the old service may predate the rules. */
const anyPassword = () => z.string().check(z.minLength(1), z.maxLength(256));

export const CreateOrganizationBody = z.lazy(() =>
  z.strictObject({ organization_name: organizationName(), email: email(), password: newPassword() }).register(
    z.globalRegistry,
    __DOCS__ && {
      description:
        "The first owner's e-mail and password (a new account); any `Authorization` header is then ignored, as it always was. With a bearer token the body may instead be `{organization_name}` alone: the signed-in user becomes the owner.",
      example: { organization_name: "TestOrg", email: "admin@testorg.com", password: "Test1234" },
    },
  ),
);

/** A signed-in user creating another organization: the token names its owner. */
export const CreateOrganizationByTokenBody = z.lazy(() => z.strictObject({ organization_name: organizationName() }));

export const UpdateOrganizationBody = z.lazy(() =>
  z
    .strictObject({
      organization_name: organizationName(),
      new_organization_name: organizationName(),
      email: z.optional(email()),
      password: z.optional(anyPassword()),
    })
    .register(
      z.globalRegistry,
      __DOCS__ && {
        description: "The admin's email and password, or instead an `Authorization: Bearer` token of that organization's admin.",
        example: { organization_name: "TestOrg", new_organization_name: "TestOrgNew", email: "admin@testorg.com", password: "Test1234" },
      },
    ),
);

export const LoginBody = z.lazy(() =>
  z
    .strictObject({
      email: accountEmail(),
      password: anyPassword(),
      organization_name: z
        .optional(organizationName())
        .register(z.globalRegistry, __DOCS__ && { description: "Which organization to sign in to, for an account in several (409 without it)" }),
    })
    .register(z.globalRegistry, __DOCS__ && { example: { email: "admin@testorg.com", password: "Test1234" } }),
);

export const PasswordChangeBody = z.lazy(() =>
  z
    .strictObject({ current_password: anyPassword(), new_password: newPassword() })
    .register(z.globalRegistry, __DOCS__ && { example: { current_password: "Test1234", new_password: "N3w-passphrase" } }),
);

export const OrganizationQuery = z.lazy(() => z.object({ organization_name: organizationName() }));

export const CreatedOrganization = z.lazy(() =>
  z
    .object({ organization_name: z.string(), collection_name: z.string(), admin_email: z.string() })
    .register(z.globalRegistry, __DOCS__ && { example: { organization_name: "TestOrg", collection_name: "org_testorg", admin_email: "admin@testorg.com" } }),
);

export const OrganizationMetadata = z.lazy(() =>
  z
    .object({
      organization_name: z.string(),
      collection_name: z.string(),
      status: z.enum(["active", "renaming", "suspended"]),
      created_at: z.iso.datetime(),
      updated_at: z.iso.datetime(),
      admin_email: z.optional(z.string()).register(z.globalRegistry, __DOCS__ && { description: "Only for that organization's own admin" }),
    })
    .register(
      z.globalRegistry,
      __DOCS__ && {
        example: {
          organization_name: "TestOrg",
          collection_name: "org_testorg",
          status: "active",
          created_at: "2026-01-01T00:00:00.000Z",
          updated_at: "2026-01-01T00:00:00.000Z",
        },
      },
    ),
);

export const TokenResponse = z.lazy(() =>
  z
    .object({ access_token: z.string(), token_type: z.literal("bearer") })
    .register(z.globalRegistry, __DOCS__ && { example: { access_token: "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…", token_type: "bearer" } }),
);

export const Detail = z.lazy(() => z.object({ detail: z.string() }).register(z.globalRegistry, __DOCS__ && { example: { detail: "Organization not found" } }));

/**
 * A `{detail}` answer with its one example, both documentation only: written `__DOCS__ && {…}`,
 * so the Worker's bundle keeps none of the text. The example is named by its text (`"logged out"`
 * is `logged_out`) and summarised by the description, unless told otherwise.
 */
export const detailAnswer = (docs: { description: string; detail: string; name?: string; summary?: string }): ResponseSpec => ({
  description: docs.description,
  schema: Detail,
  // `docs` is false in the Worker's bundle, whatever its type says (see build-flags.d.ts).
  examples: docs && { [docs.name ?? docs.detail.replaceAll(" ", "_")]: { summary: docs.summary ?? docs.description, value: { detail: docs.detail } } },
});

export const ValidationDetail = z.lazy(() =>
  z.object({
    detail: z.array(z.object({ loc: z.array(z.union([z.string(), z.number()])), msg: z.string(), type: z.string() })),
  }),
);
