// People finding their way in by their address's domain: sign-up, the verified address, the
// domain's policy (auto_join, suggest), requests an admin approves, and the policy ending with the
// domain. Domains are verified against the real DNS server (scripts/with-dns.sh), and the address
// from the mail Mailpit received (scripts/with-mailpit.sh) where the suite has it.
import { createScheduledController } from "cloudflare:test";
import { ObjectId } from "bson";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { bearer, call, createOrg, env, invite, join, loginToken, patchJson, postJson, uniqueName, useOwnDatabase } from "../helpers";
import { accounts, DNS_CONTROL, freshDomain, membersOf, organizations, orgIdOf, proveAddress, signUp, suggestions, verifiedOrganization } from "./domain-kit";
import { mailpitUrl, nthMailTo } from "./mail-mailpit";

const database = useOwnDatabase("joining", { mail: true });

describe.skipIf(!DNS_CONTROL)("joining by a verified domain", () => {
  it.skipIf(!mailpitUrl)("a person signs up at an auto_join domain, verifies the address from the mail, and lands in the organization", async () => {
    const { owner, domain } = await verifiedOrganization({ policy: "auto_join", role: "member" });
    const email = `dana@${domain}`;
    const signed = await signUp(email);
    expect(signed.email_verified).toBe(false);
    // An account token opens no organization's routes.
    expect((await call("/org/members", { headers: bearer(signed.access_token) })).status).toBe(401);
    // Unverified: nothing is suggested, and asking to join is refused.
    expect((await suggestions(signed.access_token)).suggestions).toEqual([]);
    expect((await postJson(`/auth/suggestions/${orgIdOf(owner)}/join`, {}, bearer(signed.access_token))).status).toBe(403);
    expect(await membersOf(orgIdOf(owner))).toHaveLength(1);

    const mail = await nthMailTo(database, email, 1);
    const token = mail.Text.match(/\/verify-email#token=([A-Za-z0-9_-]+)/)?.[1];
    const confirmed = await postJson("/auth/verify-email/confirm", { token });
    expect(confirmed.status).toBe(200);
    const answer = (await confirmed.json()) as { joined: { org_id: string; role: string }[] };
    expect(answer.joined).toEqual([expect.objectContaining({ org_id: orgIdOf(owner), role: "member" })]);

    const member = await loginToken(email, "Sign-up-123");
    expect(orgIdOf(member)).toBe(orgIdOf(owner));
    expect(decodeJwt(member)).toMatchObject({ role: "member", email_verified: true });
    const feed = (await (await call("/org/events?limit=100", { headers: bearer(owner) })).json()) as {
      events: { type: string; data: Record<string, unknown> }[];
    };
    expect(feed.events.filter((e) => e.type === "member.joined").map((e) => e.data)).toEqual([expect.objectContaining({ email, via: "auto_join", domain })]);
    const account = await accounts().findOne({ email });
    expect(account?.org_ids?.map(String)).toEqual([orgIdOf(owner)]);
    expect(account?.domain_join).toBeUndefined();
  });

  it("a verified account joins an auto_join domain's organization on request, once; others see nothing", async () => {
    const { owner, domain } = await verifiedOrganization({ policy: "auto_join", role: "admin" });
    const email = `erin@${domain}`;
    const { access_token } = await signUp(email);
    await proveAddress(email);
    const listed = await suggestions(access_token);
    expect(listed).toMatchObject({ email_verified: true, suggestions: [{ org_id: orgIdOf(owner), policy: "auto_join", role: "admin", requested: false }] });
    const joined = await postJson(`/auth/suggestions/${orgIdOf(owner)}/join`, {}, bearer(access_token));
    expect(joined.status, await joined.clone().text()).toBe(201);
    const { access_token: memberToken } = (await joined.json()) as { access_token: string };
    expect(decodeJwt(memberToken)).toMatchObject({ org_id: orgIdOf(owner), role: "admin" });
    expect((await call("/org/members", { headers: bearer(memberToken) })).status).toBe(200);
    // Once a member, nothing more is suggested, and joining again is refused.
    expect((await suggestions(access_token)).suggestions).toEqual([]);
    expect((await postJson(`/auth/suggestions/${orgIdOf(owner)}/join`, {}, bearer(access_token))).status).toBe(409);
    // Someone at another domain, verified or not, sees nothing.
    const stranger = await signUp(`frank@${freshDomain()}`);
    await proveAddress(`frank@${freshDomain()}`);
    expect((await suggestions(stranger.access_token)).suggestions).toEqual([]);
    expect((await postJson(`/auth/suggestions/${orgIdOf(owner)}/join`, {}, bearer(stranger.access_token))).status).toBe(403);
  });

  it("suggest: the person asks, an admin approves or declines; asking twice is one request", async () => {
    const { owner, domain } = await verifiedOrganization({ policy: "suggest" });
    const orgId = orgIdOf(owner);
    const asker = `gail@${domain}`;
    const other = `hugo@${domain}`;
    const [a, b] = [await signUp(asker), await signUp(other)];
    await Promise.all([proveAddress(asker), proveAddress(other)]);
    for (const token of [a.access_token, a.access_token, b.access_token]) {
      const asked = await postJson(`/auth/suggestions/${orgId}/join`, {}, bearer(token));
      expect(asked.status).toBe(202);
    }
    expect((await suggestions(a.access_token)).suggestions).toEqual([expect.objectContaining({ policy: "suggest", requested: true })]);
    const requests = (await (await call("/org/join-requests", { headers: bearer(owner) })).json()) as { requests: { user_id: string; email: string }[] };
    expect(requests.requests.map((r) => r.email).sort()).toEqual([asker, other].sort());

    const approved = await call(`/org/join-requests/${a.user_id}/approve`, { method: "POST", headers: bearer(owner) });
    expect(approved.status, await approved.clone().text()).toBe(200);
    expect(await approved.json()).toMatchObject({ user_id: a.user_id, role: "member" });
    expect((await call(`/org/join-requests/${b.user_id}`, { method: "DELETE", headers: bearer(owner) })).status).toBe(200);
    expect((await call(`/org/join-requests/${b.user_id}`, { method: "DELETE", headers: bearer(owner) })).status).toBe(404);
    expect((await call(`/org/join-requests/${b.user_id}/approve`, { method: "POST", headers: bearer(owner) })).status).toBe(404);

    expect((await membersOf(orgId)).map((m) => m.email).sort()).toEqual([asker, expect.stringContaining("admin+")].sort());
    expect(orgIdOf(await loginToken(asker, "Sign-up-123"))).toBe(orgId);
    // The declined account is still an account of its own, and may ask again.
    expect((await postJson(`/auth/suggestions/${orgId}/join`, {}, bearer(b.access_token))).status).toBe(202);
    // Invited meanwhile and accepted: the request has its answer, and approving it is a 409 that clears it.
    const { token: invitation } = await invite(owner, other);
    expect((await postJson("/invitations/accept", { token: invitation, password: "Sign-up-123" })).status).toBe(200);
    expect((await call(`/org/join-requests/${b.user_id}/approve`, { method: "POST", headers: bearer(owner) })).status).toBe(409);
    expect(await (await call("/org/join-requests", { headers: bearer(owner) })).json()).toEqual({ requests: [] });
  });

  it("a lapsed or released domain lets nobody in, and a policy of none neither", async () => {
    const { owner, domain, id, record } = await verifiedOrganization({ policy: "auto_join" });
    const orgId = orgIdOf(owner);
    const people = ["ivy", "jon", "kai"].map((name) => `${name}@${domain}`);
    const tokens = await Promise.all(people.map(async (email) => (await signUp(email)).access_token));
    await Promise.all(people.map(proveAddress));

    expect((await patchJson(`/org/domains/${id}`, { policy: "none" }, bearer(owner))).status).toBe(200);
    expect((await suggestions(tokens[0] as string)).suggestions).toEqual([]);
    expect((await postJson(`/auth/suggestions/${orgId}/join`, {}, bearer(tokens[0] as string))).status).toBe(404);

    expect((await patchJson(`/org/domains/${id}`, { policy: "auto_join" }, bearer(owner))).status).toBe(200);
    expect((await postJson(`/auth/suggestions/${orgId}/join`, {}, bearer(tokens[0] as string))).status).toBe(201);

    // The record goes, and re-verification lapses the domain: its policy stops applying.
    await (await fetch(`${DNS_CONTROL}/records/${record.name}`, { method: "DELETE" })).body?.cancel();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), {
      ...env,
      DATABASE: database,
      DOMAIN_REVERIFY_HOURS: "0",
    } as typeof env);
    expect((await suggestions(tokens[1] as string)).suggestions).toEqual([]);
    expect((await postJson(`/auth/suggestions/${orgId}/join`, {}, bearer(tokens[1] as string))).status).toBe(404);

    expect((await call(`/org/domains/${id}`, { method: "DELETE", headers: bearer(owner) })).status).toBe(200);
    expect((await postJson(`/auth/suggestions/${orgId}/join`, {}, bearer(tokens[2] as string))).status).toBe(404);
    const org = await organizations().findOne({ _id: ObjectId.createFromHexString(orgId) });
    expect(org?.domain_policies?.[id]).toBeUndefined();
    expect((await membersOf(orgId)).length).toBe(2);
  });

  it("policies are refused where they would hand out more than the caller holds, or are malformed", async () => {
    const { owner, id } = await verifiedOrganization();
    expect((await patchJson(`/org/domains/${id}`, { policy: "suggest", role: "admin" }, bearer(owner))).status).toBe(422);
    expect((await patchJson(`/org/domains/${id}`, { policy: "auto_join", role: "owner" }, bearer(owner))).status).toBe(422);
    expect((await patchJson(`/org/domains/${id}`, { policy: "everyone" }, bearer(owner))).status).toBe(422);
    expect((await patchJson(`/org/domains/ffffffffffffffffffffffff`, { policy: "suggest" }, bearer(owner))).status).toBe(404);
    // A holder of a custom role that gives domain:manage sets members' policies, never admins'.
    expect((await postJson("/org/roles", { name: "domains", permissions: ["domain:manage"] }, bearer(owner))).status).toBe(201);
    const holder = await join(owner);
    expect((await patchJson(`/org/members/${holder.userId}`, { roles: ["member", "domains"] }, bearer(owner))).status).toBe(200);
    const token = await loginToken(holder.email, holder.password);
    expect((await patchJson(`/org/domains/${id}`, { policy: "auto_join", role: "admin" }, bearer(token))).status).toBe(403);
    const set = await patchJson(`/org/domains/${id}`, { policy: "auto_join" }, bearer(token));
    expect(set.status).toBe(200);
    expect(await set.json()).toMatchObject({ policy: "auto_join", role: "member", status: "verified" });
  });
});

