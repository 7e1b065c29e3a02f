import { env } from "cloudflare:workers";
import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { parseSettings } from "../../src/config/settings";
import type { Fetcher } from "../../src/data/client";
import { type Deps, ORGANIZATION_INDEXES, ORGANIZATIONS, type OrganizationDoc } from "../../src/domain/organization";
import { createOrganization, deleteOrganization, renameOrganization } from "../../src/domain/organizations";
import { createRecord } from "../../src/domain/records";
import { CLOCK_SKEW_MS } from "../../src/domain/write-leases";
import { call, callWith, createOrg, loginToken, operator, ownerOf, PLATFORM_WRITE_KEY, postJson, putJson, storeClient, uniqueName } from "../helpers";

/**
 * The tenant-data invariant under concurrency, on whichever store the Worker is configured with:
 * a record write answered 2xx is in its organization's collection once every lifecycle operation
 * has settled; after a delete answered 200 none of that organization's records exist anywhere; a
 * collection name an organization left never reappears; a new organization never meets leftovers.
 */

const WRITERS = 16;

/** Every collection of the master database and the records in it that belong to `orgId`. */
const recordsOfOrg = async (orgId: string) => {
  const data = storeClient(parseSettings(env).data.database);
  const found: { collection: string; id: string }[] = [];
  for (const { name } of await data.listCollections()) {
    if (!name.startsWith("org_")) continue;
    const docs = await data.collection(name).find({ org_id: new ObjectId(orgId) }, { projection: { _id: 1 }, limit: 50_000 });
    found.push(...docs.map((d) => ({ collection: name, id: (d._id as ObjectId).toHexString() })));
  }
  return found;
};

/** One line per race for the record: how many writes were acknowledged, lost and left behind. */
const report = (race: string, figures: { acknowledged: number; lost: number; leftovers: number; statuses: Map<number, number> }) =>
  console.info(
    `race ${race}: store=${env.DATA_API_URL ? "gateway" : "embedded"} writers=${WRITERS} acknowledged=${figures.acknowledged} lost=${figures.lost} leftovers=${figures.leftovers} statuses=${JSON.stringify(Object.fromEntries(figures.statuses))}`,
  );

const collectionExists = async (name: string) => {
  const data = storeClient(parseSettings(env).data.database);
  return (await data.listCollections({ name })).length > 0;
};

const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const deferred = () => {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

/**
 * Writers that POST records until stopped, keeping the id of every 201. A writer refused with 409
 * (an operation in progress) waits for `resume()`, as a client honouring Retry-After would; one
 * refused with 401 (its organization is gone), or another status of `stopOn`, stops. Nothing here waits on a timer: in the test
 * runtime a timer does not fire while requests keep the isolate busy.
 */
const startWriters = (token: string, maxEach = 150, stopOn: number[] = [401]) => {
  const acknowledged: string[] = [];
  const statuses = new Map<number, number>();
  let stopped = false;
  let gate = deferred();
  const waiters: { count: number; resolve: () => void }[] = [];
  const loops = Array.from({ length: WRITERS }, async (_, w) => {
    for (let i = 0; !stopped && i < maxEach; i++) {
      const res = await postJson("/org/records", { writer: w, i }, { authorization: `Bearer ${token}` });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 201) {
        acknowledged.push(((await res.json()) as { id: string }).id);
        for (const waiter of waiters.filter((x) => acknowledged.length >= x.count)) waiter.resolve();
        continue;
      }
      await res.body?.cancel();
      if (stopOn.includes(res.status)) return;
      expect(res.status).toBe(409);
      await gate.promise;
    }
  });
  return {
    acknowledged,
    statuses,
    /** Resolves once `more` further writes have been acknowledged (or the writers ran out). */
    reached: (more: number) => {
      const { promise, resolve } = deferred();
      waiters.push({ count: acknowledged.length + more, resolve });
      return Promise.race([promise, Promise.all(loops)]);
    },
    /** Lets the writers refused meanwhile go on. */
    resume: () => {
      const open = gate;
      gate = deferred();
      open.resolve();
    },
    stop: async () => {
      stopped = true;
      gate.resolve();
      await Promise.all(loops);
    },
  };
};

const orgIdOf = async (slugName: string): Promise<string> => {
  const data = storeClient(parseSettings(env).data.database);
  const org = await data.collection<OrganizationDoc>(ORGANIZATIONS).findOne({ collection_name: slugName });
  if (!org) throw new Error(`no organization owns ${slugName}`);
  return org._id.toHexString();
};

