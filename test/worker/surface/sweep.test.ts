import { beforeEach, describe, expect, it } from "vitest";
import { ERRORS, type ErrorCode } from "../../../src/domain/kernel/errors";
import { ROUTES } from "../../../src/http/routes";
import { env, useOwnDatabase } from "../../helpers";
import { newTenant, PROVOKE, SUCCESS, send, type Tenant } from "./cases";
import { documentedExamples, loadDocument, operationOf, schemaProblems } from "./document";

const documented = ROUTES.filter((route) => !route.internal);
const key = (route: { method: string; path: string }) => `${route.method.toUpperCase()} ${route.path}`;

/** A refusal the gateway's store cannot be made to give from inside the Worker. */
const ONLY_EMBEDDED = new Set<ErrorCode>(["NAME_REFUSED_BY_STORE"]);

/**
 * The cases make close to a thousand organizations. They go to databases of this file's own, a new
 * one every 50 cases, so that no lookup reads more than a few hundred documents on FerretDB's
 * SQLite handler (it reads a whole collection for anything but an `_id`).
 */
let started = 0;
const spare = new Map<string, Tenant>();
beforeEach(() => {
  if (started++ % 50 !== 0) return;
  useOwnDatabase("sweep");
  spare.clear();
});

/**
 * Provocations after which the tenant is as it was, for the route's next case: they rewrite the
 * request (or the bindings it runs with), or set something up for another organization, or set
 * the store up for this tenant only on some routes and say so on it (`changed`), or leave on it
 * how to put back what they changed (`undo`). A key made for a provocation stays the tenant's
 * (`fullKey`, `narrowKeys`), for the provocations that use one. Failed logins are not among them:
 * each one brings the account closer to its lock.
 */
const LEAVE_TENANT = new Set<ErrorCode>([
  "NOT_AUTHENTICATED",
  "INVALID_TOKEN",
  "UNSUPPORTED_MEDIA_TYPE",
  "PAYLOAD_TOO_LARGE",
  "VALIDATION_FAILED",
  "STORE_UNAVAILABLE",
  "RATE_LIMITED",
  "PERMISSION_DENIED",
  "FORBIDDEN",
  "ADMIN_EMAIL_MISMATCH",
  "ORGANIZATION_NOT_FOUND",
  "ORGANIZATION_EXISTS",
  "ORGANIZATION_BUSY",
  "ORGANIZATION_SUSPENDED",
  "COLLECTION_EXISTS",
  "NAME_REFUSED_BY_STORE",
  "ADMIN_EMAIL_EXISTS",
  "PLATFORM_KEY_REQUIRED",
  "PLATFORM_READ_ONLY",
  "RECORD_NOT_FOUND",
  "MEMBER_NOT_FOUND",
  "LAST_OWNER",
  "TEAM_NOT_FOUND",
  "TEAM_EXISTS",
  "TEAM_LIMIT",
  "INVITATION_NOT_FOUND",
  "INVITATION_DOMAIN",
  "ALREADY_MEMBER",
  "INVITATION_INVALID",
  "EVENT_CURSOR_INVALID",
  "DOMAIN_NOT_FOUND",
  "DOMAIN_PUBLIC",
  "DOMAIN_EXISTS",
  "DOMAIN_TAKEN",
  "DOMAIN_LIMIT",
  "WEBHOOK_URL_REFUSED",
  "WEBHOOK_LIMIT",
  "WEBHOOK_NOT_FOUND",
  "WEBHOOK_DISABLED",
  "DELIVERY_NOT_FOUND",
  "API_KEY_LIMIT",
  "API_KEY_NOT_FOUND",
  "EMAIL_TAKEN",
  "EMAIL_NOT_VERIFIED",
  "SUGGESTION_NOT_FOUND",
  "JOIN_REQUEST_NOT_FOUND",
  "JOIN_REQUESTS_FULL",
  "ROLE_NOT_FOUND",
  "ROLE_EXISTS",
  "ROLE_LIMIT",
  "ROLE_IN_USE",
  "ROLE_UNKNOWN",
  "LINK_INVALID",
  "MAIL_DISABLED",
]);

/**
 * A tenant for a case of `route`: the one the route's previous case left unchanged, or a new one.
 * A case leaves its tenant unchanged when its provocation left it as it was (above) and the answer
 * was a refusal (a refused request changes nothing: bad-input and fuzz check that on their own),
 * a read, or a success that does not involve the tenant (a create of another organization, the
 * operator's listings, the documents).
 */
