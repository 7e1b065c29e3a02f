import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { parseSettings } from "../../src/config/settings";
import { attemptKey, countFailure, FORGET_AFTER_SECONDS, sweepStaleAttempts, USERS } from "../../src/domain/accounts/accounts";
import type { Deps } from "../../src/domain/kernel/deps";
import { generatePrivateJwk } from "../../src/domain/kernel/keys";
import { ORGANIZATIONS, type OrganizationDoc } from "../../src/domain/kernel/model";
import { call, callWith, createOrg, emailFor, loginToken, postJson, putJson, storeClient, uniqueName, useOwnDatabase } from "../helpers";

// Hundreds of logins and their counters: a database of this file's own (see useOwnDatabase).
const database = useOwnDatabase("security");

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
    // A new e-mail each time: unknown e-mails lock after 10 failures like known ones, and this
    // test is about the address, not the account.
    const statuses: number[] = [];
    let refusal = "";
    // Ten at a time, so that the 201 fit in two windows even on a slow machine: answers arrive in
    // batch order, and a refusal can only come once 100 were sent in its window.
    while (statuses.length < 201 && !statuses.includes(429)) {
      const first = statuses.length;
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, 201 - first) }, (_, k) => postJson("/admin/login", { email: `nobody-${first + k}@example.com`, password: "x" }, ip)),
      );
      for (const res of batch) {
        statuses.push(res.status);
        if (res.status === 429 && !refusal) refusal = await res.text();
      }
    }
    expect(statuses.indexOf(429)).toBeGreaterThanOrEqual(100);
    expect(refusal).toBe(JSON.stringify({ detail: "Too many requests; try again later" }));
    expect(statuses.filter((s) => s !== 429).every((s) => s === 401)).toBe(true);
    const other = await postJson("/admin/login", { email: `nobody-${Date.now()}@example.com`, password: "x" }, { "cf-connecting-ip": "203.0.113.78" });
    expect(other.status).toBe(401);
  });
});

