import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { generatePrivateJwk } from "../../src/domain/keys";
import { call, callWith, createOrg, emailFor, loginToken, postJson, putJson, storeClient, uniqueName } from "../helpers";

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const get = (name: string, headers: Record<string, string> = {}) => call(`/org/get?organization_name=${encodeURIComponent(name)}`, { headers });
const del = (name: string, token: string) => call(`/org/delete?organization_name=${encodeURIComponent(name)}`, { method: "DELETE", headers: bearer(token) });

/** The Worker with other settings (a new env object gets its own settings and keys). */
const withEnv = callWith;
const json = (body: unknown) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("key rotation", () => {
  const OLD = "old-secret-0123456789abcdef0123456789abcdef";
  const NEW = "new-secret-0123456789abcdef0123456789abcdef";

  it("keeps tokens of the previous secret valid while new ones use the current secret", async () => {
    const org = await createOrg();
    const oldEnv = { JWT_SECRET: OLD };
    const rotated = { JWT_SECRET: NEW, JWT_SECRET_PREVIOUS: OLD };
    const oldToken = ((await (await withEnv(oldEnv, "/admin/login", json({ email: org.email, password: org.password }))).json()) as { access_token: string })
      .access_token;
    const newToken = ((await (await withEnv(rotated, "/admin/login", json({ email: org.email, password: org.password }))).json()) as { access_token: string })
      .access_token;
    expect(decodeProtectedHeader(oldToken).kid).not.toBe(decodeProtectedHeader(newToken).kid);

    const asAdmin = async (overrides: Record<string, string>, token: string) =>
      (await (await withEnv(overrides, `/org/get?organization_name=${encodeURIComponent(org.name)}`, { headers: bearer(token) })).json()) as Record<
        string,
        unknown
      >;
    expect(await asAdmin(rotated, oldToken)).toHaveProperty("admin_email");
    expect(await asAdmin(rotated, newToken)).toHaveProperty("admin_email");
    // Once the previous secret is retired, its tokens stop working.
    expect(await asAdmin({ JWT_SECRET: NEW }, oldToken)).not.toHaveProperty("admin_email");
  });

  it("signs with EdDSA when configured and publishes the public keys as JWKS", async () => {
    const org = await createOrg();
    const jwk = await generatePrivateJwk("EdDSA", "ed-1");
    const asymmetric = { JWT_ALGORITHM: "EdDSA", JWT_PRIVATE_KEY: JSON.stringify(jwk) };
    const login = await withEnv(asymmetric, "/admin/login", json({ email: org.email, password: org.password }));
    const token = ((await login.json()) as { access_token: string }).access_token;
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: "EdDSA", kid: "ed-1" });
    const jwks = (await (await withEnv(asymmetric, "/.well-known/jwks.json")).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty("d");
    // Another service verifies with the published keys alone.
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks as never), { algorithms: ["EdDSA"] });
    expect(payload.org_name).toBe(org.name);
    // An HMAC token is no good where EdDSA is pinned (no algorithm confusion).
    const hmac = await loginToken(org.email, org.password);
    expect(
      await (await withEnv(asymmetric, `/org/get?organization_name=${encodeURIComponent(org.name)}`, { headers: bearer(hmac) })).json(),
    ).not.toHaveProperty("admin_email");
  });

  it("publishes no keys with HMAC signing", async () => {
    expect(await (await call("/.well-known/jwks.json")).json()).toEqual({ keys: [] });
  });
});

