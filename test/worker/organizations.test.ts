import { describe, expect, it } from "vitest";
import { ORGANIZATIONS, type OrganizationDoc } from "../../src/domain/kernel/model";
import { call, createOrg, emailFor, env, loginToken, postJson, putJson, roundTrips, storeClient, uniqueName } from "../helpers";

const get = (name: string, headers: Record<string, string> = {}) => call(`/org/get?organization_name=${encodeURIComponent(name)}`, { headers });
const del = (name: string, headers: Record<string, string>) => call(`/org/delete?organization_name=${encodeURIComponent(name)}`, { method: "DELETE", headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("POST /org/create", () => {
  it("answers exactly as the FastAPI service did", async () => {
    const name = uniqueName("TestOrg");
    const email = emailFor(name);
    const res = await postJson("/org/create", { organization_name: name, email, password: "Test1234" });
    expect(res.status).toBe(200);
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "_");
    expect(await res.json()).toEqual({ organization_name: name, collection_name: `org_${slug}`, admin_email: email });
  });

  it("treats names with one slug as one organization: 409", async () => {
    const base = uniqueName("Org");
    await createOrg(`${base}-1`);
    const res = await postJson("/org/create", { organization_name: `${base.toUpperCase()}_1`, email: emailFor(`${base}x`), password: "Test1234" });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ detail: "Organization already exists" });
  });

  it("keeps admin e-mails unique across organizations, case-insensitively: 409", async () => {
    const { email } = await createOrg();
    const res = await postJson("/org/create", { organization_name: uniqueName(), email: email.toUpperCase(), password: "Test1234" });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ detail: "Admin email already registered" });
  });

  it("lets exactly one of many concurrent creates of one name win", async () => {
    const name = uniqueName("Race");
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        postJson("/org/create", { organization_name: i % 2 ? name : name.toUpperCase(), email: emailFor(`${name}${i}`), password: "Test1234" }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409, 409, 409, 409, 409]);
  });

  it("refuses names whose slug is empty or too long with a 422 that says why", async () => {
    const empty = await postJson("/org/create", { organization_name: "!!!", email: "a@example.com", password: "Test1234" });
    expect(empty.status).toBe(422);
    expect(await empty.json()).toEqual({
      detail: [{ loc: ["body", "organization_name"], msg: "organization_name must contain at least one letter or digit", type: "value_error" }],
    });
    const long = await postJson("/org/create", { organization_name: "a".repeat(232), email: "b@example.com", password: "Test1234" });
    expect(long.status).toBe(422);
    expect(JSON.stringify(await long.json())).toMatch(/too long/);
  });

  it("serves the longest allowed name (a 231-character slug) end to end on the configured store", async () => {
    const suffix = uniqueName("")
      .replace(/[^a-z0-9]/gi, "")
      .toLowerCase();
    const name = `${"l".repeat(231 - suffix.length)}${suffix}`;
    const email = `longest+${suffix}@example.com`;
    const created = await postJson("/org/create", { organization_name: name, email, password: "Test1234" });
    expect(created.status).toBe(200);
    expect(((await created.json()) as { collection_name: string }).collection_name).toHaveLength(235);
    const token = await loginToken(email, "Test1234");
    const auth = { authorization: `Bearer ${token}` };
    expect((await postJson("/org/records", { n: 1 }, auth)).status).toBe(201);
    const renamed = `${"m".repeat(231 - suffix.length)}${suffix}`;
    const res = await putJson("/org/update", { organization_name: name, new_organization_name: renamed }, auth);
    expect(res.status).toBe(200);
    expect(((await call("/org/records", { headers: auth }).then((r) => r.json())) as { records: unknown[] }).records).toHaveLength(1);
    expect((await call(`/org/delete?organization_name=${renamed}`, { method: "DELETE", headers: auth })).status).toBe(200);
  });
});

