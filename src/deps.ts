import { ConfigError, parseSettings, type Settings } from "./config/settings";
import { connectData } from "./data/connect";
import type { Doc } from "./dataapi/engine";
import { USER_INDEXES, USERS } from "./domain/accounts/accounts";
import { AUDIT_LOG, type AuditEvent, auditIndexes } from "./domain/audit/audit";
import { DOMAIN_INDEXES, DOMAINS } from "./domain/domains/domains";
import { EVENT_INDEXES, EVENTS } from "./domain/events/outbox";
import { INVITATION_INDEXES, INVITATIONS } from "./domain/invitations/invitations";
import type { Deps, DomainSettings } from "./domain/kernel/deps";
import { AppError } from "./domain/kernel/errors";
import { ORGANIZATION_INDEXES, ORGANIZATIONS, type OrganizationDoc } from "./domain/kernel/model";
import { ensureLayout } from "./domain/layout/migrate";
import { DELIVERY_INDEXES, WEBHOOK_DELIVERIES, WEBHOOK_INDEXES, WEBHOOKS } from "./domain/webhooks/endpoints";
import type { Env } from "./env";

/**
 * The composition root: the one place that turns the Worker's bindings into settings, data
 * clients and the domain's dependencies, for requests (src/http) and the cron (src/scheduled.ts)
 * alike. Nothing else builds a data client.
 */

const settingsCache = new WeakMap<object, Settings>();
const indexesReady = new WeakMap<object, Promise<unknown>>();

/** The settings of these bindings, parsed once per isolate; invalid ones are a logged 500, never a guess. */
export const settingsFor = (env: Env): Settings => {
  let settings = settingsCache.get(env);
  if (!settings) {
    try {
      settings = parseSettings(env);
    } catch (error) {
      if (error instanceof ConfigError) {
        console.error(JSON.stringify({ msg: "invalid configuration", error: error.message }));
        throw new AppError("MISCONFIGURED");
      }
      throw error;
    }
    settingsCache.set(env, settings);
  }
  return settings;
};

/**
 * Creates the master database's indexes once per isolate (idempotent in the store), on its own
 * client so that the per-request round-trip count stays that of the request itself.
 */
const ensureIndexes = (env: Env, settings: Settings): Promise<unknown> => {
  let ready = indexesReady.get(env);
  if (!ready) {
    const data = connectData(env, settings);
    ready = Promise.all([
      data.collection(ORGANIZATIONS).createIndexes(ORGANIZATION_INDEXES),
      data.collection(AUDIT_LOG).createIndexes(auditIndexes(settings.auditRetentionDays)),
      data.collection(USERS).createIndexes(USER_INDEXES),
      data.collection(INVITATIONS).createIndexes(INVITATION_INDEXES),
      data.collection(EVENTS).createIndexes(EVENT_INDEXES),
      data.collection(WEBHOOKS).createIndexes(WEBHOOK_INDEXES),
      data.collection(WEBHOOK_DELIVERIES).createIndexes(DELIVERY_INDEXES),
      data.collection(DOMAINS).createIndexes(DOMAIN_INDEXES),
    ]).then(() => ensureLayout(buildDeps(env, settings)));
    ready.catch(() => indexesReady.delete(env));
    indexesReady.set(env, ready);
  }
  return ready;
};

/** Keeps work alive after the answer when the platform allows it; failures are logged, never thrown. */
export const keepAlive = (ctx: ExecutionContext | undefined, task: Promise<unknown>): void => {
  const guarded = task.catch((error) => console.error(JSON.stringify({ msg: "background task failed", error: String(error) })));
  ctx?.waitUntil(guarded);
};

/** Only the slice the domain declares leaves here: the compiler checks that the settings provide it. */
const domainSettings = ({
  token,
  pbkdf2Iterations,
  lockoutThreshold,
  failureBeatMs,
  invitationTtlSeconds,
  maxPendingInvitations,
  domains,
  webhooks,
  mail,
  data,
}: Settings): DomainSettings => ({
  token,
  pbkdf2Iterations,
  lockoutThreshold,
  failureBeatMs,
  invitationTtlSeconds,
  maxPendingInvitations,
  domains,
  webhooks,
  mail: { from: mail.from, productName: mail.productName, linkBaseUrl: mail.linkBaseUrl, sends: mail.sends },
  data: { database: data.database, timeoutMs: data.timeoutMs },
});

const buildDeps = (env: Env, settings: Settings, ctx?: ExecutionContext): Deps => {
  const data = connectData(env, settings);
  return {
    data,
    organizations: data.collection<OrganizationDoc>(ORGANIZATIONS),
    settings: domainSettings(settings),
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    background: (task) => keepAlive(ctx, task(buildDeps(env, settings, ctx))),
    wakeWebhooks: (orgId) => {
      const hex = orgId.toHexString();
      const dispatcher = env.WEBHOOK_DISPATCHER.get(env.WEBHOOK_DISPATCHER.idFromName(hex));
      keepAlive(ctx, dispatcher.poke(hex, settings.data.database));
    },
    wakeMail: () => {
      const dispatcher = env.MAIL_DISPATCHER.get(env.MAIL_DISPATCHER.idFromName(settings.data.database));
      keepAlive(ctx, dispatcher.poke(settings.data.database));
    },
    handOverLastDeliveries: async (orgId, deliveries) => {
      const hex = orgId.toHexString();
      await env.WEBHOOK_DISPATCHER.get(env.WEBHOOK_DISPATCHER.idFromName(hex)).takeLastDeliveries(deliveries, settings.data.database);
    },
  };
};

/** The domain's dependencies, with the master database's indexes in place. */
export const createDeps = async (env: Env, ctx?: ExecutionContext): Promise<Deps> => {
  const settings = settingsFor(env);
  await ensureIndexes(env, settings);
  return buildDeps(env, settings, ctx);
};

/**
 * Writes an audit event after the answer is sent (waitUntil), on a client of its own: an audit
 * write never delays a response nor counts toward its round trips, and a failed one is logged.
 */
export const writeAudit = (env: Env, ctx: ExecutionContext | undefined, event: AuditEvent): void => {
  keepAlive(
    ctx,
    connectData(env, settingsFor(env))
      .collection<AuditEvent & Doc>(AUDIT_LOG)
      .insertOne(event as AuditEvent & Doc),
  );
};
