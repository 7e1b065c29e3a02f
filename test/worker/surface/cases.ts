import { ObjectId } from "bson";
import { inject } from "vitest";
import { parseSettings } from "../../../src/config/settings";
import { connectData } from "../../../src/data/connect";
import { type AccountDoc, USERS } from "../../../src/domain/accounts/accounts";
import { newLink } from "../../../src/domain/auth/mailed-link";
import { DOMAINS, MAX_DOMAINS } from "../../../src/domain/domains/domains";
import { MAX_JOIN_REQUESTS } from "../../../src/domain/domains/joining";
import type { ErrorCode } from "../../../src/domain/kernel/errors";
import { ORGANIZATIONS, type OrganizationDoc } from "../../../src/domain/kernel/model";
import { KEY_SCOPES } from "../../../src/domain/kernel/roles";
import { collectionNameFor, slugify } from "../../../src/domain/kernel/slug";
import { WEBHOOK_DELIVERIES } from "../../../src/domain/webhooks/endpoints";
import {
  createOrg,
  emailFor,
  env,
  invite,
  join,
  loginToken,
  operator,
  PLATFORM_READ_KEY,
  PLATFORM_WRITE_KEY,
  patchJson,
  postJson,
  putJson,
  sendWith,
  uniqueName,
} from "../../helpers";

interface Member {
  userId: string;
  token: string;
  email: string;
}

interface PendingInvitation {
  id: string;
  token: string;
  email: string;
}

/** An organization of its own for each case, with a token and one record; a member and a pending invitation for the routes about them. */
export interface Tenant {
  name: string;
  email: string;
  password: string;
  token: string;
  recordId: string;
  /** The organization's id, for the platform operator's routes. */
  orgId: string;
  ownerId: string;
  member?: Member;
  invitation?: PendingInvitation;
  /** The token of a mailed link of the owner's account (a reset or a verification), put in place as mailing it would. */
  link?: string;
  secondOrganization?: string;
  /** A webhook endpoint (subscribed to an event that does not happen here, so nothing is sent unasked) and one logged delivery of it. */
  webhook?: { id: string; deliveryId: string };
  /** An API key of the organization (records:read), for the routes about keys. */
  apiKey?: { id: string; secret: string };
  /** A domain the organization claimed (pending), for the routes about one. */
  domain?: { id: string; name: string };
  /** A team of the organization, with the member in it where the route is about the team's members. */
  team?: { id: string };
  /** An API key with every scope a key may hold, and keys of one scope, made when a provocation needs them. */
  fullKey?: { id: string; secret: string };
  narrowKeys?: Record<string, { id: string; secret: string }>;
  /**
   * For the routes about joining by domain: an account opened by sign-up, its address verified at a
   * domain the organization verified. For the join requests' routes the domain's policy is
   * `suggest` and the account asked to join; for the others it is `auto_join`.
   */
  joiner?: { userId: string; email: string; token: string; domainId: string; domain: string };
  /** A provocation changed the store for this tenant: it serves no other case. */
  changed?: true;
  /** How to put back what a provocation changed for this tenant, once its case is answered. */
  undo?: () => Promise<void>;
}

/**
 * The sweep's endpoints: nothing is sent to them but what a case asks for (a test, a redelivery),
 * and that fails at once: the suites' loopback receiver does not know this name (404), so no
 * delivery leaves the machine or waits on a DNS lookup.
 */
const SWEEP_HOOK = { url: `${inject("receiverUrl")}/hooks/sweep-unregistered`, events: ["webhook.disabled"] };

const webhookFor = async (t: { token: string; orgId: string }) => {
  const res = await postJson("/org/webhooks", SWEEP_HOOK, { authorization: `Bearer ${t.token}` });
  if (res.status !== 201) throw new Error(`webhook failed: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  // A logged delivery of the feed's first event, as the dispatcher would log one.
  const deliveryId = new ObjectId();
  await store()
    .collection(WEBHOOK_DELIVERIES)
    .insertOne({
      _id: deliveryId,
      org_id: ObjectId.createFromHexString(t.orgId),
      webhook_id: ObjectId.createFromHexString(id),
      event_id: "evt_sweep",
      event_type: "organization.created",
      seq: 1,
      attempt: 1,
      at: new Date(),
      ok: false,
      status: 500,
      latency_ms: 1,
    });
  return { id, deliveryId: deliveryId.toHexString() };
};

const apiKeyFor = async (token: string, scopes: readonly string[] = ["records:read"]) => {
  const res = await postJson("/org/api-keys", { name: "sweep", scopes }, { authorization: `Bearer ${token}` });
  if (res.status !== 201) throw new Error(`api key failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; secret: string };
};

/** The custom role a role route's tenant defines, held by nobody. */
const SWEEP_ROLE = { name: "sweep", permissions: ["records:read"] };

const expectStatus = (status: number) => async (res: Response) => {
  if (res.status !== status) throw new Error(`expected ${status}: ${res.status} ${await res.text()}`);
};

/** A domain name nobody else in the sweep claims. */
const sweepDomain = () =>
  `${uniqueName("sweep")
    .replace(/[^a-z0-9]/gi, "")
    .toLowerCase()}.test`;

const domainFor = async (token: string, name = sweepDomain()) => {
  const res = await postJson("/org/domains", { domain: name }, bearer(token));
  await expectStatus(201)(res.clone());
  return { id: ((await res.json()) as { id: string }).id, name };
};

/**
 * A domain the organization claimed and verified, written where a verification that found its
 * record writes it (the domain says verified, and the organization's document that its policy
 * applies): the sweep runs without the DNS server too. Its policy is set as an owner sets it.
 */
