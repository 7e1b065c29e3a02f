import { login } from "../../domain/auth";
import type { Env } from "../../env";
import { readJson } from "../body";
import { type AppRequest, depsFor } from "../context";
import { LoginBody } from "../schemas";

export const loginRoute = async (request: AppRequest, env: Env) => {
  const deps = await depsFor(request, env);
  const body = await readJson(request, LoginBody, deps.settings.maxBodyBytes);
  // A bearer token is a credential: no cache anywhere may keep it.
  return Response.json(await login(deps, body.email, body.password), { headers: { "cache-control": "no-store", pragma: "no-cache" } });
};
