import { changePassword, login, logout } from "../../domain/auth";
import type { Env } from "../../env";
import { requirePrincipal } from "../authenticate";
import { readJson } from "../body";
import { type AppRequest, depsFor } from "../context";
import { jsonOut } from "../respond";
import { Detail, LoginBody, PasswordChangeBody, TokenResponse } from "../schemas";

// A bearer token is a credential: no cache anywhere may keep it.
const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" };

export const loginRoute = async (request: AppRequest, env: Env) => {
  request.state.audit = { action: "admin.login" };
  const deps = await depsFor(request, env);
  const body = await readJson(request, LoginBody, deps.settings.maxBodyBytes);
  request.state.audit.email = body.email;
  const { org, ...token } = await login(deps, body.email, body.password);
  request.state.orgId = org._id.toHexString();
  return jsonOut(TokenResponse, token, { headers: NO_STORE });
};

export const logoutRoute = async (request: AppRequest, env: Env) => {
  request.state.audit = { action: "admin.logout" };
  const deps = await depsFor(request, env);
  await logout(deps, await requirePrincipal(request, deps));
  return jsonOut(Detail, { detail: "logged out" });
};

export const passwordRoute = async (request: AppRequest, env: Env) => {
  request.state.audit = { action: "admin.password" };
  const deps = await depsFor(request, env);
  const principal = await requirePrincipal(request, deps);
  const body = await readJson(request, PasswordChangeBody, deps.settings.maxBodyBytes);
  const { org: _org, ...token } = await changePassword(deps, principal, body.current_password, body.new_password);
  return jsonOut(TokenResponse, token, { headers: NO_STORE });
};
