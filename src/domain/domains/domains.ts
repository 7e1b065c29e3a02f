import { ObjectId } from "bson";
import common from "email-providers/common.json";
import { DuplicateKeyError } from "../../data/errors";
import type { IndexSpec } from "../../dataapi/engine";
import { type CarriedEvent, carriedEventOperation } from "../events/carried";
import type { Deps } from "../kernel/deps";
import { AppError } from "../kernel/errors";
import { actorOf, newEvent } from "../kernel/event";
import { readOrganization, whyRefused } from "../kernel/guard";
import { acquireWriteLease } from "../kernel/leases";
import type { Actor, DomainPolicyEntry, EventType, OrganizationDoc } from "../kernel/model";
import { randomSecret } from "../kernel/one-time-secret";
import { runForRequest } from "../kernel/operation";
import type { Caller } from "../kernel/principal";
import { insertInSlot, SLOT_INDEX } from "../kernel/slots";
import { lookupTxt, type TxtLookup } from "./dns";

/**
 * Verified domains: an organization claims an e-mail domain, publishes the TXT record this answers
 * at `_org-verification.<domain>`, and asks for it to be looked up (DNS over HTTPS, dns.ts). Each
 * claim is a document of the master database's `domains` collection; a verified one holds
 * `verified_domain`, which a unique index keeps to one organization, so of two organizations that
 * verify the same domain at once exactly one does. The cron looks verified domains up again and
 * marks those whose record went `lapsed`. Each change carries its event to the organization's feed
 * (events/carried.ts), as invitations and webhook endpoints do.
 */
export const DOMAINS = "domains";

/** Domains an organization may claim. */
export const MAX_DOMAINS = 20;

/** Where the record is published, under the claimed domain. */
export const RECORD_PREFIX = "_org-verification";

export type DomainStatus = "pending" | "verified" | "lapsed";

export interface DomainDoc {
  [key: string]: unknown;
  _id: ObjectId;
  org_id: ObjectId;
  domain: string;
  /** The TXT record's value, random per claim: another organization's claim publishes its own. */
  value: string;
  status: DomainStatus;
  /** The domain, while verified: unique, so a domain is verified by one organization at most. */
  verified_domain?: string;
  created_at: Date;
  verified_at?: Date;
  /** The last lookup, whatever it found. */
  checked_at?: Date;
  /** Why the last lookup did not verify it (or lapsed it); absent once verified. */
  last_error?: string;
  slot?: string;
  /** Deleted: refused from then on, and removed once its event is relayed. */
  deleted?: true;
  carried?: CarriedEvent[];
}

export const DOMAIN_INDEXES: IndexSpec[] = [
  { key: { org_id: 1, domain: 1 }, name: "org_domain_unique", unique: true },
  { key: { verified_domain: 1 }, name: "verified_domain_unique", unique: true, sparse: true },
  { key: { status: 1, checked_at: 1 }, name: "status_checked" },
  SLOT_INDEX,
];

export interface DomainView {
  id: string;
  domain: string;
  status: DomainStatus;
  /** The record to publish. */
  record: { type: "TXT"; name: string; value: string };
  verified_at: string | null;
  checked_at: string | null;
  last_error: string | null;
  created_at: string;
  /** What people at the domain may do once it is verified (policies.ts). */
  policy: "auto_join" | "suggest" | null;
  role: "member" | "admin" | null;
}

/** Where the organization's document keeps a domain's policy, or one field of it. */
export const policyPath = (id: ObjectId, field?: keyof DomainPolicyEntry): string => `domain_policies.${id.toHexString()}${field ? `.${field}` : ""}`;

export const policyOf = (org: Pick<OrganizationDoc, "domain_policies"> | null, id: ObjectId): DomainPolicyEntry | undefined =>
  org?.domain_policies?.[id.toHexString()];

export const viewOf = (doc: DomainDoc, entry?: DomainPolicyEntry): DomainView => ({
  id: doc._id.toHexString(),
  domain: doc.domain,
  status: doc.status,
  record: { type: "TXT", name: `${RECORD_PREFIX}.${doc.domain}`, value: doc.value },
  verified_at: doc.verified_at?.toISOString() ?? null,
  checked_at: doc.checked_at?.toISOString() ?? null,
  last_error: doc.last_error ?? null,
  created_at: doc.created_at.toISOString(),
  policy: entry?.policy ?? null,
  role: entry?.policy === "auto_join" ? (entry.role ?? "member") : null,
});

