import type { EventDoc } from "../events/outbox";
import { EVENTS } from "../events/outbox";
import type { Deps, LastDelivery } from "../kernel/deps";
import type { OrganizationDoc } from "../kernel/model";
import { WEBHOOKS, type WebhookDoc } from "./endpoints";
import { MAX_ATTEMPTS } from "./schedule";
import { destinationRefusal, type HttpDeps, nextAttempt, payloadOf, sendSigned } from "./send";

/** At most this many events per endpoint are handed over (the feed's backlog at the delete, oldest first). */
const LAST_DELIVERY_LIMIT = 100;

export const lastDeliveriesOf = async (deps: Deps, org: Pick<OrganizationDoc, "_id" | "outbox" | "event_seq">): Promise<LastDelivery[]> => {
  const endpoints = await deps.data.collection<WebhookDoc>(WEBHOOKS).find({ org_id: org._id, status: "enabled", deleted: { $exists: false } });
  if (endpoints.length === 0) return [];
  const base = org.event_seq ?? 0;
  const from = (hook: WebhookDoc) => (hook.retry ? hook.retry.seq - 1 : hook.cursor);
  const lowest = Math.min(...endpoints.map(from));
  const published =
    lowest < base
      ? await deps.data
          .collection<EventDoc>(EVENTS)
          .find({ org_id: org._id, seq: { $gt: lowest, $lte: base } }, { sort: { seq: 1 }, limit: LAST_DELIVERY_LIMIT })
      : [];
  const waiting: EventDoc[] = (org.outbox ?? []).map((event, i) => ({ ...event, _id: event.id, org_id: org._id, seq: base + i + 1 }));
  const owed = [...published, ...waiting];
  return endpoints.flatMap((hook) =>
    owed
      .filter((event) => event.seq > from(hook) && (!hook.events || hook.events.includes(event.type)))
      .slice(0, LAST_DELIVERY_LIMIT)
      .map((event) => ({
        key: `${hook._id.toHexString()}:${event.id}`,
        url: hook.url,
        secrets: hook.secrets,
        id: event.id,
        body: payloadOf(event),
        attempts: 0,
        next_at: 0,
      })),
  );
};

/**
 * One pass over the last deliveries: each due one is attempted, in order per endpoint (one that fails
 * holds the ones after it to the same URL); answers those left and when the next is due. A URL the
 * policy refuses now is not called: its deliveries are dropped, as if their attempts had run out.
 */
export const sendLastDeliveries = async (deps: Deps, http: HttpDeps, deliveries: LastDelivery[]): Promise<{ left: LastDelivery[]; wake: number | null }> => {
  const left: LastDelivery[] = [];
  const held = new Set<string>();
  let wake: number | null = null;
  for (const delivery of deliveries) {
    const now = deps.now();
    if (held.has(delivery.url) || delivery.next_at > now.getTime()) {
      held.add(delivery.url);
      left.push(delivery);
      if (delivery.next_at > now.getTime()) wake = Math.min(wake ?? delivery.next_at, delivery.next_at);
      continue;
    }
    if (destinationRefusal(deps, delivery.url)) continue;
    const result = await sendSigned(deps, http, delivery, delivery);
    if (result.ok) continue;
    const attempts = delivery.attempts + 1;
    const retryAt = attempts < MAX_ATTEMPTS && result.status !== 410 ? nextAttempt(deps, attempts, now) : null;
    // Given up: nothing is left to log it in, the organization is gone.
    if (!retryAt) continue;
    left.push({ ...delivery, attempts, next_at: retryAt.getTime() });
    held.add(delivery.url);
    wake = Math.min(wake ?? retryAt.getTime(), retryAt.getTime());
  }
  return { left, wake };
};
