// The Cron Triggers' cadence for serve's clock (scripts/serve.ts).

/**
 * The Cron Triggers' cadence as a period: serve runs the scheduled handler at each multiple of it
 * (on the minute, as Cloudflare fires `* * * * *`). Only the minute field may vary (`*` or
 * `*\/n`), which covers wrangler.toml; anything else is refused rather than run at another pace.
 */
export const cronPeriodSeconds = (cron: string): number => {
  const [minute, ...rest] = cron.trim().split(/\s+/);
  const step = minute === "*" ? 1 : /^\*\/(\d+)$/.exec(minute ?? "")?.[1];
  if (rest.length !== 4 || rest.some((field) => field !== "*") || !step || Number(step) < 1)
    throw new Error(`cron "${cron}": serve runs only "* * * * *" or "*/n * * * *" (every n minutes); run the scheduled work from a tick of your own`);
  return Number(step) * 60;
};