describe("look-alike names", () => {
  const create = (organization_name: string, suffix: string) =>
    postJson("/org/create", { organization_name, email: emailFor(`${organization_name.replace(/\W/g, "")}${suffix}`), password: "Test1234" });

  it("gives a name with invisible or compatibility characters no tenant of its own: 409", async () => {
    const base = uniqueName("cafe").replace(/ /g, "-");
    const first = await create(base, "a");
    expect(first.status).toBe(200);
    const collection = ((await first.json()) as { collection_name: string }).collection_name;
    const lookAlikes = [`c\u200Dafe${base.slice(4)}`, `\u202E${base}`, `${base}\uFE0F`, `c\u00ADafe${base.slice(4)}`, `\uFF43afe${base.slice(4)}`];
    for (const [i, name] of lookAlikes.entries()) {
      const res = await create(name, `b${i}`);
      expect(res.status, JSON.stringify(name)).toBe(409);
      expect(await res.json()).toEqual({ detail: "Organization already exists" });
    }
    const found = await get(`ca\u200Bfe${base.slice(4)}`);
    expect(await found.json()).toMatchObject({ organization_name: base, collection_name: collection });
  });

  it("refuses control characters in a name with a 422", async () => {
    for (const name of ["a\u0000b", "tab\there", "c1\u0085x"]) {
      const res = await postJson("/org/create", { organization_name: name, email: "ctrl@example.com", password: "Test1234" });
      expect(res.status).toBe(422);
      expect(await res.json()).toEqual({
        detail: [{ loc: ["body", "organization_name"], msg: "organization_name must not contain control characters", type: "value_error" }],
      });
    }
    const org = await createOrg();
    const rename = await putJson("/org/update", { organization_name: org.name, new_organization_name: "x\u0000y", email: org.email, password: org.password });
    expect(rename.status).toBe(422);
    expect(await rename.json()).toEqual({
      detail: [{ loc: ["body", "new_organization_name"], msg: "organization_name must not contain control characters", type: "value_error" }],
    });
  });
});

describe("GET /org/get", () => {
  it("returns the metadata, and the admin e-mail only to that organization's admin", async () => {
    const org = await createOrg();
    const anonymous = await get(org.name);
    expect(anonymous.status).toBe(200);
    const body = (await anonymous.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ organization_name: org.name, collection_name: org.body.collection_name, status: "active" });
    expect(Date.parse(body.created_at as string)).not.toBeNaN();
    expect(body).not.toHaveProperty("admin_email");

    const own = await get(org.name, bearer(await loginToken(org.email, org.password)));
    expect(await own.json()).toMatchObject({ admin_email: org.email });

    const other = await createOrg();
    const foreign = await get(org.name, bearer(await loginToken(other.email, other.password)));
    expect(await foreign.json()).not.toHaveProperty("admin_email");
  });

  it("finds the organization by any name with its slug", async () => {
    const org = await createOrg();
    expect((await get(org.name.toUpperCase())).status).toBe(200);
  });

  it("answers 404 for an unknown organization", async () => {
    const res = await get(uniqueName("Nobody"));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ detail: "Organization not found" });
  });

  it("answers 422 without organization_name", async () => {
    const res = await call("/org/get");
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({ detail: [{ loc: ["query", "organization_name"], msg: "Field required", type: "missing" }] });
  });
});

