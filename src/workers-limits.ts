/**
 * Limits of the Workers platform that both the settings (what may be configured) and the domain
 * (what it will compute) respect; kept apart so neither has to import the other.
 */

/** Deployed Workers refuse PBKDF2 above this many iterations (local workerd does not enforce it). */
export const WORKERS_PBKDF2_MAX_ITERATIONS = 100_000;
