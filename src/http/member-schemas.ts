import * as z from "zod";
import { DEFAULT_MEMBER_PAGE, MAX_MEMBER_PAGE } from "../domain/members";
import { ROLES } from "../domain/roles";
import { pageLimit } from "./record-schemas";

/** Members, roles and invitations: request and response schemas. */
const exampleUser = "6650f1c2e8b3e4a0123456aa";
const exampleTime = "2026-01-01T00:00:00.000Z";
const HEX_ID = /^[0-9a-f]{24}$/;

const role = z
  .enum(ROLES)
  .describe("`owner`: everything; `admin`: all but deleting the organization and making or touching owners; `member`: records and the member list");
const email = z.email().max(254);
const organizationName = z.string().min(1).max(255);

export const MemberView = z.object({ user_id: z.string(), email: z.string(), role, joined_at: z.iso.datetime() });

export const MemberPage = z
  .object({
    members: z.array(MemberView),
    next_cursor: z.string().nullable().describe("Pass as `cursor` for the next page; null on the last page"),
  })
  .meta({ example: { members: [{ user_id: exampleUser, email: "admin@testorg.com", role: "owner", joined_at: exampleTime }], next_cursor: null } });

export const MemberListQuery = z.object({
  limit: pageLimit.default(DEFAULT_MEMBER_PAGE).meta({ type: "integer", minimum: 1, maximum: MAX_MEMBER_PAGE, default: DEFAULT_MEMBER_PAGE } as never),
  cursor: z
    .string()
    .regex(HEX_ID, "Invalid cursor: pass the next_cursor of a previous page unchanged")
    .optional()
    .meta({ description: "The `next_cursor` of the previous page" }),
});

export const MemberPath = z.object({ user_id: z.string().meta({ description: "The member's `user_id`", example: exampleUser }) });

export const RoleBody = z.strictObject({ role }).meta({ example: { role: "admin" } });

export const SwitchBody = z.strictObject({ organization_name: organizationName }).meta({ example: { organization_name: "OtherOrg" } });

export const InvitationBody = z.strictObject({ email, role }).meta({ example: { email: "colleague@testorg.com", role: "member" } });

const invitationFields = { id: z.string(), email: z.string(), role, expires_at: z.iso.datetime(), created_at: z.iso.datetime() };

export const Invitation = z.object(invitationFields);

export const CreatedInvitation = z
  .object({ ...invitationFields, token: z.string().describe("The one-time token, shown only here: deliver it to the invitee") })
  .meta({
    example: {
      id: "6650f1c2e8b3e4a0123456bb",
      email: "colleague@testorg.com",
      role: "member",
      expires_at: "2026-01-08T00:00:00.000Z",
      created_at: exampleTime,
      token: "q0Xk3v…",
    },
  });

export const InvitationList = z.object({ invitations: z.array(Invitation) }).meta({
  example: {
    invitations: [
      { id: "6650f1c2e8b3e4a0123456bb", email: "colleague@testorg.com", role: "member", expires_at: "2026-01-08T00:00:00.000Z", created_at: exampleTime },
    ],
  },
});

export const InvitationPath = z.object({ id: z.string().meta({ description: "The invitation's `id`", example: "6650f1c2e8b3e4a0123456bb" }) });

export const AcceptBody = z
  .strictObject({
    token: z.string().min(1).max(256),
    password: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe("A new account's password (8 characters or more), or an existing account's password; not needed with that account's bearer token"),
  })
  .meta({ example: { token: "q0Xk3v…", password: "Colleague-1234" } });

export const isHexId = (text: string): boolean => HEX_ID.test(text);
