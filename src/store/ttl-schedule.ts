import type { TurnBounds } from "./ttl";

/**
 * How the embedded store paces TTL expiry. A Durable Object serves one event at a time, so a
 * turn is kept to a few milliseconds: at most `maxDocuments` deleted, in transactions of `batch`,
 * and no new batch after `maxMs`. While expired documents remain, an alarm runs turns `gapMs`
 * apart for up to `alarmMs` (requests queued meanwhile are served in the gaps, and the gaps cap
 * the purge's share of the object's time near a third), then sets the next alarm at once. With
 * nothing expired the next look is a minute away, as MongoDB's own TTL monitor runs once a minute.
 */
export const TTL_TURN: TurnBounds & { gapMs: number; alarmMs: number; idleMs: number } = {
  maxDocuments: 500,
  maxMs: 5,
  batch: 100,
  gapMs: 10,
  alarmMs: 2_000,
  idleMs: 60_000,
};