const tenantFor = async (route: string): Promise<Tenant> => {
  const kept = spare.get(route);
  spare.delete(route);
  return kept ?? newTenant(route);
};
const keepIfUnchanged = async (route: string, tenant: Tenant, code: ErrorCode, res: Response) => {
  const [method] = route.split(" ");
  const untouched = res.status >= 400 || method === "GET" || SUCCESS[route]?.length === 0;
  if (!LEAVE_TENANT.has(code) || !untouched || tenant.changed) return;
  await tenant.undo?.();
  tenant.undo = undefined;
  spare.set(route, tenant);
};

const errorCases = documented.flatMap((route) => route.errors.map((code) => [key(route), code] as const));

describe("every documented error case, sent", () => {
  it("has a way to provoke it, and every declared route a successful request", () => {
    expect(documented.map(key).filter((name) => !SUCCESS[name])).toEqual([]);
    expect(errorCases.filter(([, code]) => !PROVOKE[code]).map((pair) => pair.join(" "))).toEqual([]);
  });

  it.each(errorCases)("%s answers %s as documented", async (name, code) => {
    if (env.DATA_API_URL && ONLY_EMBEDDED.has(code)) return;
    const [method = "", path = ""] = name.split(" ");
    const op = operationOf(await loadDocument(), method, path);
    const tenant = await tenantFor(name);
    const success = SUCCESS[name];
    const provoke = PROVOKE[code];
    if (!success || !provoke) throw new Error(`no case for ${name} ${code}`);
    const res = await send(await provoke(success(tenant), tenant, name));
    await keepIfUnchanged(name, tenant, code, res);
    const body = (await res.json()) as { detail: unknown };
    const status = ERRORS[code].status;
    expect({ status: res.status, body }).toMatchObject({ status });
    expect(Object.keys(op.responses), "the status is documented").toContain(String(status));
    expect(schemaProblems(op, status, body)).toEqual([]);
    if (code !== "VALIDATION_FAILED") {
      expect(body).toEqual({ detail: ERRORS[code].message });
      expect(documentedExamples(op, status)).toContainEqual(body);
    }
  });
});

describe("every documented success, sent", () => {
  it.each(documented.map((route) => [key(route), route] as const))("%s answers as documented", async (name, route) => {
    const op = operationOf(await loadDocument(), route.method, route.path);
    const tenant = await newTenant(name);
    const ask = SUCCESS[name];
    if (!ask) throw new Error(`no successful request for ${name}`);
    const res = await send(ask(tenant));
    const [status = 0] = Object.keys(route.responses).map(Number);
    expect(res.status).toBe(status);
    const [contentType, media] = Object.entries(op.responses[String(status)]?.content ?? {})[0] ?? [];
    if (!contentType) return expect(await res.text()).toBe("");
    expect(res.headers.get("content-type")).toMatch(new RegExp(`^${contentType}`));
    if (media?.schema) expect(schemaProblems(op, status, await res.json())).toEqual([]);
  });
});

/**
 * Every provocation against every route, declared or not: whatever a route answers must be in its
 * document. A route that can answer a code it does not declare (login's 429 once was) fails here.
 *
 * On the embedded store only: what it checks is the HTTP layer's documentation, the same code on
 * either store, and most of its pairs (a webhook's limit provoked on /health) touch no store path
 * the declared-codes cases above do not. Through the gateway they were two thirds of the MongoDB
 * suites' time, for no path of their own.
 */
describe.skipIf(env.DATA_API_URL)("every answer to every provocation is documented", () => {
  const provocations = Object.entries(PROVOKE).filter(([, provoke]) => provoke) as [ErrorCode, NonNullable<(typeof PROVOKE)[ErrorCode]>][];
  const pairs = documented.flatMap((route) =>
    provocations.filter(([code]) => !route.errors.includes(code)).map(([code, provoke]) => [key(route), code, provoke] as const),
  );

  it.each(pairs)("%s, provoked with %s", async (name, code, provoke) => {
    if (env.DATA_API_URL && ONLY_EMBEDDED.has(code)) return;
    const [method = "", path = ""] = name.split(" ");
    const op = operationOf(await loadDocument(), method, path);
    const tenant = await tenantFor(name);
    const success = SUCCESS[name];
    if (!success) throw new Error(`no successful request for ${name}`);
    const res = await send(await provoke(success(tenant), tenant, name));
    await keepIfUnchanged(name, tenant, code, res);
    expect(Object.keys(op.responses), `${name} answered ${res.status}`).toContain(String(res.status));
    const media = op.responses[String(res.status)]?.content?.["application/json"];
    if (!media?.schema) return;
    const body = (await res.json()) as { detail?: unknown };
    expect(schemaProblems(op, res.status, body)).toEqual([]);
    // An error message is one of the documented ones: several codes share a status (429, 409).
    if (res.status >= 400 && typeof body.detail === "string") expect(documentedExamples(op, res.status)).toContainEqual(body);
  });
});
