import { LogLevel, WorkerMailer } from "worker-mailer";
import type { MailConfig, SmtpSettings } from "../config/settings";
import { headerText, isDeliverable, type MailAddress, type MailMessage } from "../domain/mail/message";

export type { SmtpSettings, TransportSettings };

type TransportSettings = MailConfig["transport"];

export interface MailTransport {
  /** Resolves once the server accepted the message; rejects with the server's or the socket's error. */
  send(message: MailMessage): Promise<void>;
}

export class UndeliverableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UndeliverableError";
  }
}

/**
 * The last line of defence against header and command injection, whatever the caller did: names and
 * the subject are cleaned again, and an address that could end an SMTP command early is refused.
 */
const safeAddress = (a: MailAddress): MailAddress => {
  if (!isDeliverable(a.email)) throw new UndeliverableError("address not deliverable");
  // A name stored without a value may come back from the store as null.
  const name = a.name ? headerText(a.name) : "";
  return name ? { email: a.email, name } : { email: a.email };
};

const smtp = (s: SmtpSettings, from: MailAddress): MailTransport => ({
  async send(message) {
    const to = safeAddress(message.to);
    const sender = safeAddress(from);
    await WorkerMailer.send(
      {
        host: s.host,
        port: s.port,
        secure: s.security === "tls",
        startTls: s.security === "starttls",
        credentials: s.user ? { username: s.user, password: s.password ?? "" } : undefined,
        authType: ["plain", "login"],
        socketTimeoutMs: s.timeoutMs,
        responseTimeoutMs: s.timeoutMs,
        // The outbox logs each failure as one JSON line with the message's id; the client's own lines would be noise beside it.
        logLevel: LogLevel.NONE,
      },
      { from: sender, to, subject: headerText(message.subject, 300), text: message.text, html: message.html },
    );
  },
});

const none: MailTransport = { send: async () => {} };

/**
 * The transport the settings choose. Cloudflare's `send_email` binding goes here as a third kind:
 * it takes a raw MIME message, so it would build one from the same `MailMessage` (worker-mailer's
 * `Email` class renders it) and hand it to `env.SEND_EMAIL.send`.
 */
export const mailTransport = (settings: TransportSettings, from: MailAddress): MailTransport => (settings.kind === "smtp" ? smtp(settings.smtp, from) : none);
