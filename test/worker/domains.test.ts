// Verified domains: an organization claims a domain, publishes the TXT record it is given, and the
// service looks it up over DNS over HTTPS. The lookups go to a real DNS server (scripts/with-dns.sh)
// whose records these tests publish and remove; what needs no record runs without it.
import { createScheduledController } from "cloudflare:test";
import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { DOMAINS, type DomainDoc } from "../../src/domain/domains/domains";
import { ERRORS } from "../../src/domain/kernel/errors";
import worker from "../../src/index";
import { bearer, call, callWith, createOrg, env, join, loginToken, postJson, storeClient, uniqueName, useOwnDatabase } from "../helpers";

const database = useOwnDatabase("domains");

const CONTROL = (env as unknown as { DNS_CONTROL_URL?: string }).DNS_CONTROL_URL ?? "";
const DEAD_RESOLVER = { DNS_RESOLVER_URL: "http://127.0.0.1:9/dns-query" };

interface Domain {
  id: string;
  domain: string;
  status: string;
  record: { type: string; name: string; value: string };
  last_error: string | null;
  verified_at: string | null;
}

const stored = () => storeClient(database).collection<DomainDoc>(DOMAINS);
const detail = async (res: Response) => ((await res.json()) as { detail: unknown }).detail;
const fresh = () =>
  `${uniqueName("d")
    .replace(/[^a-z0-9]/gi, "")
    .toLowerCase()}.test`;

const organization = async () => {
  const org = await createOrg(uniqueName("Domains"));
  return { org, owner: await loginToken(org.email, org.password) };
};

const claim = async (token: string, domain: string) => {
  const res = await postJson("/org/domains", { domain }, bearer(token));
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Domain;
};

const verify = async (token: string, id: string, overrides?: Record<string, string>) => {
  const init = { method: "POST", headers: bearer(token) };
  const res = overrides ? await callWith(overrides, `/org/domains/${id}/verify`, init) : await call(`/org/domains/${id}/verify`, init);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Domain;
};

const publish = async (name: string, txt: string[]) => {
  const res = await fetch(`${CONTROL}/records/${name}`, { method: "PUT", body: JSON.stringify({ txt }) });
  expect(res.ok, await res.text()).toBe(true);
};

const unpublish = async (name: string) => {
  await (await fetch(`${CONTROL}/records/${name}`, { method: "DELETE" })).body?.cancel();
};

const eventsOf = async (token: string, type: string) => {
  const feed = (await (await call("/org/events?limit=100", { headers: bearer(token) })).json()) as {
    events: { type: string; data: Record<string, unknown> }[];
  };
  return feed.events.filter((event) => event.type === type);
};

/** The Cron Trigger, every verified domain due for a new lookup. */
const cron = (overrides: Record<string, string> = {}) =>
  worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), {
    ...env,
    DATABASE: database,
    DOMAIN_REVERIFY_HOURS: "0",
    ...overrides,
  } as typeof env);

describe("claiming a domain", () => {
  it("answers the record to publish; refuses public mail domains, bad names, a second claim and members without domain:manage", async () => {
    const { owner } = await organization();
    const domain = fresh();
    const claimed = await claim(owner, `${domain.toUpperCase()}.`);
    expect(claimed).toMatchObject({ domain, status: "pending", record: { type: "TXT", name: `_org-verification.${domain}` }, verified_at: null });
    expect(claimed.record.value).toMatch(/^org-verification=[A-Za-z0-9_-]{43}$/);
    const listed = (await (await call("/org/domains", { headers: bearer(owner) })).json()) as { domains: Domain[] };
    expect(listed.domains).toEqual([expect.objectContaining({ id: claimed.id, domain })]);

    const before = await stored().countDocuments({});
    for (const [body, status, error] of [
      [{ domain: "gmail.com" }, 422, ERRORS.DOMAIN_PUBLIC.message],
      [{ domain: "Mail.Outlook.com" }, 422, ERRORS.DOMAIN_PUBLIC.message],
      [{ domain }, 409, ERRORS.DOMAIN_EXISTS.message],
    ] as const) {
      const res = await postJson("/org/domains", body, bearer(owner));
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(await detail(res)).toBe(error);
    }
    for (const bad of ["localhost", "-acme.test", "acme..test", "https://acme.test", "acme.test/x", `${"a".repeat(64)}.test`, "ac me.test", "", 42]) {
      expect((await postJson("/org/domains", { domain: bad }, bearer(owner))).status, JSON.stringify(bad)).toBe(422);
    }
    const member = await join(owner);
    const refused = await postJson("/org/domains", { domain: fresh() }, bearer(member.token));
    expect(refused.status).toBe(403);
    expect(await stored().countDocuments({})).toBe(before);
  });

  it("a resolver that cannot be reached leaves the domain pending, with the reason", async () => {
    const { owner } = await organization();
    const claimed = await claim(owner, fresh());
    const after = await verify(owner, claimed.id, DEAD_RESOLVER);
    expect(after).toMatchObject({ status: "pending", last_error: expect.stringContaining("resolver") });
    expect(after.verified_at).toBeNull();
  });

  it("a deleted claim and a deleted organization leave no domain behind", async () => {
    const { org, owner } = await organization();
    const first = await claim(owner, fresh());
    await claim(owner, fresh());
    expect((await call(`/org/domains/${first.id}`, { method: "DELETE", headers: bearer(owner) })).status).toBe(200);
    expect((await call(`/org/domains/${first.id}`, { method: "DELETE", headers: bearer(owner) })).status).toBe(404);
    expect((await eventsOf(owner, "domain.deleted")).map((event) => event.data.domain_id)).toEqual([first.id]);
    const orgId = JSON.parse(atob((owner.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))).org_id as string;
    const deleted = await call(`/org/delete?organization_name=${encodeURIComponent(org.name)}`, { method: "DELETE", headers: bearer(owner) });
    expect(deleted.status).toBe(200);
    expect(await stored().countDocuments({ org_id: ObjectId.createFromHexString(orgId) })).toBe(0);
  });
});

