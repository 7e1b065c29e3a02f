import { escapeHtml, headerText, type MailAddress, type MailMessage, type MailSettings, mailLink } from "./message";

/**
 * The messages the service mails to an account's holder. Each is a few paragraphs and at most one
 * link, the only secret a message ever holds. A name is its holder's to choose, so every value is
 * escaped in the HTML part and cleaned for the headers.
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

export const passwordResetMessage = (settings: MailSettings, to: MailAddress, token: string, ttlMinutes: number): MailMessage =>
  compose(to, {
    subject: `Reset your ${settings.productName} password`,
    paragraphs: [
      `Someone asked to reset the password of your ${settings.productName} account. To choose a new one, open this link within ${ttlMinutes} minutes:`,
    ],
    link: mailLink(settings, LINK_PATHS.passwordReset, token),
    after: ["If you did not ask for it, ignore this message: your password stays as it is."],
  });

export const passwordChangedMessage = (settings: MailSettings, to: MailAddress): MailMessage =>
  compose(to, {
    subject: `Your ${settings.productName} password was changed`,
    paragraphs: [
      `The password of your ${settings.productName} account was just changed, and every session signed in before stopped working.`,
      "If you did not change it, reset it now from the sign-in page and tell your organization's administrators.",
    ],
  });

export const verifyEmailMessage = (settings: MailSettings, to: MailAddress, token: string, ttlMinutes: number): MailMessage =>
  compose(to, {
    subject: `Confirm your address for ${settings.productName}`,
    paragraphs: [`To confirm that this address is yours, open this link within ${ttlMinutes} minutes:`],
    link: mailLink(settings, LINK_PATHS.verifyEmail, token),
    after: ["If you did not ask for it, ignore this message."],
  });

export const invitationMessage = (
  settings: MailSettings,
  to: MailAddress,
  token: string,
  from: { inviter: string; organization: string; expiresAt: Date },
): MailMessage =>
  compose(to, {
    subject: `${from.inviter} invited you to ${from.organization} on ${settings.productName}`,
    paragraphs: [
      `${from.inviter} invited you to join ${from.organization} on ${settings.productName}. To accept, open this link before ${from.expiresAt.toUTCString()}:`,
    ],
    link: mailLink(settings, LINK_PATHS.invitation, token),
    after: ["If you did not expect this invitation, ignore this message: nothing happens unless the link is followed."],
  });
