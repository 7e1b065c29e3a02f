import type { ObjectId } from "bson";
import type { DomainLookupSettings, MailSettings, WebhookSettings } from "../../config/settings";
import type { Collection, DataClient } from "../../data/client";
import type { OrganizationDoc } from "./model";
import type { TokenSettings } from "./tokens";

/** The settings the domain reads: the composition root (src/deps.ts) hands it these, and nothing else. */
export interface DomainSettings {
  token: TokenSettings;
  pbkdf2Iterations: number;
  /** Consecutive failed password checks after which an e-mail locks for a while. */
  lockoutThreshold: number;
  /** A refused password check answers on a multiple of this many milliseconds since it began (0: at once). */
  failureBeatMs: number;
  /** How long an invitation's token can be accepted. */
  invitationTtlSeconds: number;
  /** Pending invitations an organization may have at once. */
  maxPendingInvitations: number;
  domains: DomainLookupSettings;
  webhooks: WebhookSettings;
  /** How mailed messages read (the sender, the product's name, where links point), and whether any leave. */
  mail: MailSettings;
  /** The master database: it bounds how long a collection name (and so a slug) may be. */
  data: {
    database: string;
    /** A store call's deadline: a record write's lease lasts as long. */
    timeoutMs: number;
  };
}

/** What the domain needs from the outside world for one request. */
export interface Deps {
  data: DataClient;
  organizations: Collection<OrganizationDoc>;
  settings: DomainSettings;
  now: () => Date;
  /** Waits, e.g. while a rename lets record writes in flight finish; passed in so tests control time. */
  sleep: (ms: number) => Promise<void>;
  /**
   * Runs work after the answer is sent (the Worker's waitUntil), on dependencies of its own so
   * that it never counts toward the request's round trips; failures are logged, not thrown.
   */
  background: (task: (deps: Deps) => Promise<unknown>) => void;
  /** Wakes the organization's webhook dispatcher (events were published for it); absent where there is none. */
  wakeWebhooks?: (orgId: ObjectId) => void;
  /** Wakes the mail dispatcher (a message was added to the outbox, domain/mail/outbox.ts); absent where there is none. */
  wakeMail?: () => void;
  /** Hands a deleted organization's last deliveries to its dispatcher (webhooks/last-deliveries.ts); absent where there is none. */
  handOverLastDeliveries?: (orgId: ObjectId, deliveries: LastDelivery[]) => Promise<void>;
  /**
   * The per-client throttle of password checks (429 once spent). Part of the one credential
   * check, so no endpoint that takes a password can be a cheaper oracle than another. Absent
   * where no client is behind the work (background tasks, the cron). Counted once per request
   * however often called: an invitation accept counts before it looks the token up, and again
   * when it checks a password.
   */
  throttleCredentials?: () => Promise<void>;
  /**
   * Called around every step of a declared operation (operation.ts): the crash matrix's seam, which
   * throws there to stop the Worker mid-operation. A running service never sets it.
   */
  cut?: (kind: string, step: string, when: "before" | "after") => void;
}

/** The secrets of one endpoint: the current one, and the one it replaced while the overlap lasts. */
export interface EndpointSecrets {
  current: string;
  previous?: { secret: string; expiresAt: Date };
}

/**
 * The last deliveries of an organization being deleted: what each of its endpoints is still owed
 * (its `organization.deleted` among them), self-contained (URL, secrets, signed body's parts), so
 * that they outlive the endpoints, the feed and the organization, which the delete removes next.
 * The dispatcher keeps them in its own storage until each is accepted or its attempts run out, then
 * forgets them: that is all that remains of a deleted organization, for at most the retry schedule.
 */
export interface LastDelivery {
  /** The endpoint and the event: handing the same over twice (a delete the reconciler finishes) keeps one. */
  key: string;
  url: string;
  secrets: EndpointSecrets;
  id: string;
  body: string;
  attempts: number;
  /** Milliseconds since the epoch; 0: now. */
  next_at: number;
}