describe("sign-up and invitations", () => {
  it("an address has one account; an account in no organization signs in as itself, and a password change revokes its tokens", async () => {
    const email = `lee+${Date.now().toString(36)}@nowhere.test`;
    const { access_token } = await signUp(email);
    expect((await postJson("/auth/signup", { email: email.toUpperCase(), password: "Other-pass-1" })).status).toBe(409);
    expect((await postJson("/auth/signup", { email: "not-an-address", password: "Other-pass-1" })).status).toBe(422);
    expect((await postJson("/auth/signup", { email: `x${email}`, password: "short" })).status).toBe(422);
    const login = await postJson("/admin/login", { email, password: "Sign-up-123" });
    expect(login.status).toBe(200);
    const token = ((await login.json()) as { access_token: string }).access_token;
    expect(decodeJwt(token)).toMatchObject({ scope: "account" });
    expect(decodeJwt(token).org_id).toBeUndefined();
    expect((await suggestions(token)).email_verified).toBe(false);
    expect((await postJson("/admin/login", { email, password: "wrong-password" })).status).toBe(401);
    expect((await call("/auth/suggestions")).status).toBe(401);
    await accounts().updateOne({ email }, { $inc: { token_version: 1 } });
    expect((await call("/auth/suggestions", { headers: bearer(access_token) })).status).toBe(401);
    expect((await postJson("/auth/verify-email", {}, bearer(token))).status).toBe(401);
    // A revoked account token creates nothing; a current one creates the account's first organization.
    expect((await postJson("/org/create", { organization_name: uniqueName("Own") }, bearer(access_token))).status).toBe(401);
    const name = uniqueName("Own");
    const current = await loginToken(email, "Sign-up-123");
    const created = await postJson("/org/create", { organization_name: name }, bearer(current));
    expect(created.status, await created.clone().text()).toBe(200);
    expect(await created.json()).toMatchObject({ organization_name: name, admin_email: email });
    const owner = await loginToken(email, "Sign-up-123");
    expect(decodeJwt(owner)).toMatchObject({ org_name: name, role: "owner" });
    // Leaving it again would close an account an invitation or a create opened; one opened by sign-up stays.
    expect((await call(`/org/delete?organization_name=${encodeURIComponent(name)}`, { method: "DELETE", headers: bearer(owner) })).status).toBe(200);
    const after = await postJson("/admin/login", { email, password: "Sign-up-123" });
    expect(after.status).toBe(200);
    expect(decodeJwt(((await after.json()) as { access_token: string }).access_token).scope).toBe("account");
  });

  it("an allowed-domains list refuses invitations elsewhere, and an empty one lifts it", async () => {
    const org = await createOrg(uniqueName("Allowed"));
    const owner = await loginToken(org.email, org.password);
    const put = (domains: string[]) =>
      call("/org/invitation-domains", { method: "PUT", headers: { ...bearer(owner), "content-type": "application/json" }, body: JSON.stringify({ domains }) });
    expect(await (await put(["Acme.COM", "acme.com"])).json()).toEqual({ domains: ["acme.com"] });
    expect(await (await call("/org/invitation-domains", { headers: bearer(owner) })).json()).toEqual({ domains: ["acme.com"] });
    expect((await postJson("/org/invitations", { email: "x@acme.com", role: "member" }, bearer(owner))).status).toBe(201);
    const refused = await postJson("/org/invitations", { email: "y@elsewhere.com", role: "member" }, bearer(owner));
    expect(refused.status).toBe(422);
    expect((await put(["not a domain"])).status).toBe(422);
    expect(await (await put([])).json()).toEqual({ domains: [] });
    expect((await postJson("/org/invitations", { email: "y@elsewhere.com", role: "member" }, bearer(owner))).status).toBe(201);
  });
});