export const domains = (deps: Deps, deadline?: Date) => deps.data.collection<DomainDoc>(DOMAINS, deadline ? { deadline } : undefined);

// One operation per event a domain change carries: relayed to the feed, then cleared (or the domain removed).
export const claimDomainOperation = carriedEventOperation({ kind: "domain.claim", collection: DOMAINS, type: "domain.claimed", clearAfterAnswer: true });
export const verifyDomainOperation = carriedEventOperation({ kind: "domain.verify", collection: DOMAINS, type: "domain.verified", clearAfterAnswer: true });
export const lapseDomainOperation = carriedEventOperation({ kind: "domain.lapse", collection: DOMAINS, type: "domain.lapsed", clearAfterAnswer: true });
export const deleteDomainOperation = carriedEventOperation({ kind: "domain.delete", collection: DOMAINS, type: "domain.deleted", removes: { deleted: true } });

const PUBLIC_MAIL = new Set<string>(common);

/** A public mail provider's domain, or one under it: nobody's to claim. */
export const isPublicMailDomain = (domain: string): boolean => {
  const labels = domain.split(".");
  return labels.some((_, i) => PUBLIC_MAIL.has(labels.slice(i).join(".")));
};

const carriedOf = (doc: Pick<DomainDoc, "_id" | "org_id" | "domain">, type: EventType, actor: Actor, now: Date, extra: Record<string, unknown> = {}) => ({
  org_ids: [doc.org_id],
  event: newEvent(type, actor, { domain_id: doc._id.toHexString(), domain: doc.domain, ...extra }, now),
});

/** Claims a domain: answers the TXT record to publish. Under a write lease, so no domain outlives its organization. */
export const claimDomain = async (deps: Deps, caller: Caller, domain: string): Promise<DomainView> => {
  if (isPublicMailDomain(domain)) throw new AppError("DOMAIN_PUBLIC");
  const lease = await acquireWriteLease(deps, caller, { set: { has_domains: true } });
  if (!lease) throw await whyRefused(deps, caller);
  try {
    const leased = domains(deps, lease.until);
    const owner = await leased.findOne({ verified_domain: domain }, { projection: { org_id: 1 } });
    if (owner && !owner.org_id.equals(lease.org._id)) throw new AppError("DOMAIN_TAKEN");
    const now = deps.now();
    const doc: DomainDoc = {
      _id: new ObjectId(),
      org_id: lease.org._id,
      domain,
      value: `org-verification=${randomSecret()}`,
      status: "pending",
      created_at: now,
    };
    const claimed = carriedOf(doc, "domain.claimed", actorOf(caller), now);
    const exists = async () => (await leased.findOne({ org_id: doc.org_id, domain }, { projection: { _id: 1 } })) !== null;
    const placed = await insertInSlot(leased, { ...doc, carried: [claimed] }, MAX_DOMAINS, { readFirst: true, isOtherConflict: exists });
    if (placed === "conflict" || (placed === "full" && (await exists()))) throw new AppError("DOMAIN_EXISTS");
    if (placed === "full") throw new AppError("DOMAIN_LIMIT");
    if (placed !== "inserted") throw new AppError("ORGANIZATION_BUSY");
    await runForRequest(claimDomainOperation, deps, { carrier: doc._id, carried: claimed });
    return viewOf(doc);
  } finally {
    lease.release();
  }
};

export const listDomains = async (deps: Deps, caller: Caller): Promise<{ domains: DomainView[] }> => {
  const [org, docs] = await Promise.all([
    readOrganization(deps, caller, { domain_policies: 1 }),
    domains(deps).find({ org_id: caller.orgId, deleted: { $exists: false } }, { sort: { domain: 1 } }),
  ]);
  return { domains: docs.map((doc) => viewOf(doc, policyOf(org, doc._id))) };
};

const TAKEN = "Verified by another organization: a domain belongs to one organization at a time";