const verifiedDomainFor = async (t: Pick<Tenant, "token" | "orgId">, policy: "auto_join" | "suggest") => {
  const { id, name } = await domainFor(t.token);
  const now = new Date();
  await store()
    .collection(DOMAINS)
    .updateOne({ _id: ObjectId.createFromHexString(id) }, { $set: { status: "verified", verified_domain: name, verified_at: now, checked_at: now } });
  await store()
    .collection<OrganizationDoc>(ORGANIZATIONS)
    .updateOne({ _id: ObjectId.createFromHexString(t.orgId) }, { $set: { [`domain_policies.${id}.domain`]: name, [`domain_policies.${id}.verified`]: true } });
  await patchJson(`/org/domains/${id}`, { policy }, bearer(t.token)).then(expectStatus(200));
  return { id, name };
};

/** Someone at a verified domain of the organization who signed up and proved the address; under `suggest`, who asked to join too. */
const joinerFor = async (t: Pick<Tenant, "token" | "orgId">, policy: "auto_join" | "suggest"): Promise<NonNullable<Tenant["joiner"]>> => {
  const domain = await verifiedDomainFor(t, policy);
  const email = `joiner@${domain.name}`;
  const res = await postJson("/auth/signup", { email, password: "Sign-up-123" });
  await expectStatus(201)(res.clone());
  const { user_id, access_token } = (await res.json()) as { user_id: string; access_token: string };
  // Proven as following the mailed link proves it.
  await accounts().updateOne({ user_id: ObjectId.createFromHexString(user_id) }, { $set: { email_verified: true } });
  if (policy === "suggest") await postJson(`/auth/suggestions/${t.orgId}/join`, {}, bearer(access_token)).then(expectStatus(202));
  return { userId: user_id, email, token: access_token, domainId: domain.id, domain: domain.name };
};

/** A team, with the tenant's member in it when it has one. */
const teamFor = async (t: Pick<Tenant, "token" | "member">) => {
  const res = await postJson("/org/teams", { name: uniqueName("Team") }, bearer(t.token));
  await expectStatus(201)(res.clone());
  const { id } = (await res.json()) as { id: string };
  if (t.member) await postJson(`/org/teams/${id}/members`, { user_id: t.member.userId }, bearer(t.token)).then(expectStatus(200));
  return { id };
};

const claimsOf = (token: string) => JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as { admin_id: string; org_id: string };

const freshEmail = () =>
  `invitee+${uniqueName("i")
    .replace(/[^a-z0-9]/gi, "")
    .toLowerCase()}@example.com`;

const pendingInvitation = async (token: string): Promise<PendingInvitation> => {
  const email = freshEmail();
  const { id, token: invitationToken } = await invite(token, email);
  return { id, token: invitationToken, email };
};

const secondOrganization = async (token: string): Promise<string> => {
  const name = uniqueName("Second");
  const res = await postJson("/org/create", { organization_name: name }, { authorization: `Bearer ${token}` });
  if (res.status !== 200) throw new Error(`create by token failed: ${res.status} ${await res.text()}`);
  return name;
};

const accounts = () => store().collection<AccountDoc>(USERS);

/** A link of the owner's account, written where mailing one writes it. */
const mailedLink = async (t: Pick<Tenant, "ownerId">, field: "password_reset" | "email_verification"): Promise<string> => {
  const userId = ObjectId.createFromHexString(t.ownerId);
  const { token, pending } = await newLink(userId, new Date(Date.now() + 600_000));
  await accounts().updateOne({ user_id: userId }, { $set: { [field]: pending } });
  return token;
};

export const newTenant = async (route?: string): Promise<Tenant> => {
  const org = await createOrg(uniqueName("Sweep"));
  const token = await loginToken(org.email, org.password);
  const record = await postJson("/org/records", { n: 1 }, { authorization: `Bearer ${token}` });
  const { id } = (await record.json()) as { id: string };
  const claims = claimsOf(token);
  const tenant: Tenant = { name: org.name, email: org.email, password: org.password, token, recordId: id, orgId: claims.org_id, ownerId: claims.admin_id };
  if (route && /members|leave/.test(route)) tenant.member = await join(token);
  if (route === "POST /invitations/accept") {
    // Accepted by an account of another organization, with its password: the path that checks one.
    const holder = await createOrg(uniqueName("Invitee"));
    const { id: invitationId, token: invitationToken } = await invite(token, holder.email);
    tenant.invitation = { id: invitationId, token: invitationToken, email: holder.email };
    Object.assign(tenant, { email: holder.email, password: holder.password });
  } else if (route?.includes("invitations")) tenant.invitation = await pendingInvitation(token);
  if (route === "POST /auth/switch") tenant.secondOrganization = await secondOrganization(token);
  if (route?.includes("/org/webhooks/")) tenant.webhook = await webhookFor(tenant);
  if (route?.includes("api-keys/")) tenant.apiKey = await apiKeyFor(token);
  if (route?.includes("/org/roles/")) await postJson("/org/roles", SWEEP_ROLE, bearer(token)).then(expectStatus(201));
  if (route?.includes("/org/teams/")) tenant.team = await teamFor(tenant);
  if (route?.includes("/org/domains/")) tenant.domain = await domainFor(token);
  if (route?.includes("/auth/suggestions")) tenant.joiner = await joinerFor(tenant, "auto_join");
  if (route?.includes("/org/join-requests")) tenant.joiner = await joinerFor(tenant, "suggest");
  if (route === "POST /auth/password-reset/confirm") tenant.link = await mailedLink(tenant, "password_reset");
  if (route === "POST /auth/verify-email/confirm") tenant.link = await mailedLink(tenant, "email_verification");
  // Already verified: the route's first documented answer (200); asking to mail a link is the account suite's.
  if (route === "POST /auth/verify-email")
    await accounts().updateOne({ user_id: ObjectId.createFromHexString(tenant.ownerId) }, { $set: { email_verified: true } });
  return tenant;
};

/** One request, and the bindings it runs with (a dead store, a closed rate limiter...). */
export interface Ask {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  env?: Record<string, unknown>;
}

export const send = (ask: Ask): Promise<Response> => {
  const headers = { "cf-connecting-ip": `10.9.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}`, ...ask.headers };
  const request = new Request(`https://org.example${ask.path}`, { method: ask.method, headers, body: ask.body });
  return sendWith(ask.env ? { ...env, ...ask.env } : env, request);
};

