import { createApiKey, listApiKeys, revokeApiKey, rollApiKey } from "../../domain/api-keys/api-keys";
import { AppError } from "../../domain/kernel/errors";
import { ApiKeyBody, ApiKeyList, ApiKeyPath, ApiKeyWithSecret, RollBody } from "../api-key-schemas";
import { BODY_ERRORS, defineRoute, isHexId, NO_STORE, type Route, TOKEN_ERRORS } from "../route";
import { detailAnswer } from "../schemas";

const keyIdOr404 = (text: string): string => {
  if (!isHexId(text)) throw new AppError("API_KEY_NOT_FOUND");
  return text;
};

const createApiKeyRoute = defineRoute({
  method: "post",
  path: "/org/api-keys",
  permission: "api_key:manage",
  tag: "apiKeys",
  summary: __DOCS__ && "Create an API key for the organization; its secret is answered once",
  description:
    __DOCS__ &&
    "The key belongs to the organization: it keeps working after its creator leaves, within its scopes, until it is revoked or expires, or the organization is suspended or deleted. Send it as `Authorization: Bearer oms_…`.",
  auth: "required",
  audit: "api_key.create",
  request: { body: { schema: ApiKeyBody } },
  responses: { 201: { description: __DOCS__ && "Created", schema: ApiKeyWithSecret } },
  errors: [...TOKEN_ERRORS, "API_KEY_LIMIT", "ORGANIZATION_BUSY", ...BODY_ERRORS],
  handler: async ({ deps, principal, input }) => {
    const { name, scopes, expires_at } = await input.body();
    const created = await createApiKey(deps, principal, { name, scopes, ...(expires_at ? { expires_at: new Date(expires_at) } : {}) });
    return { status: 201, body: created, headers: NO_STORE };
  },
});

const listApiKeysRoute = defineRoute({
  method: "get",
  path: "/org/api-keys",
  permission: "api_key:manage",
  tag: "apiKeys",
  summary: __DOCS__ && "The organization's API keys (never their secrets)",
  auth: "required",
  responses: { 200: { description: __DOCS__ && "The keys, oldest first", schema: ApiKeyList } },
  errors: TOKEN_ERRORS,
  handler: async ({ deps, principal }) => ({ body: await listApiKeys(deps, principal) }),
});

const revokeApiKeyRoute = defineRoute({
  method: "delete",
  path: "/org/api-keys/{id}",
  permission: "api_key:manage",
  tag: "apiKeys",
  summary: __DOCS__ && "Revoke an API key: no request with it is accepted once this answers",
  auth: "required",
  audit: "api_key.revoke",
  request: { path: ApiKeyPath },
  responses: {
    200: detailAnswer(__DOCS__ && { description: "Revoked", detail: "revoked" }),
  },
  errors: [...TOKEN_ERRORS, "API_KEY_NOT_FOUND", "ORGANIZATION_BUSY"],
  handler: async ({ deps, principal, input }) => {
    await revokeApiKey(deps, principal, keyIdOr404(input.params().id));
    return { body: { detail: "revoked" } };
  },
});

const rollApiKeyRoute = defineRoute({
  method: "post",
  path: "/org/api-keys/{id}/roll",
  permission: "api_key:manage",
  tag: "apiKeys",
  summary: __DOCS__ && "Replace an API key's secret; the old one may keep working for an overlap",
  description:
    __DOCS__ &&
    "The new secret is answered once. The old one works until `overlap_seconds` from now (never past the key's expiry), then stops; without `overlap_seconds` it stops at once.",
  auth: "required",
  audit: "api_key.roll",
  request: { path: ApiKeyPath, body: { schema: RollBody } },
  responses: { 200: { description: __DOCS__ && "Rolled", schema: ApiKeyWithSecret } },
  errors: [...TOKEN_ERRORS, "API_KEY_NOT_FOUND", "ORGANIZATION_BUSY", ...BODY_ERRORS],
  handler: async ({ deps, principal, input }) => {
    const id = keyIdOr404(input.params().id);
    const { overlap_seconds = 0 } = await input.body();
    return { body: await rollApiKey(deps, principal, id, overlap_seconds), headers: NO_STORE };
  },
});

export const apiKeyRoutes: Route[] = [createApiKeyRoute, listApiKeysRoute, revokeApiKeyRoute, rollApiKeyRoute];