/** A new organization with its admin's token, as the races need them. */
const signedIn = async (name: string) => {
  const org = await createOrg(name);
  return { ...org, token: await loginToken(org.email, org.password) };
};

const deleteOrg = (name: string, token: string) =>
  call(`/org/delete?organization_name=${encodeURIComponent(name)}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } });

const allRecordIds = async (token: string): Promise<string[]> => {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await call(`/org/records?limit=200${cursor ? `&cursor=${cursor}` : ""}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { records: { id: string }[]; next_cursor: string | null };
    ids.push(...page.records.map((r) => r.id));
    cursor = page.next_cursor;
  } while (cursor);
  return ids;
};

// Hundreds of requests each: through the gateway on FerretDB, whose writes are serialised, a race takes longer than the default 30 s.
describe("record writers racing the lifecycle, through the front door", { timeout: 120_000 }, () => {
  it("renames while 16 writers insert: every acknowledged record is in the organization's collection", async () => {
    const org = await signedIn(uniqueName("Race Rename"));
    const { token } = org;
    const names = [org.name, uniqueName("Race Renamed"), uniqueName("Race Again")];
    const left: string[] = [];
    const writers = startWriters(token);
    for (let round = 1; round < names.length; round++) {
      await writers.reached(WRITERS * 2);
      const res = await putJson(
        "/org/update",
        { organization_name: names[round - 1], new_organization_name: names[round] },
        { authorization: `Bearer ${token}` },
      );
      expect(res.status).toBe(200);
      left.push(((await res.json()) as { collection_name: string }).collection_name);
      writers.resume();
    }
    await writers.reached(WRITERS * 2);
    await writers.stop();
    const final = left.at(-1) as string;
    expect(writers.acknowledged.length).toBeGreaterThan(0);
    const stored = new Set(await allRecordIds(token));
    const lost = writers.acknowledged.filter((id) => !stored.has(id));
    // Nothing of the organization outside its collection, and the names it left are gone.
    const orgId = await orgIdOf(final);
    const leftovers = (await recordsOfOrg(orgId)).filter((r) => r.collection !== final);
    report("rename", { acknowledged: writers.acknowledged.length, lost: lost.length, leftovers: leftovers.length, statuses: writers.statuses });
    expect(lost).toEqual([]);
    expect(leftovers).toEqual([]);
    for (const name of [org.body.collection_name, ...left.slice(0, -1)]) expect(await collectionExists(name)).toBe(false);
  });

  it("deletes while 16 writers insert: nothing of the organization is left anywhere", async () => {
    const org = await signedIn(uniqueName("Race Delete"));
    const { token } = org;
    const orgId = await orgIdOf(org.body.collection_name);
    const writers = startWriters(token);
    await writers.reached(WRITERS * 2);
    const res = await deleteOrg(org.name, token);
    expect(res.status).toBe(200);
    // Writers go on after the answer: none of them may bring the collection back.
    writers.resume();
    await writers.stop();
    const leftovers = await recordsOfOrg(orgId);
    report("delete", { acknowledged: writers.acknowledged.length, lost: 0, leftovers: leftovers.length, statuses: writers.statuses });
    expect(writers.acknowledged.length).toBeGreaterThan(0);
    expect(writers.statuses.get(401)).toBeGreaterThan(0);
    expect(await collectionExists(org.body.collection_name)).toBe(false);
    expect(leftovers).toEqual([]);
  });

  it("deletes and re-creates the name while the old token's writers run: the new organization starts empty and the name is usable", async () => {
    const org = await signedIn(uniqueName("Race Reuse"));
    const { token } = org;
    const oldId = await orgIdOf(org.body.collection_name);
    const writers = startWriters(token);
    await writers.reached(WRITERS * 2);
    const del = await deleteOrg(org.name, token);
    expect(del.status).toBe(200);
    const { token: newToken } = await signedIn(org.name);
    writers.resume();
    await writers.stop();
    const leftovers = await recordsOfOrg(oldId);
    report("delete-recreate", { acknowledged: writers.acknowledged.length, lost: 0, leftovers: leftovers.length, statuses: writers.statuses });
    expect(leftovers).toEqual([]);
    expect(await allRecordIds(newToken)).toEqual([]);
    // The same holds when the name is reached by a rename: delete the new one, rename another onto the name.
    const del2 = await deleteOrg(org.name, newToken);
    expect(del2.status).toBe(200);
    const other = await signedIn(uniqueName("Race Other"));
    const otherToken = other.token;
    const moved = await putJson("/org/update", { organization_name: other.name, new_organization_name: org.name }, { authorization: `Bearer ${otherToken}` });
    expect(moved.status).toBe(200);
    expect(await allRecordIds(otherToken)).toEqual([]);
  });
});

