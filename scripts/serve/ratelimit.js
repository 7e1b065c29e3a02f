// The Workers Rate Limiting binding (`[[ratelimits]]` of wrangler.toml) for `npm run serve`: a
// fixed window per key, aligned to the wall clock as Cloudflare's is, counted in memory. workerd
// runs the service in one isolate, so one process holds every counter; a restart forgets them,
// which only ever lets a client through early. workerd builds it from `innerBindings` (limit,
// period) and hands it to the service as the binding.
const PERIODS = [10, 60];

export default function makeRateLimiter({ limit: defaultLimit, period: defaultPeriod }) {
  // Per period: the current window and each key's count in it. A new window starts empty, so the
  // map only ever holds the clients of the current one.
  const windows = new Map();
  return {
    async limit({ key = "", limit = defaultLimit, period = defaultPeriod } = {}) {
      if (typeof key !== "string") throw new Error(`invalid key: ${key}`);
      if (!PERIODS.includes(period)) throw new Error(`unsupported period: ${period}`);
      const epoch = Math.floor(Date.now() / (period * 1000));
      if (windows.get(period)?.epoch !== epoch) windows.set(period, { epoch, counts: new Map() });
      const window = windows.get(period);
      const count = window.counts.get(key) ?? 0;
      if (count >= limit) return { success: false };
      window.counts.set(key, count + 1);
      return { success: true };
    },
  };
}
