import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env as bindings, exports } from "cloudflare:workers";
import { parseSettings } from "../src/config/settings";
import { DataClient, type Fetcher } from "../src/data/client";
import { dataTarget } from "../src/data/connect";
import type { OrganizationDoc } from "../src/domain/kernel/model";
import type { Principal } from "../src/domain/kernel/principal";
import worker from "../src/index";

/**
 * Mail leaves only from the files that test it (`useOwnDatabase(prefix, { mail: true })`): every
 * invitation of every other suite would otherwise travel to the mail server, which the suites pay
 * for on the gateway store. The mail dispatcher keeps the configuration's transport.
 */
const QUIET = { MAIL_TRANSPORT: "none" } as const;

/**
 * The bindings the helpers send with: the test configuration's, or the same with a database of
 * the calling test file's own (`useOwnDatabase`). A live binding, so importers see the switch.
 */
let env: typeof bindings = { ...bindings, ...QUIET };

/**
 * Points every helper of the calling test file (requests, store clients, the sweep's cases) at a
 * database no other file uses. Files that make hundreds of organizations call it first: on
 * FerretDB's SQLite handler a query on anything but `_id` reads its whole collection, so one
 * database shared by every file would make each later lookup pay for every earlier file's data.
 * Each test file runs with its own module instances, so the switch never leaks into another file.
 */
export const useOwnDatabase = (prefix: string, options: { mail?: true } = {}): string => {
  const database = `${prefix}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  env = { ...bindings, ...(options.mail ? {} : QUIET), DATABASE: database };
  return database;
};

/** Sends a request through the Worker's front door, as a client would. */
export const call = (path: string, init: RequestInit = {}): Promise<Response> => {
  const headers = new Headers(init.headers);
  // A client address of its own per request, so the per-IP login throttle only bites where a test means it to.
  if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", randomIp());
  const request = new Request(`https://org.example${path}`, { ...init, headers });
  return env === bindings ? exports.default.fetch(request) : sendWith(env, request);
};

/** The Worker's fetch with these bindings, waiting for its after-answer work (such as the audit write). */
export const sendWith = async (scoped: typeof env, request: Request): Promise<Response> => {
  const ctx = createExecutionContext();
  const res = await worker.fetch(request as Parameters<typeof worker.fetch>[0], scoped, ctx);
  await waitOnExecutionContext(ctx);
  return res;
};

/**
 * The bindings with these overrides, one object for each set of them. The Worker keys its parsed
 * settings, keys and "indexes created" mark on the env object, as an isolate keeps them, so a new
 * object per request would redo all of that (and the index creation's round trips) every time.
 */
const scopedEnvs = new WeakMap<object, Map<string, typeof env>>();
const envWith = (overrides: Record<string, string>): typeof env => {
  const scoped = scopedEnvs.get(env) ?? new Map<string, typeof env>();
  scopedEnvs.set(env, scoped);
  const key = JSON.stringify(Object.entries(overrides).sort());
  const bound = scoped.get(key) ?? { ...env, ...overrides };
  scoped.set(key, bound);
  return bound;
};

/**
 * Sends a request to the Worker with settings of its own (its env object gets its own settings
 * and keys) and waits for its after-answer work, such as the audit write, to finish.
 */
export const callWith = async (overrides: Record<string, string>, path: string, init: RequestInit = {}): Promise<Response> => {
  const headers = new Headers(init.headers);
  if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", randomIp());
  return sendWith(envWith(overrides), new Request(`https://org.example${path}`, { ...init, headers }));
};

/**
 * A data client on the store the Worker is configured with (the embedded Durable Object, or the
 * gateway when DATA_API_URL is set), for checking stored state; `wrap` can interpose on its fetch.
 */
export const storeClient = (database: string, wrap: (fetch: Fetcher) => Fetcher = (f) => f): DataClient => {
  const scoped = { ...env, DATABASE: database };
  const target = dataTarget(scoped, parseSettings(scoped));
  return new DataClient({ ...target, fetch: wrap(target.fetch), dataSource: "test", database, retries: 0 });
};

const randomIp = () => `10.${[0, 0, 0].map(() => Math.floor(Math.random() * 256)).join(".")}`;

export const postJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

export const putJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(path, { method: "PUT", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

let counter = 0;
/** A name no other test uses, so tests share one store without seeing each other. */
export const uniqueName = (prefix = "Org") => `${prefix} ${Date.now().toString(36)} ${(counter++).toString(36)} ${Math.random().toString(36).slice(2, 6)}`;

export const emailFor = (name: string) => `admin+${name.replace(/[^a-z0-9]/gi, "").toLowerCase()}@example.com`;

export const createOrg = async (name = uniqueName(), password = "Test1234") => {
  const email = emailFor(name);
  const res = await postJson("/org/create", { organization_name: name, email, password });
  if (res.status !== 200) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  return { name, email, password, body: (await res.json()) as { organization_name: string; collection_name: string; admin_email: string } };
};

export const loginToken = async (email: string, password: string): Promise<string> => {
  const res = await postJson("/admin/login", { email, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
};

/** The operator keys vitest.config.ts configures. */
export const PLATFORM_READ_KEY = "test-platform-read-0123456789abcdef01";
export const PLATFORM_WRITE_KEY = "test-platform-write-0123456789abcdef0";
export const operator = (key: string) => ({ authorization: `Bearer ${key}` });

export const roundTrips = (res: Response): number => Number(res.headers.get("x-data-round-trips"));

export { env };

/** The principal of an organization's (first) owner, as a token of theirs would name it. */
export const ownerOf = (org: OrganizationDoc): Principal => {
  const owner = Object.values(org.members).find((member) => member.role === "owner");
  if (!owner) throw new Error(`organization ${org.organization_name} has no owner`);
  return { orgId: org._id, userId: owner.user_id, tokenVersion: owner.token_version, role: "owner" };
};

export const patchJson = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(path, { method: "PATCH", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Invites an e-mail into the token's organization; answers the invitation with its one-time token. */
export const invite = async (orgToken: string, email: string, role = "member") => {
  const res = await postJson("/org/invitations", { email, role }, bearer(orgToken));
  if (res.status !== 201) throw new Error(`invite failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; email: string; role: string; token: string; expires_at: string };
};

/** A new person joins the token's organization with a role: invited, then accepted with a password. */
export const join = async (orgToken: string, role = "member", password = "Member-1234") => {
  const email = `member+${uniqueName("m")
    .replace(/[^a-z0-9]/gi, "")
    .toLowerCase()}@example.com`;
  const invitation = await invite(orgToken, email, role);
  const res = await postJson("/invitations/accept", { token: invitation.token, password });
  if (res.status !== 200) throw new Error(`accept failed: ${res.status} ${await res.text()}`);
  const token = ((await res.json()) as { access_token: string }).access_token;
  const claims = JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as { admin_id: string };
  return { email, password, token, userId: claims.admin_id };
};