const json = (value: unknown) => JSON.stringify(value);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const jsonHeaders = (token?: string) => ({ "content-type": "application/json", ...(token ? bearer(token) : {}) });
const without = (headers: Record<string, string>, name: string) => Object.fromEntries(Object.entries(headers).filter(([key]) => key !== name));

/** A request each route answers with success, for a fresh tenant. */
export const SUCCESS: Record<string, (t: Tenant) => Ask> = {
  "POST /org/create": () => {
    const name = uniqueName("Sweep");
    return {
      method: "POST",
      path: "/org/create",
      headers: jsonHeaders(),
      body: json({ organization_name: name, email: emailFor(name), password: "Test1234" }),
    };
  },
  "GET /org/get": (t) => ({ method: "GET", path: `/org/get?organization_name=${encodeURIComponent(t.name)}`, headers: bearer(t.token) }),
  "PUT /org/update": (t) => ({
    method: "PUT",
    path: "/org/update",
    headers: jsonHeaders(),
    body: json({ organization_name: t.name, new_organization_name: uniqueName("Sweep"), email: t.email, password: t.password }),
  }),
  "DELETE /org/delete": (t) => ({ method: "DELETE", path: `/org/delete?organization_name=${encodeURIComponent(t.name)}`, headers: bearer(t.token) }),
  "POST /admin/login": (t) => ({ method: "POST", path: "/admin/login", headers: jsonHeaders(), body: json({ email: t.email, password: t.password }) }),
  "POST /admin/logout": (t) => ({ method: "POST", path: "/admin/logout", headers: bearer(t.token) }),
  "POST /admin/password": (t) => ({
    method: "POST",
    path: "/admin/password",
    headers: jsonHeaders(t.token),
    body: json({ current_password: t.password, new_password: "N3w-passphrase" }),
  }),
  "POST /auth/password-reset": (t) => ({ method: "POST", path: "/auth/password-reset", headers: jsonHeaders(), body: json({ email: t.email }), env: MAILS }),
  "POST /auth/password-reset/confirm": (t) => ({
    method: "POST",
    path: "/auth/password-reset/confirm",
    headers: jsonHeaders(),
    body: json({ token: t.link, new_password: "N3w-passphrase" }),
    env: MAILS,
  }),
  "POST /auth/verify-email": (t) => ({ method: "POST", path: "/auth/verify-email", headers: bearer(t.token), env: MAILS }),
  "POST /auth/verify-email/confirm": (t) => ({
    method: "POST",
    path: "/auth/verify-email/confirm",
    headers: jsonHeaders(),
    body: json({ token: t.link }),
    env: MAILS,
  }),
  "POST /org/records": (t) => ({ method: "POST", path: "/org/records", headers: jsonHeaders(t.token), body: json({ plan: "pro" }) }),
  "GET /org/records": (t) => ({ method: "GET", path: "/org/records?limit=10", headers: bearer(t.token) }),
  "GET /org/records/{id}": (t) => ({ method: "GET", path: `/org/records/${t.recordId}`, headers: bearer(t.token) }),
  "PUT /org/records/{id}": (t) => ({ method: "PUT", path: `/org/records/${t.recordId}`, headers: jsonHeaders(t.token), body: json({ plan: "team" }) }),
  "DELETE /org/records/{id}": (t) => ({ method: "DELETE", path: `/org/records/${t.recordId}`, headers: bearer(t.token) }),
  "POST /auth/switch": (t) => ({
    method: "POST",
    path: "/auth/switch",
    headers: jsonHeaders(t.token),
    body: json({ organization_name: t.secondOrganization ?? t.name }),
  }),
  "GET /org/members": (t) => ({ method: "GET", path: "/org/members?limit=10", headers: bearer(t.token) }),
  "PATCH /org/members/{user_id}": (t) => ({
    method: "PATCH",
    path: `/org/members/${t.member?.userId}`,
    headers: jsonHeaders(t.token),
    body: json({ role: "admin" }),
  }),
  "DELETE /org/members/{user_id}": (t) => ({ method: "DELETE", path: `/org/members/${t.member?.userId}`, headers: bearer(t.token) }),
  "POST /org/leave": (t) => ({ method: "POST", path: "/org/leave", headers: bearer(t.member?.token ?? t.token) }),
  "GET /org/roles": (t) => ({ method: "GET", path: "/org/roles", headers: bearer(t.token) }),
  "POST /org/roles": (t) => ({
    method: "POST",
    path: "/org/roles",
    headers: jsonHeaders(t.token),
    body: json({ name: "auditor", permissions: ["audit:read"] }),
  }),
  "PATCH /org/roles/{name}": (t) => ({
    method: "PATCH",
    path: "/org/roles/sweep",
    headers: jsonHeaders(t.token),
    body: json({ permissions: ["records:read", "records:write"] }),
  }),
  "DELETE /org/roles/{name}": (t) => ({ method: "DELETE", path: "/org/roles/sweep", headers: bearer(t.token) }),
  "GET /org/teams": (t) => ({ method: "GET", path: "/org/teams", headers: bearer(t.token) }),
  "GET /org/domains": (t) => ({ method: "GET", path: "/org/domains", headers: bearer(t.token) }),
  "POST /org/domains": (t) => ({ method: "POST", path: "/org/domains", headers: jsonHeaders(t.token), body: json({ domain: `${t.orgId}.sweep.test` }) }),
  "POST /org/domains/{id}/verify": (t) => ({ method: "POST", path: `/org/domains/${t.domain?.id}/verify`, headers: bearer(t.token) }),
  "DELETE /org/domains/{id}": (t) => ({ method: "DELETE", path: `/org/domains/${t.domain?.id}`, headers: bearer(t.token) }),
  "PATCH /org/domains/{id}": (t) => ({
    method: "PATCH",
    path: `/org/domains/${t.domain?.id}`,
    headers: jsonHeaders(t.token),
    body: json({ policy: "auto_join", role: "member" }),
  }),
  "GET /org/invitation-domains": (t) => ({ method: "GET", path: "/org/invitation-domains", headers: bearer(t.token) }),
  "PUT /org/invitation-domains": (t) => ({
    method: "PUT",
    path: "/org/invitation-domains",
    headers: jsonHeaders(t.token),
    body: json({ domains: ["example.com", "sweep.test"] }),
  }),
  "POST /auth/signup": () => ({
    method: "POST",
    path: "/auth/signup",
    headers: jsonHeaders(),
    body: json({ email: freshEmail().replace("invitee+", "signup+"), password: "Sign-up-123" }),
  }),
  "GET /auth/suggestions": (t) => ({ method: "GET", path: "/auth/suggestions", headers: bearer(t.joiner?.token ?? t.token) }),
  "POST /auth/suggestions/{org_id}/join": (t) => ({ method: "POST", path: `/auth/suggestions/${t.orgId}/join`, headers: bearer(t.joiner?.token ?? t.token) }),
  "GET /org/join-requests": (t) => ({ method: "GET", path: "/org/join-requests", headers: bearer(t.token) }),
  "POST /org/join-requests/{user_id}/approve": (t) => ({
    method: "POST",
    path: `/org/join-requests/${t.joiner?.userId}/approve`,
    headers: jsonHeaders(t.token),
    body: json({ role: "member" }),
  }),
  "DELETE /org/join-requests/{user_id}": (t) => ({ method: "DELETE", path: `/org/join-requests/${t.joiner?.userId}`, headers: bearer(t.token) }),
  "POST /org/teams": (t) => ({ method: "POST", path: "/org/teams", headers: jsonHeaders(t.token), body: json({ name: "Finance" }) }),
  "PATCH /org/teams/{id}": (t) => ({ method: "PATCH", path: `/org/teams/${t.team?.id}`, headers: jsonHeaders(t.token), body: json({ name: "Billing" }) }),
  "DELETE /org/teams/{id}": (t) => ({ method: "DELETE", path: `/org/teams/${t.team?.id}`, headers: bearer(t.token) }),
  "POST /org/teams/{id}/members": (t) => ({
    method: "POST",
    path: `/org/teams/${t.team?.id}/members`,
    headers: jsonHeaders(t.token),
    body: json({ user_id: t.member?.userId, role: "member" }),
  }),
  "DELETE /org/teams/{id}/members/{user_id}": (t) => ({
    method: "DELETE",
    path: `/org/teams/${t.team?.id}/members/${t.member?.userId}`,
    headers: bearer(t.token),
  }),
  "POST /org/invitations": (t) => ({
    method: "POST",
    path: "/org/invitations",
    headers: jsonHeaders(t.token),
    body: json({ email: freshEmail(), role: "member" }),
  }),
  "GET /org/invitations": (t) => ({ method: "GET", path: "/org/invitations", headers: bearer(t.token) }),
  "GET /org/events": (t) => ({ method: "GET", path: "/org/events?limit=10", headers: bearer(t.token) }),
  "POST /org/webhooks": (t) => ({ method: "POST", path: "/org/webhooks", headers: jsonHeaders(t.token), body: json(SWEEP_HOOK) }),
  "GET /org/webhooks": (t) => ({ method: "GET", path: "/org/webhooks", headers: bearer(t.token) }),
  "DELETE /org/webhooks/{id}": (t) => ({ method: "DELETE", path: `/org/webhooks/${t.webhook?.id}`, headers: bearer(t.token) }),
  "POST /org/webhooks/{id}/rotate-secret": (t) => ({ method: "POST", path: `/org/webhooks/${t.webhook?.id}/rotate-secret`, headers: bearer(t.token) }),
  "POST /org/webhooks/{id}/test": (t) => ({ method: "POST", path: `/org/webhooks/${t.webhook?.id}/test`, headers: bearer(t.token) }),
  "GET /org/webhooks/{id}/deliveries": (t) => ({ method: "GET", path: `/org/webhooks/${t.webhook?.id}/deliveries?limit=5`, headers: bearer(t.token) }),
  "POST /org/webhooks/{id}/deliveries/{delivery_id}/redeliver": (t) => ({
    method: "POST",
    path: `/org/webhooks/${t.webhook?.id}/deliveries/${t.webhook?.deliveryId}/redeliver`,
    headers: bearer(t.token),
  }),
  "POST /org/api-keys": (t) => ({
    method: "POST",
    path: "/org/api-keys",
    headers: jsonHeaders(t.token),
    body: json({ name: "sweep", scopes: ["records:read", "member:read"] }),
  }),
  "GET /org/api-keys": (t) => ({ method: "GET", path: "/org/api-keys", headers: bearer(t.token) }),
  "DELETE /org/api-keys/{id}": (t) => ({ method: "DELETE", path: `/org/api-keys/${t.apiKey?.id}`, headers: bearer(t.token) }),
  "POST /org/api-keys/{id}/roll": (t) => ({
    method: "POST",
    path: `/org/api-keys/${t.apiKey?.id}/roll`,
    headers: jsonHeaders(t.token),
    body: json({ overlap_seconds: 60 }),
  }),
  "DELETE /org/invitations/{id}": (t) => ({ method: "DELETE", path: `/org/invitations/${t.invitation?.id}`, headers: bearer(t.token) }),
  "POST /invitations/accept": (t) => ({
    method: "POST",
    path: "/invitations/accept",
    headers: jsonHeaders(),
    body: json({ token: t.invitation?.token, password: t.password }),
  }),
  "GET /.well-known/jwks.json": () => ({ method: "GET", path: "/.well-known/jwks.json", headers: {} }),
  "GET /health": () => ({ method: "GET", path: "/health", headers: {} }),
  "GET /ready": () => ({ method: "GET", path: "/ready", headers: {} }),
  "GET /openapi.json": () => ({ method: "GET", path: "/openapi.json", headers: {} }),
  "GET /docs": () => ({ method: "GET", path: "/docs", headers: {} }),
  "GET /redoc": () => ({ method: "GET", path: "/redoc", headers: {} }),
  "GET /platform/organizations": () => ({ method: "GET", path: "/platform/organizations?limit=10", headers: operator(PLATFORM_READ_KEY) }),
  "GET /platform/organizations/{id}": (t) => ({ method: "GET", path: `/platform/organizations/${t.orgId}`, headers: operator(PLATFORM_READ_KEY) }),
  "POST /platform/organizations/{id}/suspend": (t) => ({
    method: "POST",
    path: `/platform/organizations/${t.orgId}/suspend`,
    headers: { "content-type": "application/json", ...operator(PLATFORM_WRITE_KEY) },
    body: json({ reason: "unpaid" }),
  }),
  "POST /platform/organizations/{id}/reactivate": (t) => ({
    method: "POST",
    path: `/platform/organizations/${t.orgId}/reactivate`,
    headers: operator(PLATFORM_WRITE_KEY),
  }),
  "DELETE /platform/organizations/{id}": (t) => ({ method: "DELETE", path: `/platform/organizations/${t.orgId}`, headers: operator(PLATFORM_WRITE_KEY) }),
  "DELETE /platform/organizations/{id}/api-keys/{key_id}": (t) => ({
    method: "DELETE",
    path: `/platform/organizations/${t.orgId}/api-keys/${t.apiKey?.id}`,
    headers: operator(PLATFORM_WRITE_KEY),
  }),
  "GET /platform/stats": () => ({ method: "GET", path: "/platform/stats", headers: operator(PLATFORM_READ_KEY) }),
  "GET /platform/role-templates": () => ({ method: "GET", path: "/platform/role-templates", headers: operator(PLATFORM_READ_KEY) }),
  // None: every organization the sweep creates after it starts as it would have.
  "PUT /platform/role-templates": () => ({
    method: "PUT",
    path: "/platform/role-templates",
    headers: { "content-type": "application/json", ...operator(PLATFORM_WRITE_KEY) },
    body: json({ templates: [] }),
  }),
};

