import { ObjectId } from "bson";
import { describe, expect, it } from "vitest";
import { INVITATION_INDEXES, INVITATIONS } from "../../src/domain/invitations/invitations";
import { insertInSlot } from "../../src/domain/kernel/slots";
import { ensureLayout, SERVICE_META } from "../../src/domain/layout/migrate";
import { MAX_WEBHOOKS, WEBHOOK_INDEXES, WEBHOOKS } from "../../src/domain/webhooks/endpoints";
import { depsFor, freshDatabase } from "./faults";

/**
 * Endpoints and invitations stored before per-organization slots: the slot index builds over them,
 * and the layout migration gives each a free slot of its organization, so the limits count them.
 */
const legacyEndpoint = (orgId: ObjectId, i: number) => ({
  _id: new ObjectId(),
  org_id: orgId,
  url: `https://hooks.example.com/legacy-${i}`,
  status: "enabled",
});

describe("slots for documents stored before them", () => {
  it("the index builds over them, and the migration gives each a slot while the organization has one free", async () => {
    const deps = depsFor(freshDatabase());
    const hooks = deps.data.collection<{ [key: string]: unknown; _id: ObjectId; org_id: ObjectId }>(WEBHOOKS);
    const crowded = new ObjectId();
    const light = new ObjectId();
    // An organization an older version let past the limit, and one well under it.
    await hooks.insertMany([
      ...Array.from({ length: MAX_WEBHOOKS + 2 }, (_, i) => legacyEndpoint(crowded, i)),
      ...[0, 1, 2].map((i) => legacyEndpoint(light, i)),
    ]);
    await deps.data
      .collection(INVITATIONS)
      .insertMany(
        [0, 1, 2, 3].map((i) => ({ _id: new ObjectId(), org_id: light, email_key: `legacy${i}@example.com`, token_hash: `legacy-${i}`, role: "member" })),
      );
    await hooks.createIndexes(WEBHOOK_INDEXES);
    await deps.data.collection(INVITATIONS).createIndexes(INVITATION_INDEXES);
    await deps.data.collection(SERVICE_META).updateOne({ _id: "layout" }, { $set: { version: 2 } }, { upsert: true });

    await ensureLayout(deps);

    const crowdedSlots = (await hooks.find({ org_id: crowded })).map((doc) => doc.slot);
    expect(crowdedSlots.filter((slot) => slot !== undefined)).toHaveLength(MAX_WEBHOOKS);
    expect(new Set(crowdedSlots.filter((slot) => slot !== undefined)).size).toBe(MAX_WEBHOOKS);
    expect((await hooks.find({ org_id: light })).every((doc) => typeof doc.slot === "string")).toBe(true);
    expect((await deps.data.collection(INVITATIONS).find({ org_id: light })).every((doc) => typeof doc.slot === "string")).toBe(true);
    // The limit now counts them: the crowded organization has no place left, the other seven.
    expect(await insertInSlot(hooks, legacyEndpoint(crowded, 99), MAX_WEBHOOKS)).toBe("full");
    const placed = await Promise.all(Array.from({ length: 9 }, (_, i) => insertInSlot(hooks, legacyEndpoint(light, 10 + i), MAX_WEBHOOKS)));
    expect(placed.filter((outcome) => outcome === "inserted")).toHaveLength(MAX_WEBHOOKS - 3);
    expect(placed.filter((outcome) => outcome === "full")).toHaveLength(2);
    // Run again (another isolate starting): nothing changes.
    await deps.data.collection(SERVICE_META).updateOne({ _id: "layout" }, { $set: { version: 2 } });
    await ensureLayout(deps);
    expect((await hooks.find({ org_id: crowded })).filter((doc) => doc.slot !== undefined)).toHaveLength(MAX_WEBHOOKS);
  });
});
