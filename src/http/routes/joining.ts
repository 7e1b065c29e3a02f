import { attemptKey } from "../../domain/accounts/accounts";
import { accountOfBearer, signUp } from "../../domain/accounts/signup";
import { approveJoinRequest, declineJoinRequest, joinSuggested, listJoinRequests, suggestionsFor } from "../../domain/domains/joining";
import { normalizeEmail } from "../../domain/kernel/model";
import { ApproveBody, Approved, JoinAnswer, JoinRequestPath, JoinRequests, SignedUp, SignupBody, SuggestionPath, Suggestions } from "../account-schemas";
import { bearerToken } from "../authenticate";
import { throttleAddress } from "../context";
import { BODY_ERRORS, defineRoute, idOr404, NO_STORE, type Route, TOKEN_ERRORS } from "../route";
import { detailAnswer } from "../schemas";

/**
 * Finding a way in by the address's domain: sign-up (an account in no organization), the
 * organizations an account's verified address may join or ask to, and the requests an owner or
 * admin approves (domain/domains/joining.ts).
 */
const ACCOUNT_ERRORS = ["NOT_AUTHENTICATED", "INVALID_TOKEN", "STORE_UNAVAILABLE"] as const;

const signupRoute = defineRoute({
  method: "post",
  path: "/auth/signup",
  tag: "account",
  summary: __DOCS__ && "Open an account that belongs to no organization yet; its address is verified by a mailed link",
  description:
    __DOCS__ &&
    "Answers an account token (it opens `/auth/suggestions`, nothing of any organization) and, with mail configured, mails a verification link. Once the address is verified, an organization whose verified domain it is takes it in by its policy: at once (`auto_join`), or on an owner's or admin's approval (`suggest`). An unverified address joins nothing. Throttled per client address and per e-mail address.",
  data: true,
  audit: "account.signup",
  request: { body: { schema: SignupBody } },
  responses: { 201: { description: __DOCS__ && "Signed up", schema: SignedUp } },
  errors: ["EMAIL_TAKEN", "RATE_LIMITED", "STORE_UNAVAILABLE", ...BODY_ERRORS],
  handler: async ({ request, env, deps, input, audit }) => {
    const { email, password } = await input.body();
    audit.note({ email });
    await throttleAddress(request, env, await attemptKey(normalizeEmail(email)));
    return { status: 201, body: await signUp(deps, email, password), headers: NO_STORE };
  },
});

const suggestionsRoute = defineRoute({
  method: "get",
  path: "/auth/suggestions",
  tag: "account",
  summary: __DOCS__ && "The organizations the signed-in account's verified address may join, or ask to join, by its domain",
  description:
    __DOCS__ &&
    "With an account token or a member's token. Empty while the address is unverified, and for a domain no organization verified or whose policy is `none`.",
  data: true,
  responses: { 200: { description: __DOCS__ && "The suggestions", schema: Suggestions } },
  errors: [...ACCOUNT_ERRORS],
  handler: async ({ request, deps }) => ({ body: await suggestionsFor(deps, await accountOfBearer(deps, bearerToken(request))) }),
});

const joinSuggestedRoute = defineRoute({
  method: "post",
  path: "/auth/suggestions/{org_id}/join",
  tag: "account",
  summary: __DOCS__ && "Join a suggested organization (`auto_join`), or ask to (`suggest`)",
  description:
    __DOCS__ &&
    "201 with a token for the organization when its domain's policy is `auto_join`; 202 when it is `suggest` (the request waits for an owner or admin; asking again answers the same).",
  data: true,
  audit: "account.join",
  request: { path: SuggestionPath },
  responses: {
    201: { description: __DOCS__ && "Joined", schema: JoinAnswer },
    202: { description: __DOCS__ && "Asked", schema: JoinAnswer },
  },
  errors: [
    ...ACCOUNT_ERRORS,
    "EMAIL_NOT_VERIFIED",
    "SUGGESTION_NOT_FOUND",
    "ALREADY_MEMBER",
    "JOIN_REQUESTS_FULL",
    "ORGANIZATION_SUSPENDED",
    "ORGANIZATION_BUSY",
  ],
  handler: async ({ request, deps, input }) => {
    const account = await accountOfBearer(deps, bearerToken(request));
    const answer = await joinSuggested(deps, account, idOr404(input.params().org_id, "SUGGESTION_NOT_FOUND"));
    request.state.orgId = answer.org_id;
    return { status: answer.status === "joined" ? 201 : 202, body: answer, headers: NO_STORE };
  },
});

const listJoinRequestsRoute = defineRoute({
  method: "get",
  path: "/org/join-requests",
  permission: "member:invite",
  tag: "members",
  summary: __DOCS__ && "People at a `suggest` domain who asked to join",
  auth: "required",
  responses: { 200: { description: __DOCS__ && "The requests", schema: JoinRequests } },
  errors: TOKEN_ERRORS,
  handler: async ({ deps, caller }) => ({ body: await listJoinRequests(deps, caller) }),
});

const approveJoinRequestRoute = defineRoute({
  method: "post",
  path: "/org/join-requests/{user_id}/approve",
  permission: "member:invite",
  tag: "members",
  summary: __DOCS__ && "Let a requester in",
  description:
    __DOCS__ &&
    'The body is optional: `{"role":"admin"}` makes the requester an admin (an owner or admin approving); without it, a member. Who may approve is who may invite: a member whose `member:invite` comes from a role of the organization\'s own approves members only.',
  auth: "required",
  audit: "member.join_approve",
  request: { path: JoinRequestPath, body: { schema: ApproveBody } },
  responses: { 200: { description: __DOCS__ && "Joined", schema: Approved } },
  errors: [...TOKEN_ERRORS, "PERMISSION_DENIED", "JOIN_REQUEST_NOT_FOUND", "ALREADY_MEMBER", "ORGANIZATION_BUSY", ...BODY_ERRORS],
  handler: async ({ request, deps, principal, input }) => {
    const userId = idOr404(input.params().user_id, "JOIN_REQUEST_NOT_FOUND");
    // An empty POST approves as a member.
    const role = request.headers.get("content-type") ? ((await input.body()).role ?? "member") : "member";
    return { body: await approveJoinRequest(deps, principal, userId, role) };
  },
});

const declineJoinRequestRoute = defineRoute({
  method: "delete",
  path: "/org/join-requests/{user_id}",
  permission: "member:invite",
  tag: "members",
  summary: __DOCS__ && "Turn a request down; the person may ask again",
  auth: "required",
  audit: "member.join_decline",
  request: { path: JoinRequestPath },
  responses: {
    200: detailAnswer(__DOCS__ && { description: "Declined", detail: "declined" }),
  },
  errors: [...TOKEN_ERRORS, "JOIN_REQUEST_NOT_FOUND", "ORGANIZATION_BUSY"],
  handler: async ({ deps, caller, input }) => {
    await declineJoinRequest(deps, caller, idOr404(input.params().user_id, "JOIN_REQUEST_NOT_FOUND"));
    return { body: { detail: "declined" } };
  },
});

export const signupRoutes: Route[] = [signupRoute, suggestionsRoute, joinSuggestedRoute];
export const joinRequestRoutes: Route[] = [listJoinRequestsRoute, approveJoinRequestRoute, declineJoinRequestRoute];
