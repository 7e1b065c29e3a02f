import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";

/**
 * Reading what Mailpit received, over its HTTP API (scripts/with-mailpit.sh starts it and passes its
 * address through vitest.config.ts). Plain fetch: the suites run inside workerd.
 */
export const mailpitUrl = (env as unknown as { MAILPIT_API_URL?: string }).MAILPIT_API_URL ?? "";

export interface MailpitMessage {
  ID: string;
  MessageID: string;
  From: { Name: string; Address: string };
  To: { Name: string; Address: string }[];
  Cc: { Name: string; Address: string }[] | null;
  Bcc: { Name: string; Address: string }[] | null;
  Subject: string;
  Text: string;
  HTML: string;
}

const get = async <T>(path: string): Promise<T> => {
  const res = await fetch(`${mailpitUrl}${path}`);
  if (!res.ok) throw new Error(`mailpit ${path}: ${res.status}`);
  return (await res.json()) as T;
};

/** The messages delivered to this address, oldest first, waiting up to `ms` for at least `count`. */
export const mailTo = async (address: string, count = 1, ms = 10_000): Promise<MailpitMessage[]> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await get<{ messages: { ID: string }[] }>(`/api/v1/search?query=${encodeURIComponent(`to:"${address}"`)}`);
    if (found.messages.length >= count || Date.now() > deadline) {
      const full = await Promise.all(found.messages.map((m) => get<MailpitMessage>(`/api/v1/message/${m.ID}`)));
      return full.reverse();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

/** A message's headers as Mailpit parsed them: name to values. */
export const headersOf = (id: string): Promise<Record<string, string[]>> => get(`/api/v1/message/${id}/headers`);

/**
 * The `count`-th message to this address, once the request's work after its answer queued it and the
 * database's mail dispatcher sent it (its alarm run here rather than awaited).
 */
export const nthMailTo = async (database: string, email: string, count: number): Promise<MailpitMessage> => {
  const dispatcher = env.MAIL_DISPATCHER.get(env.MAIL_DISPATCHER.idFromName(database));
  for (let attempt = 0; attempt < 50; attempt++) {
    await runDurableObjectAlarm(dispatcher);
    const mails = await mailTo(email, count, 200);
    if (mails.length >= count) return mails[count - 1] as MailpitMessage;
  }
  throw new Error(`message ${count} never reached ${email}`);
};