const suspendOrg = (orgId: string) =>
  callWith({}, `/platform/organizations/${orgId}/suspend`, {
    method: "POST",
    headers: { ...operator(PLATFORM_WRITE_KEY), "content-type": "application/json" },
    body: JSON.stringify({ reason: "race" }),
  });

describe("the operator's suspension racing writers and the lifecycle, through the front door", { timeout: 120_000 }, () => {
  it("suspends while 16 writers insert: every acknowledged record is kept, and none lands once the suspension is answered", async () => {
    const org = await signedIn(uniqueName("Race Suspend"));
    const orgId = await orgIdOf(org.body.collection_name);
    // 403 is the suspension: those writers stop, as a client told so would.
    const writers = startWriters(org.token, 150, [401, 403]);
    await writers.reached(WRITERS * 2);
    const res = await suspendOrg(orgId);
    expect(res.status).toBe(200);
    const atAnswer = (await recordsOfOrg(orgId)).map((r) => r.id);
    await writers.stop();
    const after = (await recordsOfOrg(orgId)).map((r) => r.id);
    const stored = new Set(after);
    const lost = writers.acknowledged.filter((id) => !stored.has(id));
    report("suspend", { acknowledged: writers.acknowledged.length, lost: lost.length, leftovers: after.length - atAnswer.length, statuses: writers.statuses });
    expect(writers.statuses.get(403)).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    // Writes in flight when the suspension began were waited for: nothing landed after its 200.
    expect(after.sort()).toEqual(atAnswer.sort());
    expect(after.length).toBe(writers.acknowledged.length);
  });

  it("suspends while a rename runs: the rename finishes or is refused, the organization stays suspended, its records move with it", async () => {
    const org = await signedIn(uniqueName("Race Suspend Rename"));
    const orgId = await orgIdOf(org.body.collection_name);
    for (let i = 0; i < 20; i++) expect((await postJson("/org/records", { i }, { authorization: `Bearer ${org.token}` })).status).toBe(201);
    const target = uniqueName("Race Suspended Renamed");
    const [renamed, suspended] = await Promise.all([
      putJson("/org/update", { organization_name: org.name, new_organization_name: target }, { authorization: `Bearer ${org.token}` }),
      suspendOrg(orgId),
    ]);
    expect(suspended.status).toBe(200);
    expect([200, 403]).toContain(renamed.status);
    const data = storeClient(parseSettings(env).data.database);
    const stored = await data.collection<OrganizationDoc>(ORGANIZATIONS).findOne({ _id: ObjectId.createFromHexString(orgId) });
    expect(stored).toMatchObject({ status: "active", suspended: true, organization_name: renamed.status === 200 ? target : org.name });
    const records = await recordsOfOrg(orgId);
    expect(records).toHaveLength(20);
    expect(new Set(records.map((r) => r.collection))).toEqual(new Set([stored?.collection_name]));
    const metadata = await call(`/org/get?organization_name=${encodeURIComponent(stored?.organization_name ?? "")}`);
    expect(((await metadata.json()) as { status: string }).status).toBe("suspended");
  });
});

/**
 * The window made wide on purpose: the store holds a record insert back while the rename or delete
 * runs, as a slow network or a busy store could. Without the write fence the insert lands in a
 * re-created old collection (lost) or after the drop (left behind).
 */