describe("POST /admin/login", () => {
  it("returns a bearer JWT with the documented claims", async () => {
    const org = await createOrg();
    const res = await postJson("/admin/login", { email: org.email, password: org.password });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe("bearer");
    expect(Object.keys(body).sort()).toEqual(["access_token", "token_type"]);
    const claims = JSON.parse(atob((body.access_token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/")));
    expect(claims).toMatchObject({ org_name: org.name });
    for (const claim of ["admin_id", "org_id", "exp", "iat", "sub", "jti"]) expect(claims).toHaveProperty(claim);
  });

  it("accepts the e-mail in any case", async () => {
    const org = await createOrg();
    expect((await postJson("/admin/login", { email: org.email.toUpperCase(), password: org.password })).status).toBe(200);
  });

  it("gives the same 401 for an unknown e-mail and a wrong password", async () => {
    const org = await createOrg();
    const wrongPassword = await postJson("/admin/login", { email: org.email, password: "Wrong1234" });
    const unknownEmail = await postJson("/admin/login", { email: `nobody-${org.email}`, password: org.password });
    expect(wrongPassword.status).toBe(401);
    expect(unknownEmail.status).toBe(401);
    expect(await wrongPassword.json()).toEqual({ detail: "Invalid email or password" });
    expect(await unknownEmail.json()).toEqual({ detail: "Invalid email or password" });
  });
});

describe("PUT /org/update", () => {
  it("renames with the admin's password, moving the tenant collection", async () => {
    const org = await createOrg();
    const newName = uniqueName("Renamed");
    const res = await putJson("/org/update", { organization_name: org.name, new_organization_name: newName, email: org.email, password: org.password });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ organization_name: newName, collection_name: `org_${newName.toLowerCase().replace(/[^a-z0-9]+/g, "_")}`, status: "active" });
    expect((await get(org.name)).status).toBe(404);
    expect(await (await get(newName)).json()).toMatchObject({ organization_name: newName, collection_name: body.collection_name });
  });

  it("accepts the admin's bearer token instead of the password, and the token survives the rename", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const second = uniqueName("Second");
    const third = uniqueName("Third");
    const first = await putJson("/org/update", { organization_name: org.name, new_organization_name: second }, bearer(token));
    expect(first.status).toBe(200);
    const again = await putJson("/org/update", { organization_name: second, new_organization_name: third }, bearer(token));
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ organization_name: third });
  });

  it("refuses a new name that another organization has: 409", async () => {
    const a = await createOrg();
    const b = await createOrg();
    const res = await putJson("/org/update", { organization_name: a.name, new_organization_name: b.name.toUpperCase(), email: a.email, password: a.password });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ detail: "Organization already exists" });
    expect((await get(a.name)).status).toBe(200);
  });

  it("changes only the display name when the slug stays", async () => {
    const org = await createOrg();
    const res = await putJson("/org/update", {
      organization_name: org.name,
      new_organization_name: org.name.toUpperCase(),
      email: org.email,
      password: org.password,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ organization_name: org.name.toUpperCase(), collection_name: org.body.collection_name });
  });

  it("refuses wrong passwords (401) and other organizations' admins (403), changing nothing", async () => {
    const a = await createOrg();
    const b = await createOrg();
    const wrong = await putJson("/org/update", { organization_name: a.name, new_organization_name: uniqueName(), email: a.email, password: "Nope1234" });
    expect(wrong.status).toBe(401);
    const foreign = await putJson("/org/update", { organization_name: a.name, new_organization_name: uniqueName(), email: b.email, password: b.password });
    expect(foreign.status).toBe(403);
    const foreignToken = await putJson(
      "/org/update",
      { organization_name: a.name, new_organization_name: uniqueName() },
      bearer(await loginToken(b.email, b.password)),
    );
    expect(foreignToken.status).toBe(403);
    expect(await (await get(a.name)).json()).toMatchObject({ organization_name: a.name });
  });

  it("answers 404 for an unknown organization and 422 without credentials", async () => {
    const a = await createOrg();
    const missing = await putJson("/org/update", {
      organization_name: uniqueName("Ghost"),
      new_organization_name: uniqueName(),
      email: a.email,
      password: a.password,
    });
    expect(missing.status).toBe(404);
    const noCredentials = await putJson("/org/update", { organization_name: a.name, new_organization_name: uniqueName() });
    expect(noCredentials.status).toBe(422);
    expect(await noCredentials.json()).toEqual({
      detail: [
        { loc: ["body", "email"], msg: "Field required", type: "missing" },
        { loc: ["body", "password"], msg: "Field required", type: "missing" },
      ],
    });
  });
});

