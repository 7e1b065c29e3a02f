import { changePassword, login, logout } from "../../domain/auth/auth";
import { defineRoute, NO_STORE } from "../route";
import { detailAnswer, LoginBody, PasswordChangeBody, TokenResponse } from "../schemas";

// A bearer token is a credential: no cache anywhere may keep it.

export const loginRoute = defineRoute({
  method: "post",
  path: "/admin/login",
  tag: "admin",
  summary: __DOCS__ && "Log an admin in and receive a bearer token",
  description:
    __DOCS__ &&
    "An unknown e-mail and a wrong password get the same 401, and a locked e-mail the same 429 whether an admin has it or not. An account that belongs to no organization (opened by `POST /auth/signup`) gets an account token, which opens `/auth/suggestions` only.",
  data: true,
  audit: "admin.login",
  request: { body: { schema: LoginBody } },
  responses: { 200: { description: __DOCS__ && "Logged in", schema: TokenResponse } },
  errors: [
    "INVALID_CREDENTIALS",
    "ORGANIZATION_SUSPENDED",
    "ORGANIZATION_REQUIRED",
    "ACCOUNT_LOCKED",
    "RATE_LIMITED",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "VALIDATION_FAILED",
    "STORE_UNAVAILABLE",
  ],
  handler: async ({ request, deps, input, audit }) => {
    const body = await input.body();
    audit.note({ email: body.email });
    const { org, ...token } = await login(deps, body.email, body.password, body.organization_name);
    // An account in no organization signs in as itself (an account token).
    if (org) request.state.orgId = org._id.toHexString();
    return { body: token, headers: NO_STORE };
  },
});

export const logoutRoute = defineRoute({
  method: "post",
  path: "/admin/logout",
  tag: "admin",
  summary: __DOCS__ && "Log out: every token issued to this admin so far stops working",
  auth: "required",
  audit: "admin.logout",
  responses: {
    200: detailAnswer(__DOCS__ && { description: "Logged out", detail: "logged out" }),
  },
  errors: ["NOT_AUTHENTICATED", "INVALID_TOKEN", "STORE_UNAVAILABLE"],
  handler: async ({ deps, principal }) => {
    await logout(deps, principal);
    return { body: { detail: "logged out" } };
  },
});

export const passwordRoute = defineRoute({
  method: "post",
  path: "/admin/password",
  tag: "admin",
  summary: __DOCS__ && "Change the admin's password and receive a fresh token; earlier tokens stop working",
  auth: "required",
  audit: "admin.password",
  request: { body: { schema: PasswordChangeBody } },
  responses: { 200: { description: __DOCS__ && "Changed", schema: TokenResponse } },
  errors: [
    "NOT_AUTHENTICATED",
    "INVALID_TOKEN",
    "INVALID_CREDENTIALS",
    "ORGANIZATION_SUSPENDED",
    "ACCOUNT_LOCKED",
    "RATE_LIMITED",
    "PAYLOAD_TOO_LARGE",
    "UNSUPPORTED_MEDIA_TYPE",
    "VALIDATION_FAILED",
    "STORE_UNAVAILABLE",
  ],
  handler: async ({ deps, principal, input }) => {
    const body = await input.body();
    const { org: _org, ...token } = await changePassword(deps, principal, body.current_password, body.new_password);
    return { body: token, headers: NO_STORE };
  },
});