describe("a record write held back in transit", () => {
  const depsFor = (database: string, wrap?: (send: Fetcher) => Fetcher, overrides: Record<string, string> = {}): Deps => {
    const settings = parseSettings({ ...env, DATABASE: database, PBKDF2_ITERATIONS: "10000", ...overrides });
    const data = storeClient(database, wrap);
    const deps: Deps = {
      data,
      organizations: data.collection<OrganizationDoc>(ORGANIZATIONS),
      settings,
      now: () => new Date(),
      sleep: pause,
      background: (task) => {
        task(depsFor(database)).catch(() => {});
      },
    };
    return deps;
  };
  /** Delays every insertOne by `ms`, and tells when one has been sent. */
  const slowInserts = (ms: number) => {
    let sent: () => void = () => {};
    const insertSent = new Promise<void>((resolve) => {
      sent = resolve;
    });
    const wrap =
      (send: Fetcher): Fetcher =>
      async (request) => {
        if (new URL(request.url).pathname.endsWith("/insertOne")) {
          sent();
          await pause(ms);
        }
        return send(request);
      };
    return { wrap, insertSent };
  };

  const setUp = async (name: string) => {
    const database = `races_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`;
    const healthy = depsFor(database);
    await healthy.organizations.createIndexes(ORGANIZATION_INDEXES);
    const email = `admin@${name.toLowerCase()}.example.com`;
    await createOrganization(healthy, { organization_name: name, email, password: "Test1234" });
    const org = (await healthy.organizations.findOne({ slug: name.toLowerCase() })) as OrganizationDoc;
    return { database, healthy, email, principal: ownerOf(org) };
  };

  it("lands in the collection's new name when a rename runs meanwhile", async () => {
    const { database, healthy, email, principal } = await setUp("Held");
    const slow = slowInserts(300);
    const write = createRecord(depsFor(database, slow.wrap), principal, { held: true });
    await slow.insertSent;
    await renameOrganization(healthy, { organization_name: "Held", new_organization_name: "Moved" }, { kind: "password", email, password: "Test1234" });
    const record = await write;
    expect(await healthy.data.collection("org_moved").findOne({ _id: new ObjectId(record.id) })).not.toBeNull();
    expect((await healthy.data.listCollections()).map((c) => c.name)).toEqual(expect.not.arrayContaining(["org_held"]));
  });

  it("is gone with the organization when a delete runs meanwhile", async () => {
    const { database, healthy, principal } = await setUp("Doomed");
    const slow = slowInserts(300);
    const write = createRecord(depsFor(database, slow.wrap), principal, { held: true });
    await slow.insertSent;
    await deleteOrganization(healthy, "Doomed", principal);
    await write.catch(() => {});
    expect((await healthy.data.listCollections()).map((c) => c.name)).not.toContain("org_doomed");
  });

  it("a writer that dies holding its lease delays a rename until the lease expires, and its write moves with the data", async () => {
    const { database, healthy, email, principal } = await setUp("Orphan");
    // The writer's isolate dies after the write: its lease is never given back.
    const dying = { ...depsFor(database, undefined, { DATA_API_TIMEOUT_MS: "300" }), background: () => {} };
    const leased = Date.now();
    const record = await createRecord(dying, principal, { last: "words" });
    await renameOrganization(healthy, { organization_name: "Orphan", new_organization_name: "Adopted" }, { kind: "password", email, password: "Test1234" });
    // The lease was taken no earlier than `leased`, and counts until 300 ms + the skew allowance after that.
    expect(Date.now() - leased).toBeGreaterThanOrEqual(300 + CLOCK_SKEW_MS);
    expect(await healthy.data.collection("org_adopted").findOne({ _id: new ObjectId(record.id) })).not.toBeNull();
    // The dead lease went with the rename.
    expect((await healthy.organizations.findOne({ slug: "adopted" }))?.write_leases).toBeUndefined();
  });

  it("a write still in transit when its writer gave up is refused by the store, not applied after the move", async () => {
    const { database, healthy, email, principal } = await setUp("Late");
    let arrival: Promise<Response> | undefined;
    // The writer's call times out (and it gives its lease back), but the request itself is only
    // delayed: it reaches the store a second later, after the rename moved the collection.
    const inTransit =
      (send: Fetcher): Fetcher =>
      async (request) => {
        if (!new URL(request.url).pathname.endsWith("/insertOne")) return send(request);
        const copy = new Request(request.url, { method: "POST", headers: request.headers, body: await request.arrayBuffer() });
        arrival = pause(1_000).then(() => send(copy));
        return new Promise<Response>((_, reject) => request.signal.addEventListener("abort", () => reject(request.signal.reason)));
      };
    const writer = { ...depsFor(database, inTransit, { DATA_API_TIMEOUT_MS: "300" }), background: depsFor(database).background };
    await expect(createRecord(writer, principal, { late: true })).rejects.toThrow();
    await renameOrganization(healthy, { organization_name: "Late", new_organization_name: "Moved On" }, { kind: "password", email, password: "Test1234" });
    const answer = await (arrival as Promise<Response>);
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ error_code: "DeadlineExceeded" });
    expect((await healthy.data.listCollections()).map((c) => c.name)).toEqual(expect.not.arrayContaining(["org_late"]));
    expect(await healthy.data.collection("org_moved_on").countDocuments()).toBe(0);
  });
});