describe("one credential check for every endpoint that takes a password", () => {
  /** Cheap hashing, so that exhausting the per-address throttle takes seconds. */
  const cheap = { PBKDF2_ITERATIONS: "10000" };
  const from = (ip: string, init: RequestInit): RequestInit => ({
    ...init,
    headers: { ...Object.fromEntries(new Headers(init.headers)), "cf-connecting-ip": ip },
  });
  const put = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
    method: "PUT",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

  // Up to 201 logins to reach the limit.
  it("throttles PUT /org/update with a password together with /admin/login, per client address", async () => {
    const org = await createOrg();
    const ip = `203.0.113.${100 + Math.floor(Math.random() * 100)}`;
    let throttled = false;
    // Ten at a time: the 201 must fit in the limiter's two windows, through the gateway on a busy machine too.
    for (let i = 0; i < 201 && !throttled; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(10, 201 - i) }, (_, k) =>
          withEnv(cheap, "/admin/login", from(ip, json({ email: `nobody-${i + k}@example.com`, password: "x" }))),
        ),
      );
      throttled = batch.some((res) => res.status === 429);
    }
    expect(throttled).toBe(true);
    for (const [password, name] of [
      ["Wrong-pass-1", uniqueName("Ghost")],
      [org.password, uniqueName("Ghost")],
      [org.password, org.name],
    ]) {
      const res = await withEnv(
        cheap,
        "/org/update",
        from(ip, put({ organization_name: name, new_organization_name: uniqueName(), email: org.email, password })),
      );
      expect(res.status).toBe(429);
      expect(await res.json()).toEqual({ detail: "Too many requests; try again later" });
      expect(res.headers.get("retry-after")).toBe("60");
    }
    expect(await (await get(org.name)).json()).toMatchObject({ organization_name: org.name });
    // Nothing was checked from that address: the account is not one failure closer to its lock.
    const account = await storeClient(database)
      .collection(USERS)
      .findOne({ _id: await attemptKey(org.email.toLowerCase()) });
    expect(account?.failures).toBe(0);
    const renamed = uniqueName();
    const elsewhere = await putJson("/org/update", { organization_name: org.name, new_organization_name: renamed, email: org.email, password: org.password });
    expect(elsewhere.status).toBe(200);
  }, 120_000);

  it("answers wrong credentials on PUT /org/update with the same 401, whatever the organization name", async () => {
    const org = await createOrg();
    const other = await createOrg();
    const answers = [];
    for (const name of [org.name, other.name, uniqueName("Ghost")]) {
      const res = await putJson("/org/update", { organization_name: name, new_organization_name: uniqueName(), email: org.email, password: "Wrong-pass-1" });
      answers.push([res.status, await res.text(), res.headers.get("www-authenticate")]);
    }
    expect(answers).toEqual(Array(3).fill([401, JSON.stringify({ detail: "Invalid email or password" }), "Bearer"]));
  });

  it("shares one lockout between login, update and password change", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const wrong = "Wrong-pass-1";
    const attempts = [
      ...Array.from({ length: 4 }, () => () => postJson("/admin/login", { email: org.email, password: wrong })),
      ...Array.from(
        { length: 3 },
        () => () => putJson("/org/update", { organization_name: uniqueName("Ghost"), new_organization_name: uniqueName(), email: org.email, password: wrong }),
      ),
      ...Array.from({ length: 3 }, () => () => postJson("/admin/password", { current_password: wrong, new_password: "Brand-new-9" }, bearer(token))),
    ];
    for (const attempt of attempts) expect((await attempt()).status).toBe(401);
    const locked = [
      await postJson("/admin/login", { email: org.email, password: org.password }),
      await putJson("/org/update", { organization_name: org.name, new_organization_name: uniqueName(), email: org.email, password: org.password }),
      await postJson("/admin/password", { current_password: org.password, new_password: "Brand-new-9" }, bearer(token)),
    ];
    for (const res of locked) {
      expect(res.status).toBe(429);
      expect(await res.json()).toEqual({ detail: "Too many failed logins; try again later" });
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    expect(await (await get(org.name)).json()).toMatchObject({ organization_name: org.name });
  });

  it("locks an unknown e-mail exactly like a known one: same status, Retry-After, body and round trips", async () => {
    const org = await createOrg();
    const unknown = `nobody-${org.email}`;
    const strict = { ...cheap, LOGIN_LOCKOUT_THRESHOLD: "3" };
    const answer = async (email: string, password: string) => {
      const sent = Date.now();
      const res = await withEnv(strict, "/admin/login", json({ email, password }));
      const headers = ["content-type", "retry-after", "www-authenticate", "cache-control", "x-data-round-trips"].map((h) => [h, res.headers.get(h)]);
      return { status: res.status, headers: Object.fromEntries(headers), body: await res.text(), ms: Date.now() - sent };
    };
    // Interleaved, so both run through the lock at the same moments and their Retry-After agree.
    const statuses = [];
    // Retry-After counts down in whole seconds from the failure that locked each one, and each
    // instant falls somewhere within its call: the two may differ by a second, plus however long
    // the calls took (through the gateway on FerretDB, a second or more each). Everything else is
    // byte for byte.
    let locking = 0;
    const same = (stranger: Awaited<ReturnType<typeof answer>>, known: Awaited<ReturnType<typeof answer>>) => {
      const seconds = (a: typeof known) => Number(a.headers["retry-after"] ?? Number.NaN);
      const slack = 1 + Math.ceil((locking + stranger.ms + known.ms) / 1000);
      if (known.headers["retry-after"] !== null) expect(Math.abs(seconds(stranger) - seconds(known))).toBeLessThanOrEqual(slack);
      const without = (a: typeof known) => ({ ...a, ms: 0, headers: { ...a.headers, "retry-after": a.headers["retry-after"] === null ? null : "n" } });
      expect(without(stranger)).toEqual(without(known));
    };
    for (let i = 0; i < 6; i++) {
      const known = await answer(org.email, `Wrong-${i}`);
      const stranger = await answer(unknown, `Wrong-${i}`);
      // The calls that locked them: their instants are as uncertain as the answers'.
      if (i === 2) locking = known.ms + stranger.ms;
      same(stranger, known);
      statuses.push(known.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    // The right password changes nothing while locked: still the same answer as a stranger's.
    same(await answer(unknown, org.password), await answer(org.email, org.password));
  });

  it("answers every refusal on the beat since the check began, and a right password at once", async () => {
    const [org, other] = await Promise.all([createOrg(), createOrg()]);
    // The suites run with the beat off (vitest.config.ts); a long one here, so a pass can be seen not to wait for it.
    const BEAT = 1000;
    const onBeat = { ...cheap, LOGIN_FAILURE_BEAT_MS: String(BEAT), LOGIN_LOCKOUT_THRESHOLD: "1" };
    const timed = async (email: string, password: string) => {
      const sent = performance.now();
      const res = await withEnv(onBeat, "/admin/login", json({ email, password }));
      await res.text();
      return { status: res.status, ms: performance.now() - sent };
    };
    const refusals = [await timed(org.email, "Wrong-1"), await timed(`nobody-${org.email}`, "Wrong-1"), await timed(org.email, org.password)];
    expect(refusals.map((r) => r.status)).toEqual([401, 401, 429]);
    for (const refusal of refusals) expect(refusal.ms).toBeGreaterThanOrEqual(BEAT);
    const pass = await timed(other.email, other.password);
    expect(pass.status).toBe(200);
    expect(pass.ms).toBeLessThan(BEAT);
  });
});