/** Whether a lookup found the claim's value: definite yes or no, or unknown with the resolver's reason. */
const judge = (doc: DomainDoc, found: TxtLookup): { verified: boolean; reason?: string; unknown?: true } => {
  if (!found.ok) return { verified: false, reason: `The lookup failed: ${found.reason}`, unknown: true };
  if (found.records.includes(doc.value)) return { verified: true };
  const name = `${RECORD_PREFIX}.${doc.domain}`;
  return { verified: false, reason: found.records.length ? `No TXT record at ${name} holds the value` : `No TXT record at ${name}` };
};

/**
 * Looks the claim's record up and records what it found: verified (with its event), or still
 * pending with the reason; a verified domain whose record went is lapsed. A resolver that cannot
 * be reached changes nothing but the reason. The lookup runs before the lease, so a delete never
 * waits on a resolver.
 */
export const verifyDomain = async (deps: Deps, caller: Caller, id: ObjectId): Promise<DomainView> => {
  await readOrganization(deps, caller, { _id: 1 });
  const doc = await domains(deps).findOne({ _id: id, org_id: caller.orgId, deleted: { $exists: false } });
  if (!doc) throw new AppError("DOMAIN_NOT_FOUND");
  const found = await lookupTxt(deps.settings.domains.resolverUrl, `${RECORD_PREFIX}.${doc.domain}`);
  const lease = await acquireWriteLease(deps, caller);
  if (!lease) throw await whyRefused(deps, caller);
  try {
    const updated = await recordLookup(deps, doc, found, actorOf(caller), lease.until);
    if (!updated) throw new AppError("DOMAIN_NOT_FOUND");
    const org = await deps.organizations.findOne({ _id: doc.org_id }, { projection: { domain_policies: 1 } });
    return viewOf(updated, policyOf(org, id));
  } finally {
    lease.release();
  }
};

/**
 * Records what a lookup found on the domain as it was read: verified (with its event), lapsed (with
 * its event), or as it was with the reason; null when it was deleted meanwhile.
 */
export const recordLookup = async (deps: Deps, doc: DomainDoc, found: TxtLookup, actor: Actor, deadline?: Date): Promise<DomainDoc | null> => {
  const outcome = judge(doc, found);
  const now = deps.now();
  const store = domains(deps, deadline);
  const current = { _id: doc._id, deleted: { $exists: false } };
  if (outcome.verified) {
    const fresh = doc.status !== "verified";
    const verified = carriedOf(doc, "domain.verified", actor, now);
    try {
      const updated = await store.findOneAndUpdate(
        current,
        {
          $set: { status: "verified", verified_domain: doc.domain, checked_at: now, ...(fresh ? { verified_at: now } : {}) },
          $unset: { last_error: "" },
          ...(fresh ? { $push: { carried: verified } } : {}),
        },
        { returnNewDocument: true },
      );
      // The flag before the relay: the relay's last step runs after the answer, so nothing of the request's own may follow it.
      if (updated) await markVerified(deps, updated);
      if (updated && fresh) await runForRequest(verifyDomainOperation, deps, { carrier: doc._id, carried: verified });
      return updated;
    } catch (error) {
      if (!(error instanceof DuplicateKeyError)) throw error;
      // Another organization verified it first: this claim stays as it was, and says why.
      return store.findOneAndUpdate(current, { $set: { checked_at: now, last_error: TAKEN } }, { returnNewDocument: true });
    }
  }
  // Unknown (the resolver failed): a verified domain stays verified, and anything else as it was.
  if (outcome.unknown || doc.status !== "verified") {
    return store.findOneAndUpdate(current, { $set: { checked_at: now, last_error: outcome.reason } }, { returnNewDocument: true });
  }
  const lapsed = carriedOf(doc, "domain.lapsed", actor, now, { reason: outcome.reason });
  // Its policy stops applying before the domain says lapsed, and again after (markVerified).
  await markUnverified(deps, doc);
  const updated = await store.findOneAndUpdate(
    { ...current, status: "verified" },
    { $set: { status: "lapsed", checked_at: now, last_error: outcome.reason }, $unset: { verified_domain: "" }, $push: { carried: lapsed } },
    { returnNewDocument: true },
  );
  await markUnverified(deps, doc);
  if (updated) await runForRequest(lapseDomainOperation, deps, { carrier: doc._id, carried: lapsed });
  return updated;
};

