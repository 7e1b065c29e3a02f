import { ObjectId } from "bson";
import { decodeJwt } from "jose";
import { expect } from "vitest";
import { type AccountDoc, USERS } from "../../src/domain/accounts/accounts";
import { DOMAINS, type DomainDoc } from "../../src/domain/domains/domains";
import type { OrganizationDoc } from "../../src/domain/kernel/model";
import { bearer, call, createOrg, env, loginToken, patchJson, postJson, storeClient, uniqueName } from "../helpers";

/**
 * What the suites about joining by domain share: an organization that verified a fresh domain on
 * the test DNS server (scripts/with-dns.sh), people who sign up at it, and the store as they left it.
 */
export const DNS_CONTROL = (env as unknown as { DNS_CONTROL_URL?: string }).DNS_CONTROL_URL ?? "";

const database = () => env.DATABASE ?? "master_db";
export const accounts = () => storeClient(database()).collection<AccountDoc>(USERS);
export const organizations = () => storeClient(database()).collection<OrganizationDoc>("organizations");

export const freshDomain = () =>
  `${uniqueName("j")
    .replace(/[^a-z0-9]/gi, "")
    .toLowerCase()}.test`;

/** An organization that verified a fresh domain (its record published on the test DNS server), with the policy set. */
export const verifiedOrganization = async (policy?: { policy: string; role?: string }) => {
  const org = await createOrg(uniqueName("Joinable"));
  const owner = await loginToken(org.email, org.password);
  const domain = freshDomain();
  const claimed = await postJson("/org/domains", { domain }, bearer(owner));
  expect(claimed.status, await claimed.clone().text()).toBe(201);
  const { id, record } = (await claimed.json()) as { id: string; record: { name: string; value: string } };
  const published = await fetch(`${DNS_CONTROL}/records/${record.name}`, { method: "PUT", body: JSON.stringify({ txt: [record.value] }) });
  expect(published.ok).toBe(true);
  const verified = await postJson(`/org/domains/${id}/verify`, {}, bearer(owner));
  expect(((await verified.json()) as { status: string }).status).toBe("verified");
  if (policy) {
    const set = await patchJson(`/org/domains/${id}`, policy, bearer(owner));
    expect(set.status, await set.clone().text()).toBe(200);
  }
  return { org, owner, domain, id, record };
};

/**
 * The domain verified where a verification that found its record writes it: the domain says
 * verified, and then the organization's document says its policy applies. For suites that run
 * without the DNS server too (the race suite runs on both stores, with or without it).
 */
export const markVerifiedInStore = async (orgId: string, id: string, domain: string) => {
  const now = new Date();
  await storeClient(database())
    .collection<DomainDoc>(DOMAINS)
    .updateOne({ _id: ObjectId.createFromHexString(id) }, { $set: { status: "verified", verified_domain: domain, verified_at: now, checked_at: now } });
  await organizations().updateOne(
    { _id: ObjectId.createFromHexString(orgId) },
    { $set: { [`domain_policies.${id}.domain`]: domain, [`domain_policies.${id}.verified`]: true } },
  );
};

/** An organization that claimed a fresh domain, verified in the store (markVerifiedInStore), with the policy set as an owner sets it. */
export const verifiedInStore = async (policy?: { policy: string; role?: string }) => {
  const org = await createOrg(uniqueName("Joinable"));
  const owner = await loginToken(org.email, org.password);
  const domain = freshDomain();
  const claimed = await postJson("/org/domains", { domain }, bearer(owner));
  expect(claimed.status, await claimed.clone().text()).toBe(201);
  const { id } = (await claimed.json()) as { id: string };
  await markVerifiedInStore(orgIdOf(owner), id, domain);
  if (policy) {
    const set = await patchJson(`/org/domains/${id}`, policy, bearer(owner));
    expect(set.status, await set.clone().text()).toBe(200);
  }
  return { org, owner, orgId: orgIdOf(owner), domain, id };
};

export const signUp = async (email: string, password = "Sign-up-123") => {
  const res = await postJson("/auth/signup", { email, password });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { user_id: string; access_token: string; email_verified: boolean };
};

/** The address proven as following the mailed link proves it (the link itself is tested with Mailpit below). */
export const proveAddress = (email: string) => accounts().updateOne({ email }, { $set: { email_verified: true } });

export const suggestions = async (token: string) => {
  const res = await call("/auth/suggestions", { headers: bearer(token) });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as { email_verified: boolean; suggestions: { org_id: string; policy: string; role: string | null; requested: boolean }[] };
};

export const orgIdOf = (token: string) => decodeJwt(token).org_id as string;

export const membersOf = async (orgId: string) => {
  const org = await organizations().findOne({ _id: ObjectId.createFromHexString(orgId) });
  return Object.values(org?.members ?? {});
};