describe.skipIf(!CONTROL)("verifying against a real DNS server", () => {
  it("a published record verifies; a wrong or missing one does not, and says why", async () => {
    const { owner } = await organization();
    const claimed = await claim(owner, fresh());
    expect(await verify(owner, claimed.id)).toMatchObject({ status: "pending", last_error: `No TXT record at ${claimed.record.name}` });
    await publish(claimed.record.name, ["v=spf1 -all", "org-verification=not-this-one"]);
    expect(await verify(owner, claimed.id)).toMatchObject({ status: "pending", last_error: `No TXT record at ${claimed.record.name} holds the value` });

    await publish(claimed.record.name, ["v=spf1 -all", claimed.record.value]);
    const verified = await verify(owner, claimed.id);
    expect(verified).toMatchObject({ status: "verified", last_error: null, verified_at: expect.any(String) });
    expect(await eventsOf(owner, "domain.verified")).toEqual([expect.objectContaining({ data: expect.objectContaining({ domain_id: claimed.id }) })]);
    // Verifying again changes nothing, and records no second event.
    expect((await verify(owner, claimed.id)).verified_at).toBe(verified.verified_at);
    expect(await eventsOf(owner, "domain.verified")).toHaveLength(1);
    await unpublish(claimed.record.name);
  });

  it("re-verification lapses a domain whose record went, and leaves one the resolver cannot answer for", async () => {
    const { owner } = await organization();
    const kept = await claim(owner, fresh());
    const gone = await claim(owner, fresh());
    for (const domain of [kept, gone]) {
      await publish(domain.record.name, [domain.record.value]);
      expect((await verify(owner, domain.id)).status).toBe("verified");
    }
    // The resolver down: nothing lapses.
    await unpublish(gone.record.name);
    await cron(DEAD_RESOLVER);
    const listed = async () => ((await (await call("/org/domains", { headers: bearer(owner) })).json()) as { domains: Domain[] }).domains;
    expect((await listed()).map((domain) => domain.status)).toEqual(["verified", "verified"]);

    await cron();
    const after = Object.fromEntries((await listed()).map((domain) => [domain.id, domain]));
    expect(after[kept.id]).toMatchObject({ status: "verified" });
    expect(after[gone.id]).toMatchObject({ status: "lapsed", last_error: `No TXT record at ${gone.record.name}` });
    expect((await eventsOf(owner, "domain.lapsed")).map((event) => event.data.domain_id)).toEqual([gone.id]);
    await unpublish(kept.record.name);
  });

  it("a domain two organizations claim and verify at once is verified by exactly one; a third may not claim it", async () => {
    const domain = fresh();
    const [a, b] = await Promise.all([organization(), organization()]);
    const claims = await Promise.all([claim(a.owner, domain), claim(b.owner, domain)]);
    await publish(
      claims[0]?.record.name ?? "",
      claims.map((each) => each.record.value),
    );
    const results = await Promise.all([verify(a.owner, claims[0]?.id ?? ""), verify(b.owner, claims[1]?.id ?? "")]);
    expect(results.map((result) => result.status).sort()).toEqual(["pending", "verified"]);
    expect(results.find((result) => result.status === "pending")?.last_error).toMatch(/another organization/);
    expect(await stored().countDocuments({ verified_domain: domain })).toBe(1);

    const third = await organization();
    const refused = await postJson("/org/domains", { domain }, bearer(third.owner));
    expect(refused.status).toBe(409);
    expect(await detail(refused)).toBe(ERRORS.DOMAIN_TAKEN.message);

    // Released by its owner, the other organization's claim verifies.
    const winner = results[0]?.status === "verified" ? 0 : 1;
    const tokens = [a.owner, b.owner];
    expect((await call(`/org/domains/${claims[winner]?.id}`, { method: "DELETE", headers: bearer(tokens[winner] ?? "") })).status).toBe(200);
    expect((await verify(tokens[1 - winner] ?? "", claims[1 - winner]?.id ?? "")).status).toBe("verified");
    await unpublish(claims[0]?.record.name ?? "");
  });
});