/** Deletes a claim, verified or not: marked with its event (refused from then on), relayed, then removed. */
export const deleteDomain = async (deps: Deps, caller: Caller, id: ObjectId): Promise<void> => {
  const lease = await acquireWriteLease(deps, caller);
  if (!lease) throw await whyRefused(deps, caller);
  try {
    const doc = await domains(deps, lease.until).findOne({ _id: id, org_id: lease.org._id, deleted: { $exists: false } });
    if (!doc) throw new AppError("DOMAIN_NOT_FOUND");
    const deleted = carriedOf(doc, "domain.deleted", actorOf(caller), deps.now());
    // Its policy goes before the release, and again after it (markVerified).
    await forgetPolicy(deps, doc);
    // Released at once: the domain is free for another organization to verify from this moment.
    const marked = await domains(deps, lease.until).findOneAndUpdate(
      { _id: id, deleted: { $exists: false } },
      { $set: { deleted: true }, $unset: { verified_domain: "" }, $push: { carried: deleted } },
    );
    await forgetPolicy(deps, doc);
    if (!marked) throw new AppError("DOMAIN_NOT_FOUND");
    await runForRequest(deleteDomainOperation, deps, { carrier: id, carried: deleted });
  } finally {
    lease.release();
  }
};

/**
 * A domain's policy applies while the organization's document says it is verified. That flag is
 * set after the domain's own update says verified, and cleared before (and again after) a lapse or
 * a release says otherwise; setting it looks at the domain once more, so a lapse or a release
 * racing it always has the last word. A crash between the two writes leaves the flag unset (the
 * policy not applying) until the domain is looked up again, which re-verification does daily.
 */
const markVerified = async (deps: Deps, doc: DomainDoc): Promise<void> => {
  await deps.organizations.updateOne({ _id: doc.org_id }, { $set: { [policyPath(doc._id, "domain")]: doc.domain, [policyPath(doc._id, "verified")]: true } });
  const now = await domains(deps).findOne({ _id: doc._id }, { projection: { status: 1, deleted: 1 } });
  if (!now || now.deleted || now.status !== "verified") await markUnverified(deps, doc);
};

const markUnverified = (deps: Deps, doc: Pick<DomainDoc, "_id" | "org_id">) =>
  deps.organizations.updateOne({ _id: doc.org_id, [policyPath(doc._id, "verified")]: true }, { $unset: { [policyPath(doc._id, "verified")]: "" } });

const forgetPolicy = (deps: Deps, doc: Pick<DomainDoc, "_id" | "org_id">) =>
  deps.organizations.updateOne({ _id: doc.org_id, [policyPath(doc._id)]: { $exists: true } }, { $unset: { [policyPath(doc._id)]: "" } });

/**
 * The cron's re-verification: verified domains not looked up for `reverifySeconds` are looked up
 * again, a few per run; one whose record is gone lapses (an event), one the resolver cannot answer
 * for stays verified with the reason, and is tried again on the next run.
 */
export const reverifyDomains = async (deps: Deps, limit = 20): Promise<{ checked: number; lapsed: number }> => {
  const due = new Date(deps.now().getTime() - deps.settings.domains.reverifySeconds * 1000);
  const docs = await domains(deps).find({ status: "verified", checked_at: { $lte: due }, deleted: { $exists: false } }, { limit });
  let lapsed = 0;
  for (const doc of docs) {
    const found = await lookupTxt(deps.settings.domains.resolverUrl, `${RECORD_PREFIX}.${doc.domain}`);
    // One domain's failure (the store, briefly) leaves the others to be looked up; it is due again next run.
    const after = await recordLookup(deps, doc, found, { type: "system" }).catch((error) => {
      console.log(JSON.stringify({ msg: "domain re-verification failed", domain_id: doc._id.toHexString(), error: String(error) }));
      return null;
    });
    if (after?.status === "lapsed") lapsed++;
  }
  return { checked: docs.length, lapsed };
};
