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

/**
 * Cloudflare's Email Service: the binding takes the message as fields and writes the MIME itself,
 * so no raw message is built here. An address that has no name goes as the bare address.
 */
const sendEmail = (binding: SendEmail | undefined, from: MailAddress): MailTransport => ({
  async send(message) {
    if (!binding) throw new Error("MAIL_TRANSPORT=send_email needs a [[send_email]] binding named SEND_EMAIL");
    const as = (a: MailAddress) => (a.name ? { email: a.email, name: a.name } : a.email);
    const to = safeAddress(message.to);
    await binding.send({ from: as(safeAddress(from)), to: as(to), subject: headerText(message.subject, 300), text: message.text, html: message.html });
  },
});

const none: MailTransport = { send: async () => {} };

/** The transport the settings choose; `send_email` sends through this binding. */
export const mailTransport = (settings: TransportSettings, from: MailAddress, binding?: SendEmail): MailTransport => {
  if (settings.kind === "smtp") return smtp(settings.smtp, from);
  if (settings.kind === "send_email") return sendEmail(binding, from);
  return none;
};