const store = () => connectData(env, parseSettings(env));

/** Changes the tenant's organization document, and leaves on the tenant how to put the document back as it was. */
const changeOrganization = async (t: Tenant, set: Partial<OrganizationDoc>) => {
  const organizations = store().collection<OrganizationDoc>(ORGANIZATIONS);
  const before = await organizations.findOne({ organization_name: t.name });
  if (!before) throw new Error(`no organization ${t.name}`);
  await organizations.updateOne({ _id: before._id }, { $set: set });
  t.undo = async () => {
    await organizations.replaceOne({ _id: before._id }, before);
  };
};

const failLogins = async (email: string) => {
  for (let i = 0; i < 10; i++) await postJson("/admin/login", { email, password: "wrong-password" });
};

/** A Durable Object namespace whose store refuses one action the way MongoDB refuses a bad name. */
const refusing = (action: string) => ({
  idFromName: (name: string) => env.DATA_STORE.idFromName(name),
  get: (id: DurableObjectId, options?: DurableObjectNamespaceGetDurableObjectOptions) => {
    const stub = env.DATA_STORE.get(id, options);
    return {
      fetch: (request: Request) =>
        new URL(request.url).pathname.endsWith(`/${action}`)
          ? Promise.resolve(Response.json({ error: "Invalid collection name", error_code: "InvalidParameter" }, { status: 400 }))
          : stub.fetch(request),
    };
  },
});

