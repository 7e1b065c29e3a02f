import { createDeps, settingsFor } from "./deps";
import { sweepStaleAttempts } from "./domain/accounts/accounts";
import { reverifyDomains } from "./domain/domains/domains";
import { reconcile } from "./domain/reconciler/reconciler";
import type { Env } from "./env";

/** Cron Trigger: settles operations left half-done; forgets stale lockout counters; looks verified domains up again. */
export const scheduled = async (controller: ScheduledController, env: Env): Promise<void> => {
  const deps = await createDeps(env);
  const olderThan = new Date(controller.scheduledTime - settingsFor(env).reconcileAfterSeconds * 1000);
  const report = await reconcile(deps, olderThan);
  // Stores without TTL indexes (FerretDB) keep stale lockout counters until swept.
  const stale_login_counters = await sweepStaleAttempts(deps, new Date(controller.scheduledTime));
  const domains = await reverifyDomains(deps);
  console.log(JSON.stringify({ msg: "reconcile", cron: controller.cron, ...report, stale_login_counters, domains, data_round_trips: deps.data.roundTrips }));
};
