import { escapeHtml, headerText, type MailAddress, type MailMessage, type MailSettings, mailLink } from "./message";

/** Where a reset link leads in the application; the application posts the token to /auth/password-reset/confirm. */
export const PASSWORD_RESET_PATH = "reset-password";

/**
 * The password reset message. The link is its only secret; the recipient's name is theirs to
 * choose, so it is escaped in the HTML part and cleaned for the header.
 */
export const passwordResetMessage = (settings: MailSettings, to: MailAddress, token: string, ttlMinutes: number): MailMessage => {
  const product = headerText(settings.productName);
  const link = mailLink(settings, PASSWORD_RESET_PATH, token);
  const greeting = to.name ? `Hello ${headerText(to.name)},` : "Hello,";
  const lines = [
    greeting,
    "",
    `Someone asked to reset the password of your ${product} account. To choose a new one, open this link within ${ttlMinutes} minutes:`,
    "",
    link,
    "",
    "If you did not ask for it, ignore this message: your password stays as it is.",
  ];
  const html = [
    `<p>${escapeHtml(greeting)}</p>`,
    `<p>Someone asked to reset the password of your ${escapeHtml(product)} account. To choose a new one, open this link within ${ttlMinutes} minutes:</p>`,
    `<p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>`,
    "<p>If you did not ask for it, ignore this message: your password stays as it is.</p>",
  ].join("\n");
  return {
    to: to.name ? { email: to.email, name: headerText(to.name) } : { email: to.email },
    subject: `Reset your ${product} password`,
    text: lines.join("\n"),
    html,
  };
};
