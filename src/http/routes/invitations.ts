import { acceptInvitation } from "../../domain/invitations/accept";
import { createInvitation, listInvitations, revokeInvitation } from "../../domain/invitations/invitations";
import { AcceptBody, CreatedInvitation, InvitationBody, InvitationList, InvitationPath } from "../member-schemas";
import { BODY_ERRORS, defineRoute, idOr404, NO_STORE, TOKEN_ERRORS } from "../route";
import { detailAnswer, TokenResponse } from "../schemas";

export const createInvitationRoute = defineRoute({
  method: "post",
  path: "/org/invitations",
  permission: "member:invite",
  tag: "members",
  summary: __DOCS__ && "Invite someone by e-mail with a role; answers the one-time token to deliver",
  description:
    __DOCS__ &&
    "The service sends no e-mail: the caller delivers the token. One pending invitation per e-mail and organization, at most `MAX_PENDING_INVITATIONS` per organization (1000 by default) (expired ones, and those whose inviter may no longer invite, give way); it expires after `INVITATION_TTL_HOURS` (7 days by default). Only owners invite owners; a member whose `member:invite` comes from a role of the organization's own invites members only, while holding everything a member may do. `teams` names teams the invitee joins on accepting, each the inviter's to fill (`team:manage`, or its lead); one deleted before the accept is left out.",
  auth: "required",
  audit: "invitation.create",
  request: { body: { schema: InvitationBody } },
  responses: { 201: { description: __DOCS__ && "Invited", schema: CreatedInvitation } },
  errors: [
    ...TOKEN_ERRORS,
    "ALREADY_MEMBER",
    "INVITATION_EXISTS",
    "INVITATION_LIMIT",
    "INVITATION_DOMAIN",
    "TEAM_NOT_FOUND",
    "ORGANIZATION_BUSY",
    ...BODY_ERRORS,
  ],
  handler: async ({ deps, principal, input, audit }) => {
    const body = await input.body();
    audit.note({ email: body.email });
    return { status: 201, body: await createInvitation(deps, principal, body), headers: NO_STORE };
  },
});

export const listInvitationsRoute = defineRoute({
  method: "get",
  path: "/org/invitations",
  permission: "member:invite",
  tag: "members",
  summary: __DOCS__ && "List the organization's pending invitations",
  auth: "required",
  responses: { 200: { description: __DOCS__ && "Pending invitations, oldest first", schema: InvitationList } },
  errors: TOKEN_ERRORS,
  handler: async ({ deps, principal }) => ({ body: await listInvitations(deps, principal) }),
});

export const revokeInvitationRoute = defineRoute({
  method: "delete",
  path: "/org/invitations/{id}",
  permission: "member:invite",
  tag: "members",
  summary: __DOCS__ && "Revoke a pending invitation; its token stops working",
  auth: "required",
  audit: "invitation.revoke",
  request: { path: InvitationPath },
  responses: {
    200: detailAnswer(__DOCS__ && { description: "Revoked", detail: "revoked" }),
  },
  errors: [...TOKEN_ERRORS, "INVITATION_NOT_FOUND", "ORGANIZATION_BUSY"],
  handler: async ({ deps, principal, input }) => {
    const { id } = input.params();
    await revokeInvitation(deps, principal, idOr404(id, "INVITATION_NOT_FOUND"));
    return { body: { detail: "revoked" } };
  },
});

export const acceptInvitationRoute = defineRoute({
  method: "post",
  path: "/invitations/accept",
  tag: "members",
  summary: __DOCS__ && "Accept an invitation and receive a token for its organization",
  description:
    __DOCS__ &&
    "A new e-mail becomes an account with the password given. An e-mail that already has an account needs that account's password, or its bearer token, so an invitation alone never takes an account over. Expired, revoked and used tokens all answer the same 410, as does one whose inviter has since left or lost the right to invite its role. Counted against the per-client-address throttle of password checks (once per request).",
  auth: "optional",
  audit: "invitation.accept",
  request: { body: { schema: AcceptBody } },
  responses: { 200: { description: __DOCS__ && "Joined", schema: TokenResponse } },
  errors: [
    "INVITATION_INVALID",
    "INVALID_CREDENTIALS",
    "INVALID_TOKEN",
    // An organization's API key is no account to join with.
    "PERMISSION_DENIED",
    "ACCOUNT_EXISTS",
    "NEW_ACCOUNT_PASSWORD",
    "ACCOUNT_LOCKED",
    "RATE_LIMITED",
    "ORGANIZATION_SUSPENDED",
    "ORGANIZATION_BUSY",
    "STORE_UNAVAILABLE",
    ...BODY_ERRORS,
  ],
  handler: async ({ request, deps, input, hasToken, authenticate }) => {
    const principal = hasToken ? await authenticate() : undefined;
    const body = await input.body();
    const { org, ...token } = await acceptInvitation(deps, body, principal);
    request.state.orgId = org._id.toHexString();
    return { body: token, headers: NO_STORE };
  },
});
