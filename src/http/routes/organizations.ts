import { authenticateToken } from "../../domain/auth";
import type { Deps } from "../../domain/organization";
import { type Credentials, createOrganization, deleteOrganization, getOrganization, renameOrganization } from "../../domain/organizations";
import { slugProblem } from "../../domain/slug";
import type { Env } from "../../env";
import { bearerToken, requirePrincipal } from "../authenticate";
import { readJson } from "../body";
import { type AppRequest, depsFor } from "../context";
import { ValidationError } from "../http-error";
import { jsonOut } from "../respond";
import { CreatedOrganization, CreateOrganizationBody, Detail, OrganizationMetadata, OrganizationQuery, UpdateOrganizationBody } from "../schemas";
import { invalid, parseOrThrow } from "../validation";

const checkName = (deps: Deps, name: string, loc: (string | number)[]): void => {
  const problem = slugProblem(name, deps.settings.data.database);
  if (problem) throw invalid(loc, problem);
};

const queryOf = (request: AppRequest) => parseOrThrow(OrganizationQuery, request.query, "query");

export const createRoute = async (request: AppRequest, env: Env) => {
  request.state.audit = { action: "org.create" };
  const deps = await depsFor(request, env);
  const body = await readJson(request, CreateOrganizationBody, deps.settings.maxBodyBytes);
  Object.assign(request.state.audit, { organizationName: body.organization_name, email: body.email });
  checkName(deps, body.organization_name, ["body", "organization_name"]);
  return jsonOut(CreatedOrganization, await createOrganization(deps, body));
};

export const getRoute = async (request: AppRequest, env: Env) => {
  const deps = await depsFor(request, env);
  const { organization_name } = queryOf(request);
  const token = bearerToken(request);
  // The token is optional here: a bad one only means the caller is not shown the admin e-mail.
  const principal = token ? await authenticateToken(deps, token).catch(() => undefined) : undefined;
  if (principal) request.state.orgId = principal.orgId.toHexString();
  return jsonOut(OrganizationMetadata, await getOrganization(deps, organization_name, principal));
};

export const updateRoute = async (request: AppRequest, env: Env) => {
  request.state.audit = { action: "org.update" };
  const deps = await depsFor(request, env);
  const body = await readJson(request, UpdateOrganizationBody, deps.settings.maxBodyBytes);
  Object.assign(request.state.audit, { organizationName: body.organization_name, email: body.email });
  checkName(deps, body.new_organization_name, ["body", "new_organization_name"]);
  let credentials: Credentials;
  if (body.email !== undefined && body.password !== undefined) {
    credentials = { kind: "password", email: body.email, password: body.password };
  } else if (bearerToken(request)) {
    credentials = { kind: "token", principal: await requirePrincipal(request, deps) };
  } else {
    // Without a token the old contract applies: both credentials are required fields.
    const missing = (["email", "password"] as const).filter((field) => body[field] === undefined);
    throw new ValidationError(missing.map((field) => ({ loc: ["body", field], msg: "Field required", type: "missing" })));
  }
  return jsonOut(OrganizationMetadata, await renameOrganization(deps, body, credentials));
};

export const deleteRoute = async (request: AppRequest, env: Env) => {
  request.state.audit = { action: "org.delete" };
  const deps = await depsFor(request, env);
  const { organization_name } = queryOf(request);
  request.state.audit.organizationName = organization_name;
  const principal = await requirePrincipal(request, deps);
  const adminEmail = request.headers.get("x-admin-email") ?? undefined;
  await deleteOrganization(deps, organization_name, principal, adminEmail);
  return jsonOut(Detail, { detail: "deleted" });
};
