/**
 * When a delivery is attempted again, and when an endpoint is given up on.
 *
 * The schedule is the Standard Webhooks specification's example cut to about a day: immediately,
 * then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after each failure, 8 attempts over 27 h 35 min 5 s.
 * The short first steps ride out a deploy or a blip; the long last ones an outage of an evening.
 * The specification goes on for three days; a day keeps an event's delivery log short and its
 * order meaningful, and a receiver down for longer has the events API and manual redelivery.
 *
 * Jitter (optional) moves each retry by up to ±20% of its delay, so that the deliveries of an
 * outage that began at one moment do not all come back at one moment; the total stays about a day.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The wait before each attempt: before the first none, before the second 5 s, … */
export const ATTEMPT_DELAYS_MS: readonly number[] = [0, 5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];
export const MAX_ATTEMPTS = ATTEMPT_DELAYS_MS.length;
/** The jitter the delivery path is meant to pass; nextAttemptAt adds none unless asked, so tests read exact times. */
export const DEFAULT_JITTER = 0.2;

export interface ScheduleOptions {
  /** The largest share of a delay added or removed at random, 0 to 1; 0 (the default) for none. */
  jitter?: number;
  /** Uniform in [0, 1); Math.random unless a test pins it. */
  random?: () => number;
}

/**
 * When to make the next attempt, given how many attempts of this delivery were already made
 * (0 for a new delivery: now) and the time the last one failed; null when all were made.
 */
export const nextAttemptAt = (attemptsMade: number, now: Date, options: ScheduleOptions = {}): Date | null => {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 0) throw new TypeError("attemptsMade is a non-negative integer");
  const delay = ATTEMPT_DELAYS_MS[attemptsMade];
  if (delay === undefined) return null;
  const jitter = options.jitter ?? 0;
  if (!(jitter >= 0 && jitter <= 1)) throw new TypeError("jitter is between 0 and 1");
  const random = options.random ?? Math.random;
  const factor = jitter === 0 ? 1 : 1 + jitter * (2 * random() - 1);
  return new Date(now.getTime() + Math.round(delay * factor));
};

/**
 * An endpoint is disabled (and an event says so) when it has not accepted a delivery for
 * DISABLE_AFTER_FAILING_MS and at least DISABLE_AFTER_EXHAUSTED_EVENTS events in a row ran out of
 * attempts, or at once when it answers 410 Gone, the specification's way for a receiver to say
 * "stop". Both conditions, because either alone misjudges: a busy endpoint exhausts three events
 * in a day of outage, a quiet one may fail for five days with one event. Five days outlasts a long
 * weekend; any accepted delivery starts the count again.
 */
export const DISABLE_AFTER_EXHAUSTED_EVENTS = 3;
export const DISABLE_AFTER_FAILING_MS = 5 * DAY;

export interface EndpointHealth {
  /** Events in a row whose every attempt failed, since the last accepted delivery. */
  consecutiveExhausted: number;
  /** The first failed attempt since the last accepted delivery; null while the last one was accepted. */
  failingSince: Date | null;
  /** The status of the endpoint's latest answer, if it answered. */
  lastStatus?: number | null;
}

export const shouldDisableEndpoint = (health: EndpointHealth, now: Date): boolean => {
  if (health.lastStatus === 410) return true;
  if (!health.failingSince) return false;
  return health.consecutiveExhausted >= DISABLE_AFTER_EXHAUSTED_EVENTS && now.getTime() - health.failingSince.getTime() >= DISABLE_AFTER_FAILING_MS;
};
