/**
 * Set by the build. The Worker's own bundle (wrangler.toml `define`) sets it false: the Worker never
 * reads a route's summary or descriptions (its /openapi.json is built beforehand, by
 * scripts/generate-client.ts, where it is true, as in the test suites), so writing them as
 * `__DOCS__ && "…"` leaves them out of what every isolate parses at start. Typed `true` so that
 * such a value keeps its string type.
 */
declare const __DOCS__: true;
