import type { TurnBounds } from "./ttl";

/**
 * How the embedded store paces TTL expiry. A Durable Object serves one event at a time, so a
 * turn is kept to a few milliseconds: at most `maxDocuments` deleted, in transactions of `batch`,
 * and no new batch after `maxMs`. A backlog (a first purge after months, a backfill) drains in
 * many short turns `busyGapMs` apart; with nothing expired, the next look is a minute away, as
 * MongoDB's own TTL monitor runs once a minute.
 */
export const TTL_TURN: TurnBounds & { busyGapMs: number; idleMs: number } = {
  maxDocuments: 500,
  maxMs: 5,
  batch: 100,
  busyGapMs: 0,
  idleMs: 60_000,
};