type Provoke = (ask: Ask, t: Tenant, route: string) => Ask | Promise<Ask>;

/** Changes a JSON body; a request without one is left as it is (a GET cannot carry one). */
const withBody = (ask: Ask, change: (body: Record<string, unknown>) => Record<string, unknown>): Ask =>
  ask.body === undefined ? ask : { ...ask, body: json(change(JSON.parse(ask.body) as Record<string, unknown>)) };

/** By token instead of password: the update body without credentials. */
const byToken = (ask: Ask, token: string): Ask => ({
  ...withBody(ask, ({ email: _e, password: _p, ...rest }) => rest),
  headers: { ...ask.headers, ...bearer(token) },
});

const DEAD_STORE = { DATA_API_URL: "http://127.0.0.1:9", DATA_API_TIMEOUT_MS: "500" };
const CLOSED = { limit: async () => ({ success: false }) };
const CLOSED_LIMITERS = { LOGIN_RATE_LIMITER: CLOSED, API_KEY_RATE_LIMITER: CLOSED, MAIL_RATE_LIMITER: CLOSED };
/**
 * A deployment that mails, to a port where nothing listens: the account routes work, and what they
 * queue stays pending (the mail suites deliver to a real server).
 */
const MAILS = {
  MAIL_TRANSPORT: "smtp",
  SMTP_HOST: "127.0.0.1",
  SMTP_PORT: "9",
  SMTP_SECURITY: "off",
  MAIL_FROM: "accounts@service.test",
  MAIL_LINK_BASE_URL: "https://app.service.test/",
};

/** The request run with these bindings as well as its own. */
const withEnv = (ask: Ask, extra: Record<string, unknown>): Ask => ({ ...ask, env: { ...ask.env, ...extra } });

/**
 * The request with this bearer credential in place of its own: in place of the token, or of the
 * e-mail and password for a rename, and for a create beside the name alone (a create with an
 * e-mail and a password ignores any token, as the old service did).
 */
const byBearer = (ask: Ask, route: string, credential: string): Ask => {
  if (route === "PUT /org/update") return byToken(ask, credential);
  const sent = { ...ask, headers: { ...ask.headers, ...bearer(credential) } };
  return route === "POST /org/create" ? withBody(sent, ({ organization_name }) => ({ organization_name })) : sent;
};

/**
 * How to make a route answer each error code, written from the outside (requests, and the store
 * or bindings set up as a failure would leave them), never from the route declarations: a code a
 * route can answer but does not declare shows up here as an undocumented status.
 */
