import type { MailSettings } from "../../config/settings";

/**
 * What the service mails, as plain data a transport (src/mail/) sends: the transport never decides
 * what a message says, and a message never knows how it travels.
 */

/** A recipient or sender. The name is shown to people; only the address is used to deliver. */
export interface MailAddress {
  email: string;
  name?: string;
}

export type { MailSettings };

export interface MailMessage {
  to: MailAddress;
  subject: string;
  text: string;
  html: string;
}

/**
 * A header value people see (a display name, a subject) with every control character, quote and
 * backslash replaced by a space. A transport writes names between quotes and sends ASCII as is, so
 * a CR or LF kept here would start a header of the sender's choosing; a quote would end the name.
 */
export const headerText = (value: string, max = 200): string =>
  value
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point.
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029"\\]/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, max);

/**
 * An address fit for an SMTP command and a header: one @, no spaces, controls, quotes or angle
 * brackets (which would end `RCPT TO:<…>` early). Stricter than RFC 5321 on purpose.
 */
const DELIVERABLE = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
export const isDeliverable = (email: string): boolean => email.length <= 254 && DELIVERABLE.test(email);

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
/** Every value placed in an HTML part goes through this, text and attribute alike. */
export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

/**
 * A link into the application: the base, a path, and the token in the fragment, which a browser
 * never sends to a server, so it stays out of access logs and Referer headers.
 */
export const mailLink = (settings: MailSettings, path: string, token: string): string => {
  const url = new URL(path, settings.linkBaseUrl.endsWith("/") ? settings.linkBaseUrl : `${settings.linkBaseUrl}/`);
  url.hash = `token=${encodeURIComponent(token)}`;
  return url.toString();
};
