import { ROLES } from "../domain/kernel/roles";
import { DEFAULT_MEMBER_PAGE, MAX_MEMBER_PAGE } from "../domain/members/members";
import { MAX_TEAMS } from "../domain/teams/teams";
import * as z from "../zod";
import { optionalPageCursor, pageLimitOr } from "./record-schemas";
import { RoleList } from "./role-schemas";
import { isHexId } from "./route";
import { email, organizationName } from "./schemas";

/** Members, roles and invitations: request and response schemas. */
const exampleUser = "6650f1c2e8b3e4a0123456aa";
const exampleTime = "2026-01-01T00:00:00.000Z";

const role = () =>
  z.enum(ROLES).register(
    z.globalRegistry,
    __DOCS__ && {
      description: "`owner`: everything; `admin`: all but deleting the organization and making or touching owners; `member`: records and the member list",
    },
  );

// The member answers are built on their first use, not at every isolate's start (`z.lazy`).
const memberFields = () => ({
  user_id: z.string(),
  email: z.string(),
  role: z
    .string()
    .register(z.globalRegistry, __DOCS__ && { description: "The member's first role: the built-in one they hold, or else their first custom role" }),
  roles: z.array(z.string()).register(z.globalRegistry, __DOCS__ && { description: "Every role the member holds, the built-in one first" }),
  teams: z
    .array(z.object({ id: z.string(), role: z.enum(["lead", "member"]) }))
    .register(z.globalRegistry, __DOCS__ && { description: "The teams the member is in, with their role in each" }),
  joined_at: z.iso.datetime(),
});

export const MemberView = z.lazy(() => z.object(memberFields()));

export const MemberPage = z.lazy(() =>
  z
    .object({
      members: z.array(
        z.object({
          ...memberFields(),
          email_verified: z
            .boolean()
            .register(z.globalRegistry, __DOCS__ && { description: "The member followed a mailed link that proved the address is theirs" }),
        }),
      ),
      next_cursor: z.nullable(z.string()).register(z.globalRegistry, __DOCS__ && { description: "Pass as `cursor` for the next page; null on the last page" }),
    })
    .register(
      z.globalRegistry,
      __DOCS__ && {
        example: {
          members: [
            { user_id: exampleUser, email: "admin@testorg.com", role: "owner", roles: ["owner"], teams: [], joined_at: exampleTime, email_verified: true },
          ],
          next_cursor: null,
        },
      },
    ),
);

export const MemberListQuery = z.lazy(() =>
  z.object({
    limit: pageLimitOr(DEFAULT_MEMBER_PAGE, MAX_MEMBER_PAGE),
    cursor: optionalPageCursor((text) => (isHexId(text) ? text : null)),
  }),
);

export const MemberPath = z.lazy(() =>
  z.object({
    user_id: z.string().register(z.globalRegistry, __DOCS__ && { description: "The member's `user_id`", example: exampleUser }),
  }),
);

export const RoleBody = z.lazy(() =>
  z
    .strictObject({ role: z.optional(role()), roles: z.optional(RoleList) })
    .check(
      z.refine(
        (body) => (body.role === undefined) !== (body.roles === undefined),
        "name either role (one built-in role) or roles (every role, custom ones included)",
      ),
    )
    .register(z.globalRegistry, __DOCS__ && { example: { roles: ["member", "billing"] } }),
);

export const SwitchBody = z.lazy(() =>
  z.strictObject({ organization_name: organizationName() }).register(z.globalRegistry, __DOCS__ && { example: { organization_name: "OtherOrg" } }),
);

const invitedTeams = () =>
  z
    .array(z.string().check(z.refine(isHexId, "a team's id")))
    .check(z.maxLength(MAX_TEAMS))
    .register(z.globalRegistry, __DOCS__ && { description: "Teams (ids) the invitee joins as a plain member on accepting: each the inviter's to fill" });

export const InvitationBody = z.lazy(() =>
  z
    .strictObject({ email: email(), role: role(), teams: z.optional(invitedTeams()) })
    .register(z.globalRegistry, __DOCS__ && { example: { email: "colleague@testorg.com", role: "member" } }),
);

// The invitation answers are built on their first use, as the member answers are.
const invitationFields = () => ({
  id: z.string(),
  email: z.string(),
  role: role(),
  teams: z.array(z.string()),
  expires_at: z.iso.datetime(),
  created_at: z.iso.datetime(),
});

export const CreatedInvitation = z.lazy(() =>
  z
    .object({
      ...invitationFields(),
      token: z.string().register(z.globalRegistry, __DOCS__ && { description: "The one-time token, shown only here: deliver it to the invitee" }),
    })
    .register(
      z.globalRegistry,
      __DOCS__ && {
        example: {
          id: "6650f1c2e8b3e4a0123456bb",
          email: "colleague@testorg.com",
          role: "member",
          teams: [],
          expires_at: "2026-01-08T00:00:00.000Z",
          created_at: exampleTime,
          token: "q0Xk3v…",
        },
      },
    ),
);

/** How the invitation's mail went, with a mail transport configured; null when none was mailed. */
const delivery = () =>
  z.nullable(z.object({ status: z.enum(["pending", "sent", "failed"]), attempts: z.number(), last_error: z.nullable(z.string()) })).register(
    z.globalRegistry,
    __DOCS__ && {
      description:
        "The invitation's mail: `pending` (queued, or retried after `last_error`), `sent` (the mail server accepted it) or `failed` (given up after a day of attempts); null when no mail was sent (no transport, or not queued yet)",
    },
  );

export const InvitationList = z.lazy(() =>
  z.object({ invitations: z.array(z.object({ ...invitationFields(), delivery: delivery() })) }).register(
    z.globalRegistry,
    __DOCS__ && {
      example: {
        invitations: [
          {
            id: "6650f1c2e8b3e4a0123456bb",
            email: "colleague@testorg.com",
            role: "member",
            teams: [],
            expires_at: "2026-01-08T00:00:00.000Z",
            created_at: exampleTime,
            delivery: { status: "sent", attempts: 1, last_error: null },
          },
        ],
      },
    },
  ),
);

export const InvitationPath = z.lazy(() =>
  z.object({
    id: z.string().register(z.globalRegistry, __DOCS__ && { description: "The invitation's `id`", example: "6650f1c2e8b3e4a0123456bb" }),
  }),
);

export const AcceptBody = z.lazy(() =>
  z
    .strictObject({
      token: z.string().check(z.minLength(1), z.maxLength(256)),
      password: z.optional(z.string().check(z.minLength(1), z.maxLength(256))).register(
        z.globalRegistry,
        __DOCS__ && {
          description: "A new account's password (8 characters or more), or an existing account's password; not needed with that account's bearer token",
        },
      ),
    })
    .register(z.globalRegistry, __DOCS__ && { example: { token: "q0Xk3v…", password: "Colleague-1234" } }),
);
