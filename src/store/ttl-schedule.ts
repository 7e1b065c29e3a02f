import type { TurnBounds } from "./ttl";

/**
 * How the embedded store paces TTL expiry. A Durable Object serves one event at a time, so a
 * turn is kept to a few milliseconds: at most `maxDocuments` deleted, in transactions of `batch`,
 * and no new batch after `maxMs`. While expired documents remain, an alarm runs turns for up to
 * `alarmMs`, pausing after each for `gapFactor` times the turn's length (at least `gapMs`):
 * requests queued meanwhile are served in the pauses, and the purge takes at most a third of the
 * object's time. Then the next alarm is set at once. With nothing expired the next look is a
 * minute away, as MongoDB's own TTL monitor runs once a minute.
 */
export const TTL_TURN: TurnBounds & { gapMs: number; gapFactor: number; alarmMs: number; idleMs: number } = {
  maxDocuments: 500,
  maxMs: 5,
  batch: 100,
  gapMs: 10,
  gapFactor: 2,
  alarmMs: 2_000,
  idleMs: 60_000,
};
