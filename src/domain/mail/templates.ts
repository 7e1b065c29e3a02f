import { escapeHtml, headerText, type MailAddress, type MailMessage, type MailSettings, mailLink } from "./message";
import { fill, type WordedKind, wordingOf } from "./wording";

/**
 * The messages the service mails to an account's holder. Each is a few paragraphs and at most one
 * link, the only secret a message ever holds, in the wording of wording.ts or the operator's. A
 * name is its holder's to choose, so every value (and the wording) is escaped in the HTML part and
 * cleaned for the headers.
 */

/** Where each link leads in the application, under MAIL_LINK_BASE_URL; the token rides in the fragment. */
export const LINK_PATHS = { invitation: "accept", passwordReset: "reset-password", verifyEmail: "verify-email" } as const;

interface Composed {
  subject: string;
  paragraphs: string[];
  link?: string;
  after?: string[];
}

const compose = (to: MailAddress, { subject, paragraphs, link, after = [] }: Composed): MailMessage => {
  const greeting = to.name ? `Hello ${headerText(to.name)},` : "Hello,";
  const body = [greeting, ...paragraphs];
  const text = [...body, ...(link ? [link] : []), ...after].join("\n\n");
  const html = [
    ...body.map((p) => `<p>${escapeHtml(p)}</p>`),
    ...(link ? [`<p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>`] : []),
    ...after.map((p) => `<p>${escapeHtml(p)}</p>`),
  ].join("\n");
  return { to: to.name ? { email: to.email, name: headerText(to.name) } : { email: to.email }, subject: headerText(subject), text, html };
};

/** A message in its wording (the operator's, or the default), its placeholders filled, and its link. */
const render = (settings: MailSettings, kind: WordedKind, to: MailAddress, values: Record<string, string>, link?: string): MailMessage => {
  const wording = wordingOf(kind, settings.wording);
  const filled = { product: settings.productName, ...values };
  return compose(to, {
    subject: fill(wording.subject, filled),
    paragraphs: wording.paragraphs.map((p) => fill(p, filled)),
    link,
    after: wording.after.map((p) => fill(p, filled)),
  });
};

export const passwordResetMessage = (settings: MailSettings, to: MailAddress, token: string, ttlMinutes: number): MailMessage =>
  render(settings, "password_reset", to, { minutes: String(ttlMinutes) }, mailLink(settings, LINK_PATHS.passwordReset, token));

export const passwordChangedMessage = (settings: MailSettings, to: MailAddress): MailMessage => render(settings, "password_changed", to, {});

export const verifyEmailMessage = (settings: MailSettings, to: MailAddress, token: string, ttlMinutes: number): MailMessage =>
  render(settings, "email_verification", to, { minutes: String(ttlMinutes) }, mailLink(settings, LINK_PATHS.verifyEmail, token));

export const invitationMessage = (
  settings: MailSettings,
  to: MailAddress,
  token: string,
  from: { inviter: string; organization: string; expiresAt: Date },
): MailMessage =>
  render(
    settings,
    "invitation",
    to,
    { inviter: from.inviter, organization: from.organization, expires: from.expiresAt.toUTCString() },
    mailLink(settings, LINK_PATHS.invitation, token),
  );