describe("DELETE /org/delete", () => {
  it("deletes with the admin's token and e-mail header", async () => {
    const org = await createOrg();
    const token = await loginToken(org.email, org.password);
    const res = await del(org.name, { ...bearer(token), "x-admin-email": org.email });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ detail: "deleted" });
    expect((await get(org.name)).status).toBe(404);
    expect((await postJson("/admin/login", { email: org.email, password: org.password })).status).toBe(401);
  });

  it("frees the name and e-mail for a new organization, which the old token cannot touch", async () => {
    const org = await createOrg();
    const oldToken = await loginToken(org.email, org.password);
    expect((await del(org.name, bearer(oldToken))).status).toBe(200);
    const again = await postJson("/org/create", { organization_name: org.name, email: org.email, password: "Other1234" });
    expect(again.status).toBe(200);
    expect((await del(org.name, bearer(oldToken))).status).toBe(401);
    expect((await putJson("/org/update", { organization_name: org.name, new_organization_name: uniqueName() }, bearer(oldToken))).status).toBe(401);
    expect((await get(org.name)).status).toBe(200);
  });

  it("refuses a mismatched x-admin-email and another organization's admin: 403", async () => {
    const a = await createOrg();
    const b = await createOrg();
    const tokenA = await loginToken(a.email, a.password);
    const mismatch = await del(a.name, { ...bearer(tokenA), "x-admin-email": b.email });
    expect(mismatch.status).toBe(403);
    expect(await mismatch.json()).toEqual({ detail: "x-admin-email does not match the authenticated admin" });
    const foreign = await del(b.name, bearer(tokenA));
    expect(foreign.status).toBe(403);
    expect((await get(a.name)).status).toBe(200);
    expect((await get(b.name)).status).toBe(200);
  });

  it("requires a valid token: 401", async () => {
    const org = await createOrg();
    for (const headers of [{}, { authorization: "Bearer not.a.token" }, { authorization: "Basic abc" }] as Record<string, string>[]) {
      const res = await del(org.name, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
    }
    expect((await get(org.name)).status).toBe(200);
  });

  it("answers 404 for an unknown organization", async () => {
    const org = await createOrg();
    expect((await del(uniqueName("Ghost"), bearer(await loginToken(org.email, org.password)))).status).toBe(404);
  });
});

/** Waits until no event publisher holds a lease on the organization (they run after the answer). */
const publisherDone = async (name: string) => {
  const organizations = storeClient(env.DATABASE ?? "master_db").collection<OrganizationDoc>(ORGANIZATIONS);
  for (let i = 0; i < 100; i++) {
    const org = await organizations.findOne({ organization_name: name });
    if (Object.keys(org?.publish_leases ?? {}).length === 0 && (org?.outbox ?? []).length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the events of ${name} were never published`);
};

describe("data round trips per endpoint", () => {
  // Login counts the attempt and reads the account in one call, then reads the organization: 2.
  // Since accounts are documents of their own (a user may belong to several organizations), create
  // reserves the e-mail in one more call (4, was 3), a password change revokes tokens before it
  // changes the hash (4, was 3), and a delete closes the accounts it leaves empty (4, was 3).
  // Events ride in the updates that make their changes, so create and rename cost nothing more;
  // a delete also removes the organization's published events (5, was 4), and a password change,
  // whose event is carried on the account, relays it to the account's organizations (5, was 4).
  // A create reads the platform's role templates beside the account's step (5, still 4 one after another).
  it("stays within the budget: get 1, login 2, create 5, rename 5 (password) or 3 (token), password change 5, delete 5", async () => {
    const name = uniqueName("Trips");
    const email = emailFor(name);
    const create = await postJson("/org/create", { organization_name: name, email, password: "Test1234" });
    expect(roundTrips(create)).toBe(5);
    expect(roundTrips(await get(name))).toBe(1);
    const login = await postJson("/admin/login", { email, password: "Test1234" });
    expect(roundTrips(login)).toBe(2);
    const token = ((await login.json()) as { access_token: string }).access_token;
    const renamed = uniqueName("Trips");
    expect(roundTrips(await putJson("/org/update", { organization_name: name, new_organization_name: renamed, email, password: "Test1234" }))).toBe(5);
    const again = uniqueName("Trips");
    expect(roundTrips(await putJson("/org/update", { organization_name: renamed, new_organization_name: again }, bearer(token)))).toBe(3);
    const change = await postJson("/admin/password", { current_password: "Test1234", new_password: "Brand-new-9" }, bearer(token));
    expect(change.status).toBe(200);
    expect(roundTrips(change)).toBe(5);
    const fresh = ((await change.json()) as { access_token: string }).access_token;
    // The change's event is published after the answer; a delete that began meanwhile would wait
    // for the publisher's lease (one more read): the budget is the delete's own.
    await publisherDone(again);
    expect(roundTrips(await del(again, bearer(fresh)))).toBe(5);
  });
});