describe("revocation", () => {
  it("logout makes every earlier token of the admin fail", async () => {
    const org = await createOrg();
    const first = await loginToken(org.email, org.password);
    const second = await loginToken(org.email, org.password);
    const out = await postJson("/admin/logout", {}, bearer(first));
    expect(out.status).toBe(200);
    expect(await out.json()).toEqual({ detail: "logged out" });
    expect((await del(org.name, second)).status).toBe(401);
    expect((await postJson("/admin/logout", {}, bearer(first))).status).toBe(401);
    expect((await del(org.name, await loginToken(org.email, org.password))).status).toBe(200);
  });

  it("a password change revokes earlier tokens and answers with a fresh one", async () => {
    const org = await createOrg();
    const before = await loginToken(org.email, org.password);
    const res = await postJson("/admin/password", { current_password: org.password, new_password: "Brand-new-9" }, bearer(before));
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const fresh = ((await res.json()) as { access_token: string }).access_token;
    expect((await putJson("/org/update", { organization_name: org.name, new_organization_name: uniqueName() }, bearer(before))).status).toBe(401);
    expect((await postJson("/admin/login", { email: org.email, password: org.password })).status).toBe(401);
    expect((await postJson("/admin/login", { email: org.email, password: "Brand-new-9" })).status).toBe(200);
    expect((await get(org.name, bearer(fresh))).status).toBe(200);
    expect(await (await get(org.name, bearer(fresh))).json()).toHaveProperty("admin_email", org.email);
  });

  it("a password change needs the right current password, and a valid new one", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    expect((await postJson("/admin/password", { current_password: "Wrong-pass-1", new_password: "Brand-new-9" }, bearer(token))).status).toBe(401);
    expect((await postJson("/admin/password", { current_password: org.password, new_password: "short" }, bearer(token))).status).toBe(422);
    expect((await postJson("/admin/password", { current_password: org.password, new_password: "Brand-new-9" })).status).toBe(401);
    expect((await postJson("/admin/login", { email: org.email, password: org.password })).status).toBe(200);
  });
});

describe("brute force", () => {
  it("locks an account after 10 consecutive failures, with Retry-After, even for the right password", async () => {
    const org = await createOrg();
    for (let i = 0; i < 10; i++) expect((await postJson("/admin/login", { email: org.email, password: `Wrong-${i}` })).status).toBe(401);
    const locked = await postJson("/admin/login", { email: org.email, password: org.password });
    expect(locked.status).toBe(429);
    expect(await locked.json()).toEqual({ detail: "Too many failed logins; try again later" });
    const retryAfter = Number(locked.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(120);
  });

  it("counts parallel guesses atomically: no more than 10 are ever checked", async () => {
    const org = await createOrg();
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => postJson("/admin/login", { email: org.email, password: `Guess-${i}` })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
  });

  it("resets the count on a successful login", async () => {
    const org = await createOrg();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 9; i++) expect((await postJson("/admin/login", { email: org.email, password: "Wrong-pass" })).status).toBe(401);
      // Waits for the after-answer reset of the failure count before the next round.
      const ok = await callWith({}, "/admin/login", json({ email: org.email, password: org.password }));
      expect(ok.status).toBe(200);
    }
  });

  it("throttles one client address at the configured rate (100 a minute)", async () => {
    const ip = { "cf-connecting-ip": "203.0.113.77" };
    // The limiter counts in fixed windows: 201 quick attempts put more than 100 into one of at
    // most two windows, so one must be refused; the first 100 never are.
    const statuses: number[] = [];
    while (statuses.length < 201 && !statuses.includes(429)) {
      statuses.push((await postJson("/admin/login", { email: "nobody@example.com", password: "x" }, ip)).status);
    }
    expect(statuses.indexOf(429)).toBeGreaterThanOrEqual(100);
    expect(statuses.filter((s) => s !== 429).every((s) => s === 401)).toBe(true);
    const other = await postJson("/admin/login", { email: "nobody@example.com", password: "x" }, { "cf-connecting-ip": "203.0.113.78" });
    expect(other.status).toBe(401);
  });
});