export const PROVOKE: Record<ErrorCode, Provoke | undefined> = {
  NOT_AUTHENTICATED: (ask) => ({ ...ask, headers: without(ask.headers, "authorization") }),
  INVALID_TOKEN: (ask, _t, route) => byBearer(ask, route, "not.a.token"),
  UNSUPPORTED_MEDIA_TYPE: (ask) => ({ ...ask, headers: { ...ask.headers, "content-type": "text/plain" } }),
  PAYLOAD_TOO_LARGE: (ask) => (ask.body === undefined ? ask : { ...ask, body: json({ padding: "x".repeat(70 * 1024) }) }),
  VALIDATION_FAILED: (ask) => {
    const records = ask.path.startsWith("/org/records") || ask.path.startsWith("/platform/organizations?");
    // Field names starting with `$` are refused in records; a roll's one field is optional, so it
    // gets a negative overlap, and an approval's a role nobody is approved as; every other body
    // misses required fields.
    if (ask.body !== undefined) {
      const optional = ask.path.endsWith("/roll") ? json({ overlap_seconds: -1 }) : ask.path.endsWith("/approve") ? json({ role: "owner" }) : "{}";
      return { ...ask, body: records ? json({ $set: 1 }) : optional };
    }
    // A role's delete has only an optional parameter: a replacement that is no role's name.
    if (ask.path.startsWith("/org/roles/")) return { ...ask, path: `${ask.path}?replace_with=Not%20A%20Name` };
    const [path = "", query] = ask.path.split("?");
    if (query === undefined) return ask;
    // A page of nothing is refused; any other query misses its required parameter.
    return { ...ask, path: query.includes("limit=") ? `${path}?limit=0` : path };
  },
  STORE_UNAVAILABLE: (ask) => withEnv(ask, DEAD_STORE),
  // Every allowance spent: a password's per-address one, and, where a token alone authenticates the request, a key's in its place.
  RATE_LIMITED: async (ask, t, route) => {
    const password = ask.body !== undefined && /"(current_)?password"/.test(ask.body);
    if (!ask.headers.authorization || password) return withEnv(ask, CLOSED_LIMITERS);
    t.fullKey ??= await apiKeyFor(t.token, KEY_SCOPES);
    return withEnv(byBearer(ask, route, t.fullKey.secret), CLOSED_LIMITERS);
  },
  ACCOUNT_LOCKED: async (ask, t) => {
    await failLogins(t.email);
    return ask;
  },
  INVALID_CREDENTIALS: (ask) =>
    withBody(ask, (body) => ("current_password" in body ? { ...body, current_password: "wrong-password" } : { ...body, password: "wrong-password" })),
  FORBIDDEN: async (ask, _t, route) => {
    const other = await newTenant();
    return route === "PUT /org/update" ? byToken(ask, other.token) : { ...ask, headers: { ...ask.headers, ...bearer(other.token) } };
  },
  ADMIN_EMAIL_MISMATCH: (ask) => ({ ...ask, headers: { ...ask.headers, "x-admin-email": "someone-else@example.com" } }),
  ORGANIZATION_NOT_FOUND: (ask) =>
    ask.path.startsWith("/platform/organizations/")
      ? { ...ask, path: ask.path.replace(/[0-9a-f]{24}/, "ffffffffffffffffffffffff") }
      : ask.body === undefined
        ? { ...ask, path: `${ask.path.split("?")[0]}?organization_name=${encodeURIComponent(uniqueName("Ghost"))}` }
        : withBody(ask, (body) => ({ ...body, organization_name: uniqueName("Ghost") })),
  ORGANIZATION_EXISTS: async (ask, t, route) => {
    if (route === "POST /org/create") return withBody(ask, (body) => ({ ...body, organization_name: t.name }));
    const other = await createOrg(uniqueName("Other"));
    return withBody(ask, (body) => ({ ...body, new_organization_name: other.name }));
  },
  ADMIN_EMAIL_EXISTS: (ask, t) => withBody(ask, (body) => ({ ...body, email: t.email })),
  ORGANIZATION_BUSY: async (ask, t) => {
    await changeOrganization(t, { status: "renaming" });
    return ask;
  },
  COLLECTION_EXISTS: async (ask) => {
    const target = uniqueName("Taken");
    await store()
      .collection(collectionNameFor(slugify(target)))
      .insertOne({ stray: true });
    return withBody(ask, (body) => ({ ...body, new_organization_name: target }));
  },
  NAME_REFUSED_BY_STORE: (ask, _t, route) => withEnv(ask, { DATA_STORE: refusing(route === "POST /org/create" ? "createCollection" : "renameCollection") }),
  ORGANIZATION_SUSPENDED: async (ask, t, route) => {
    await changeOrganization(t, { suspended: true, suspension: { at: new Date(), reason: "sweep", by_key_id: "sweep" } });
    // Creating is refused only to the token of a suspended organization (by password it is a new person).
    if (route !== "POST /org/create") return ask;
    return { ...withBody(ask, ({ organization_name }) => ({ organization_name })), headers: { ...ask.headers, ...bearer(t.token) } };
  },
  PLATFORM_KEY_REQUIRED: (ask) => ({ ...ask, headers: without(ask.headers, "authorization") }),
  PLATFORM_READ_ONLY: (ask) => ({ ...ask, headers: { ...ask.headers, ...operator(PLATFORM_READ_KEY) } }),
  RECORD_NOT_FOUND: (ask) => ({ ...ask, path: ask.path.replace(/[0-9a-f]{24}/, "ffffffffffffffffffffffff") }),
  // A team's member: named in the body, or the path's second id.
  MEMBER_NOT_FOUND: (ask) => {
    if (!ask.path.startsWith("/org/teams/")) return { ...ask, path: ask.path.replace(/[0-9a-f]{24}/, "ffffffffffffffffffffffff") };
    if (ask.body !== undefined) return withBody(ask, (body) => ({ ...body, user_id: "ffffffffffffffffffffffff" }));
    return { ...ask, path: ask.path.replace(/\/members\/[0-9a-f]{24}/, "/members/ffffffffffffffffffffffff") };
  },
  // A team's path, or an invitation into a team that is no team.
  TEAM_NOT_FOUND: (ask, _t, route) =>
    route === "POST /org/invitations"
      ? withBody(ask, (body) => ({ ...body, teams: ["ffffffffffffffffffffffff"] }))
      : { ...ask, path: ask.path.replace(/\/org\/teams\/[0-9a-f]{24}/, "/org/teams/ffffffffffffffffffffffff") },
  // A team of that name first (in another case): only creating or renaming one can meet it.
  TEAM_EXISTS: async (ask, t, route) => {
    if (route !== "POST /org/teams" && route !== "PATCH /org/teams/{id}") return ask;
    t.changed = true;
    const res = await postJson("/org/teams", { name: "Taken" }, bearer(t.token));
    if (res.status !== 201 && res.status !== 409) throw new Error(`team failed: ${res.status}`);
    return withBody(ask, (body) => ({ ...body, name: "taken" }));
  },
  TEAM_LIMIT: async (ask, t, route) => {
    if (route !== "POST /org/teams") return ask;
    t.changed = true;
    for (let i = 0; i < 100; i++) await postJson("/org/teams", { name: `t${i}` }, bearer(t.token)).then(expectStatus(201));
    return ask;
  },
  INVITATION_NOT_FOUND: (ask) => ({ ...ask, path: ask.path.replace(/[0-9a-f]{24}/, "ffffffffffffffffffffffff") }),
  DOMAIN_NOT_FOUND: (ask) => ({ ...ask, path: ask.path.replace(/[0-9a-f]{24}/, "ffffffffffffffffffffffff") }),
  DOMAIN_PUBLIC: (ask) => withBody(ask, (body) => ({ ...body, domain: "gmail.com" })),
  // The same domain claimed first: only a claim can meet it.
  DOMAIN_EXISTS: async (ask, t, route) => {
    if (route !== "POST /org/domains") return ask;
    t.changed = true;
    await domainFor(t.token, `${t.orgId}.sweep.test`);
    return ask;
  },
  // Verified by another organization, as its verification would have left it.
  DOMAIN_TAKEN: async (ask, _t, route) => {
    if (route !== "POST /org/domains") return ask;
    const domain = sweepDomain();
    const other = new ObjectId();
    await store()
      .collection(DOMAINS)
      .insertOne({ _id: new ObjectId(), org_id: other, domain, value: "taken", status: "verified", verified_domain: domain, created_at: new Date() });
    return withBody(ask, (body) => ({ ...body, domain }));
  },
  DOMAIN_LIMIT: async (ask, t, route) => {
    if (route !== "POST /org/domains") return ask;
    t.changed = true;
    for (let i = 0; i < MAX_DOMAINS; i++) await domainFor(t.token);
    return ask;
  },
  WEBHOOK_URL_REFUSED: (ask) => withBody(ask, (body) => ({ ...body, url: "http://hooks.example.com/plain" })),
  // Ten endpoints first: only registering another can meet the limit, so only that route pays for them.
  WEBHOOK_LIMIT: async (ask, t, route) => {
    if (route !== "POST /org/webhooks") return ask;
    t.changed = true;
    for (let i = 0; i < 10; i++) await postJson("/org/webhooks", SWEEP_HOOK, bearer(t.token));
    return ask;
  },
  WEBHOOK_NOT_FOUND: (ask) => ({ ...ask, path: ask.path.replace(/\/org\/webhooks\/[0-9a-f]{24}/, "/org/webhooks/ffffffffffffffffffffffff") }),
  DELIVERY_NOT_FOUND: (ask) => ({ ...ask, path: ask.path.replace(/\/deliveries\/[0-9a-f]{24}/, "/deliveries/ffffffffffffffffffffffff") }),
  WEBHOOK_DISABLED: async (ask, t) => {
    if (!t.webhook) return ask;
    t.changed = true;
    await store()
      .collection("webhooks")
      .updateOne({ _id: ObjectId.createFromHexString(t.webhook.id) }, { $set: { status: "disabled" } });
    return ask;
  },
  // As many keys as an organization may hold first: only creating another can meet the cap.
  API_KEY_LIMIT: async (ask, t, route) => {
    if (route !== "POST /org/api-keys") return ask;
    t.changed = true;
    for (let i = 0; i < 20; i++) await postJson("/org/api-keys", { name: `k${i}`, scopes: ["records:read"] }, bearer(t.token));
    return ask;
  },
  API_KEY_NOT_FOUND: (ask) => ({ ...ask, path: ask.path.replace(/\/api-keys\/[0-9a-f]{24}/, "/api-keys/ffffffffffffffffffffffff") }),
  // A cursor past every event the organization has recorded: no page ever gave it.
  EVENT_CURSOR_INVALID: (ask) => ({ ...ask, path: `${ask.path}${ask.path.includes("?") ? "&" : "?"}after=999999999` }),
  ORGANIZATION_REQUIRED: async (ask, t) => {
    await secondOrganization(t.token);
    return ask;
  },
  // A credential the route does not allow: an API key that may only read the event feed, or, on
  // the feed, only records (a role's 403s have their matrix in members.test.ts).
  PERMISSION_DENIED: async (ask, t, route) => {
    const scope = ask.path.startsWith("/org/events") ? "records:read" : "audit:read";
    t.narrowKeys ??= {};
    t.narrowKeys[scope] ??= await apiKeyFor(t.token, [scope]);
    return byBearer(ask, route, t.narrowKeys[scope].secret);
  },
  // The tenant's owner is its only one: demoting, removing or withdrawing them would leave none.
  LAST_OWNER: (ask, t) => ({
    ...withBody(ask, (body) => ({ ...body, role: "member" })),
    path: ask.path.replace(/[0-9a-f]{24}/, t.ownerId),
    headers: { ...ask.headers, ...bearer(t.token) },
  }),
  // An invitation for the owner's address; for a joiner, their account listing the organization
  // already, as an invitation's accept under way leaves it (the account joined, the member not yet added).
  ALREADY_MEMBER: async (ask, t) => {
    if (!t.joiner) return withBody(ask, (body) => ({ ...body, email: t.email }));
    await accounts().updateOne(
      { user_id: ObjectId.createFromHexString(t.joiner.userId) },
      { $addToSet: { org_ids: ObjectId.createFromHexString(t.orgId) }, $set: { joining_at: new Date() } },
    );
    t.changed = true;
    return ask;
  },
  INVITATION_EXISTS: async (ask, t) => {
    const pending = t.invitation ?? (await pendingInvitation(t.token));
    return withBody(ask, (body) => ({ ...body, email: pending.email }));
  },
  // The organization invites only at other domains than the invitee's: only inviting can meet it.
  INVITATION_DOMAIN: async (ask, t, route) => {
    if (route !== "POST /org/invitations") return ask;
    t.changed = true;
    await putJson("/org/invitation-domains", { domains: ["elsewhere.test"] }, bearer(t.token)).then(expectStatus(200));
    return ask;
  },
  // An account opened by sign-up already holds the owner's address.
  EMAIL_TAKEN: (ask, t) => withBody(ask, (body) => ({ ...body, email: t.email })),
  SUGGESTION_NOT_FOUND: (ask) => ({ ...ask, path: ask.path.replace(/[0-9a-f]{24}/, "ffffffffffffffffffffffff") }),
  // The joiner's address not proven (yet): as before they followed the mailed link.
  EMAIL_NOT_VERIFIED: async (ask, t) => {
    if (!t.joiner) return ask;
    t.changed = true;
    await accounts().updateOne({ user_id: ObjectId.createFromHexString(t.joiner.userId) }, { $unset: { email_verified: "" } });
    return ask;
  },
  JOIN_REQUEST_NOT_FOUND: (ask) => ({ ...ask, path: ask.path.replace(/[0-9a-f]{24}/, "ffffffffffffffffffffffff") }),
  // The joiner's domain asks for approval, and as many others as an organization holds asked
  // first (written as their requests leave the document): only asking to join can meet it.
  JOIN_REQUESTS_FULL: async (ask, t, route) => {
    if (route !== "POST /auth/suggestions/{org_id}/join" || !t.joiner) return ask;
    t.changed = true;
    const { domainId, domain } = t.joiner;
    await patchJson(`/org/domains/${domainId}`, { policy: "suggest" }, bearer(t.token)).then(expectStatus(200));
    const requests = Array.from({ length: MAX_JOIN_REQUESTS }, (_, i) => ({ user_id: new ObjectId(), email: `asker${i}@${domain}`, domain, at: new Date() }));
    await store()
      .collection<OrganizationDoc>(ORGANIZATIONS)
      .updateOne({ _id: ObjectId.createFromHexString(t.orgId) }, { $set: { join_requests: requests } });
    return ask;
  },
  // A deployment that allows one pending invitation, and one made there: inviting another meets the limit.
  INVITATION_LIMIT: async (ask) => {
    const one = { MAX_PENDING_INVITATIONS: "1" };
    await send({ ...withBody(ask, (body) => ({ ...body, email: freshEmail() })), env: one });
    return { ...withBody(ask, (body) => ({ ...body, email: freshEmail() })), env: one };
  },
  INVITATION_INVALID: (ask) => withBody(ask, (body) => ({ ...body, token: "no-such-invitation" })),
  // An invitation for an e-mail without an account, accepted without a password.
  NEW_ACCOUNT_PASSWORD: async (ask, t) => {
    const fresh = await pendingInvitation(t.token);
    return withBody(ask, () => ({ token: fresh.token }));
  },
  // An invitation for an e-mail that already has an account, accepted with the token alone.
  ACCOUNT_EXISTS: async (ask, t) => {
    const other = await createOrg(uniqueName("Holder"));
    const { token } = await invite(t.token, other.email);
    return withBody(ask, () => ({ token }));
  },
  ROLE_NOT_FOUND: (ask) => ({ ...ask, path: ask.path.replace("/org/roles/sweep", "/org/roles/ghost") }),
  // A built-in role's name is taken in every organization.
  ROLE_EXISTS: (ask) => withBody(ask, (body) => ({ ...body, name: "admin" })),
  // As many roles as an organization may define first: only defining another can meet the cap.
  ROLE_LIMIT: async (ask, t, route) => {
    if (route !== "POST /org/roles") return ask;
    t.changed = true;
    for (let i = 0; i < 50; i++) await postJson("/org/roles", { name: `r${i}`, permissions: ["records:read"] }, bearer(t.token)).then(expectStatus(201));
    return ask;
  },
  // A member given the role: it can go only with a replacement.
  ROLE_IN_USE: async (ask, t, route) => {
    if (route !== "DELETE /org/roles/{name}") return ask;
    t.changed = true;
    const member = await join(t.token);
    await sendWith(
      env,
      new Request(`https://org.example/org/members/${member.userId}`, {
        method: "PATCH",
        headers: jsonHeaders(t.token),
        body: json({ roles: ["member", "sweep"] }),
      }),
    ).then(expectStatus(200));
    return ask;
  },
  ROLE_UNKNOWN: (ask, _t, route) => {
    if (route === "DELETE /org/roles/{name}") return { ...ask, path: `${ask.path}?replace_with=ghost` };
    return route === "PATCH /org/members/{user_id}" ? { ...ask, body: json({ roles: ["member", "ghost"] }) } : ask;
  },
  // A link nobody was mailed; and a deployment that mails nothing.
  LINK_INVALID: (ask) => withBody(ask, (body) => ({ ...body, token: "0123456789abcdef01234567NoSuchLinkNoSuchLinkNoSuchLinkNoSuchLin" })),
  MAIL_DISABLED: (ask) => withEnv(ask, { MAIL_TRANSPORT: "none" }),
  // Answered by the router or for a broken deployment, never declared by a route.
  NOT_FOUND: undefined,
  METHOD_NOT_ALLOWED: undefined,
  MISCONFIGURED: undefined,
  INTERNAL: undefined,
};