describe("login attempt counters", () => {
  const settings = () => parseSettings({ ...env, DATABASE: `attempts_${Date.now().toString(36)}` });
  const depsAt = (clock: { now: Date }): Deps => {
    const s = settings();
    const data = storeClient(s.data.database);
    return {
      data,
      organizations: data.collection<OrganizationDoc>(ORGANIZATIONS),
      settings: s,
      now: () => clock.now,
      sleep: async () => {},
      background: () => {},
    };
  };

  it("keeps one counter per e-mail, starts a stale one over in place, and sweeps the stale ones", async () => {
    const clock = { now: new Date("2026-01-01T00:00:00Z") };
    const deps = depsAt(clock);
    const key = await attemptKey("someone@example.com");
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(await attemptKey("someone@example.com")).toBe(key);
    for (let i = 0; i < 3; i++) expect((await countFailure(deps, key)).failures).toBe(i);
    clock.now = new Date(clock.now.getTime() + (FORGET_AFTER_SECONDS + 60) * 1000);
    expect(await countFailure(deps, key)).toMatchObject({ failures: 0 });
    expect((await countFailure(deps, key)).failures).toBe(1);
    const stored = await deps.data.collection(USERS).find({});
    expect(stored).toEqual([{ _id: key, failures: 2, last_failed_at: clock.now }]);
    await countFailure(deps, await attemptKey("other@example.com"));
    expect(await sweepStaleAttempts(deps, new Date(clock.now.getTime() + FORGET_AFTER_SECONDS * 1000))).toBe(2);
    expect(await deps.data.collection(USERS).countDocuments({})).toBe(0);
  });

  it("counts parallel first attempts of one e-mail atomically", async () => {
    const deps = depsAt({ now: new Date() });
    const key = await attemptKey(`parallel-${Date.now()}@example.com`);
    const seen = await Promise.all(Array.from({ length: 8 }, () => countFailure(deps, key)));
    expect(seen.map((s) => s.failures).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
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

  it("every kind of answer carries them, static files included, with a request id", async () => {
    const answers: [string, Response][] = [
      ["API route", await call("/org/get?organization_name=nobody-at-all")],
      ["404", await call("/no-such-path")],
      ["405", await call("/org/create", { method: "GET" })],
      ["docs page", await call("/docs")],
      ["ReDoc page", await call("/redoc")],
      ["static file", await call("/docs-assets/swagger-ui-bundle.js")],
      ["static file, HEAD", await call("/docs-assets/swagger-ui-bundle.js", { method: "HEAD" })],
      ["missing static file", await call("/docs-assets/no-such-file.js")],
      ["openapi.json", await call("/openapi.json")],
      ["jwks", await call("/.well-known/jwks.json")],
    ];
    for (const [label, res] of answers) {
      expect(res.headers.get("x-content-type-options"), label).toBe("nosniff");
      expect(res.headers.get("x-frame-options"), label).toBe("DENY");
      expect(res.headers.get("referrer-policy"), label).toBe("no-referrer");
      expect(res.headers.get("content-security-policy"), label).toMatch(/default-src 'self'/);
      expect(res.headers.get("x-request-id"), label).toMatch(/^[0-9a-f-]{36}$/);
    }
    const [, asset] = answers[5] as [string, Response];
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
    expect((await asset.text()).length).toBeGreaterThan(1000);
    const [, missing] = answers[7] as [string, Response];
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ detail: "Not Found" });
  });

  it("Swagger UI keeps the bearer token out of localStorage", async () => {
    const init = await call("/docs-assets/swagger-init.js");
    expect(init.status).toBe(200);
    const text = await init.text();
    expect(text).toContain("SwaggerUIBundle(");
    expect(text).not.toMatch(/persistAuthorization:\s*true/);
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
  const auditLog = () => storeClient(database).collection("audit_log");

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

  it("stores a generated request id, not a malformed one the client sent", async () => {
    const given = "x:1";
    const res = await send("/admin/login", {
      ...json({ email: "audit-rid@example.com", password: "Wrong-pass-1" }),
      headers: { "content-type": "application/json", "x-request-id": given },
    });
    const id = res.headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const events = await auditLog().find({ request_id: { $in: [given, id] } });
    expect(events.map((e) => e.request_id)).toEqual([id]);
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
    const client = storeClient(database);
    // Creating the same index with other options is refused, so this proves the TTL is in place.
    await expect(client.collection("audit_log").createIndexes([{ key: { at: 1 }, name: "at_ttl", expireAfterSeconds: 90 * 86_400 }])).resolves.toBeUndefined();
    await expect(client.collection("audit_log").createIndexes([{ key: { at: 1 }, name: "at_ttl" }])).rejects.toThrow();
  });
});