describe("headers", () => {
  it("every response carries the security headers", async () => {
    for (const res of [await call("/health"), await call("/nope"), await postJson("/admin/login", { email: "a@b.co", password: "x" })]) {
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    }
  });

  it("CORS is closed by default and opens only for configured origins", async () => {
    const closed = await call("/health", { headers: { origin: "https://evil.example" } });
    expect(closed.headers.get("access-control-allow-origin")).toBeNull();
    const open = { CORS_ALLOWED_ORIGINS: "https://app.example, https://admin.example" };
    const allowed = await withEnv(open, "/health", { headers: { origin: "https://app.example" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const denied = await withEnv(open, "/health", { headers: { origin: "https://evil.example" } });
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await withEnv(open, "/org/create", {
      method: "OPTIONS",
      headers: { origin: "https://admin.example", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("https://admin.example");
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
  });
});

describe("audit trail", () => {
  const auditLog = () => storeClient("master_db").collection("audit_log");

  /** Sends through the Worker and waits for its after-answer work (the audit write) to finish. */
  const send = (path: string, init: RequestInit, overrides: Record<string, string> = {}) =>
    callWith(overrides, path, { ...init, headers: { ...Object.fromEntries(new Headers(init.headers)), "cf-connecting-ip": "198.51.100.7" } });
  const orgIdOf = (token: string) => JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))).org_id as string;

  it("records creates, logins (both outcomes), logouts and deletes, without secrets", async () => {
    const name = uniqueName("Audited");
    const email = emailFor(name);
    const password = "Audit-pass-1";
    await send("/org/create", json({ organization_name: name, email, password }));
    await send("/admin/login", json({ email, password: "Wrong-pass-1" }));
    const token = ((await (await send("/admin/login", json({ email, password }))).json()) as { access_token: string }).access_token;
    await send("/admin/logout", { method: "POST", headers: bearer(token) });
    const fresh = ((await (await send("/admin/login", json({ email, password }))).json()) as { access_token: string }).access_token;
    await send(`/org/delete?organization_name=${encodeURIComponent(name)}`, { method: "DELETE", headers: bearer(fresh) });

    const events = await auditLog().find(
      { $or: [{ email: email.toLowerCase() }, { organization_name: name }, { org_id: orgIdOf(token) }] },
      { sort: { at: 1 } },
    );
    expect(events.map((e) => [e.action, e.outcome])).toEqual([
      ["org.create", "success"],
      ["admin.login", "failure"],
      ["admin.login", "success"],
      ["admin.logout", "success"],
      ["admin.login", "success"],
      ["org.delete", "success"],
    ]);
    for (const event of events) {
      expect(event).toMatchObject({ client_ip: "198.51.100.7" });
      expect(typeof event.request_id).toBe("string");
      expect(event.at).toBeInstanceOf(Date);
    }
    expect(events.slice(2).every((e) => typeof e.org_id === "string")).toBe(true);
    const text = JSON.stringify(events);
    for (const secret of [password, "Wrong-pass-1", token, fresh, "pbkdf2"]) expect(text).not.toContain(secret);
  });

  it("records a lockout as such", async () => {
    const org = await createOrg();
    const strict = { LOGIN_LOCKOUT_THRESHOLD: "1" };
    expect((await send("/admin/login", json({ email: org.email, password: "Wrong-pass-1" }), strict)).status).toBe(401);
    expect((await send("/admin/login", json({ email: org.email, password: org.password }), strict)).status).toBe(429);
    const events = await auditLog().find({ email: org.email.toLowerCase(), action: "admin.login" }, { sort: { at: 1 } });
    expect(events.map((e) => e.outcome)).toEqual(["failure", "locked"]);
  });

  // On FerretDB, which has no TTL indexes, the gateway remembers the expiry and enforces it itself.
  it("keeps the trail for a bounded time through a TTL index", async () => {
    await call("/health");
    await postJson("/admin/login", { email: "x@example.com", password: "y" });
    const client = storeClient("master_db");
    // Creating the same index with other options is refused, so this proves the TTL is in place.
    await expect(client.collection("audit_log").createIndexes([{ key: { at: 1 }, name: "at_ttl", expireAfterSeconds: 90 * 86_400 }])).resolves.toBeUndefined();
    await expect(client.collection("audit_log").createIndexes([{ key: { at: 1 }, name: "at_ttl" }])).rejects.toThrow();
  });
});
