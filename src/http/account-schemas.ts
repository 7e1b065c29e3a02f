import * as z from "../zod";
import { accountEmail, Detail, email, newPassword } from "./schemas";

/** Bodies and answers of the account routes (routes/account.ts): mailed links for a reset and a verification. */

/** A link's token as mailed: the account's id and 32 random bytes (domain/auth/mailed-link.ts); anything else is refused as an unknown link. */
const linkToken = () =>
  z
    .string()
    .check(z.minLength(1), z.maxLength(256))
    .register(z.globalRegistry, __DOCS__ && { description: "The `token` of the mailed link's fragment" });

export const PasswordResetBody = z.lazy(() =>
  z.strictObject({ email: accountEmail() }).register(z.globalRegistry, __DOCS__ && { example: { email: "admin@testorg.com" } }),
);

export const PasswordResetConfirmBody = z.lazy(() =>
  z
    .strictObject({ token: linkToken(), new_password: newPassword() })
    .register(
      z.globalRegistry,
      __DOCS__ && { example: { token: "65f0c0ffee0000000000000aV2hhdCBhIGxvbmcgcmFuZG9tIHRva2VuIGl0IGlzIQ", new_password: "N3w-passphrase" } },
    ),
);

export const VerifyConfirmBody = z.lazy(() =>
  z
    .strictObject({ token: linkToken() })
    .register(z.globalRegistry, __DOCS__ && { example: { token: "65f0c0ffee0000000000000aV2hhdCBhIGxvbmcgcmFuZG9tIHRva2VuIGl0IGlzIQ" } }),
);

export { Detail };

export const SignupBody = z.lazy(() =>
  z
    .strictObject({ email: email(), password: newPassword() })
    .register(z.globalRegistry, __DOCS__ && { example: { email: "dana@acme.com", password: "Corr3ct-horse" } }),
);

export const SignedUp = z.lazy(() =>
  z
    .object({
      user_id: z.string(),
      email: z.string(),
      email_verified: z.boolean(),
      access_token: z
        .string()
        .register(z.globalRegistry, __DOCS__ && { description: "An account token: it opens `/auth/suggestions` and nothing of any organization" }),
      token_type: z.literal("bearer"),
    })
    .register(
      z.globalRegistry,
      __DOCS__ && {
        example: { user_id: "6650f1c2e8b3e4a0123456aa", email: "dana@acme.com", email_verified: false, access_token: "eyJ…", token_type: "bearer" },
      },
    ),
);

const joinedOrganization = () => z.object({ org_id: z.string(), organization_name: z.string(), role: z.string() });

export const VerifiedAnswer = z.lazy(() =>
  z
    .object({
      detail: z.string(),
      joined: z
        .optional(z.array(joinedOrganization()))
        .register(z.globalRegistry, __DOCS__ && { description: "The organizations joined by their `auto_join` domain, as the address is now verified" }),
    })
    .register(z.globalRegistry, __DOCS__ && { example: { detail: "address verified", joined: [] } }),
);

export const Suggestions = z.lazy(() =>
  z
    .object({
      email: z.string(),
      email_verified: z.boolean(),
      suggestions: z.array(
        z.object({
          org_id: z.string(),
          organization_name: z.string(),
          domain: z.string(),
          policy: z.enum(["auto_join", "suggest"]),
          role: z.nullable(z.enum(["member", "admin"])),
          requested: z.boolean(),
        }),
      ),
    })
    .register(
      z.globalRegistry,
      __DOCS__ && {
        example: {
          email: "dana@acme.com",
          email_verified: true,
          suggestions: [
            { org_id: "6650f1c2e8b3e4a0123456bb", organization_name: "Acme", domain: "acme.com", policy: "auto_join", role: "member", requested: false },
          ],
        },
      },
    ),
);

export const SuggestionPath = z.lazy(() =>
  z.object({
    org_id: z.string().register(z.globalRegistry, __DOCS__ && { description: "The suggested organization's `org_id`", example: "6650f1c2e8b3e4a0123456bb" }),
  }),
);

export const JoinAnswer = z.lazy(() =>
  z
    .object({
      status: z.enum(["joined", "requested"]),
      org_id: z.string(),
      organization_name: z.string(),
      role: z.optional(z.string()),
      access_token: z.optional(z.string()).register(z.globalRegistry, __DOCS__ && { description: "Joined: a token for the organization" }),
      token_type: z.optional(z.literal("bearer")),
    })
    .register(z.globalRegistry, __DOCS__ && { example: { status: "requested", org_id: "6650f1c2e8b3e4a0123456bb", organization_name: "Acme" } }),
);

export const JoinRequests = z.lazy(() =>
  z.object({ requests: z.array(z.object({ user_id: z.string(), email: z.string(), domain: z.string(), requested_at: z.iso.datetime() })) }),
);

/** The requester's `user_id`, in the members' path shape: the same schema, built once. */
export { MemberPath as JoinRequestPath } from "./member-schemas";

export const ApproveBody = z.lazy(() =>
  z
    .strictObject({
      role: z.optional(z.enum(["member", "admin"])).register(z.globalRegistry, __DOCS__ && { description: "Default `member`; `admin` by an owner or admin" }),
    })
    .register(z.globalRegistry, __DOCS__ && { example: { role: "member" } }),
);

export const Approved = z.lazy(() => z.object({ user_id: z.string(), email: z.string(), role: z.string(), joined_at: z.iso.datetime() }));
