import * as z from "../../zod";

/**
 * The wording of each message the service mails, which an operator may replace (MAIL_TEMPLATES):
 * a subject, the paragraphs before the message's link and those after it, with `{placeholders}`
 * each message fills in. The link is always placed between the two, so no wording can drop or
 * move it, and wording and values alike are escaped where they land (templates.ts).
 */
export interface Wording {
  subject: string;
  paragraphs: string[];
  after: string[];
}

export const WORDING = {
  invitation: {
    placeholders: ["product", "organization", "inviter", "expires"],
    wording: {
      subject: "{inviter} invited you to {organization} on {product}",
      paragraphs: ["{inviter} invited you to join {organization} on {product}. To accept, open this link before {expires}:"],
      after: ["If you did not expect this invitation, ignore this message: nothing happens unless the link is followed."],
    },
  },
  password_reset: {
    placeholders: ["product", "minutes"],
    wording: {
      subject: "Reset your {product} password",
      paragraphs: ["Someone asked to reset the password of your {product} account. To choose a new one, open this link within {minutes} minutes:"],
      after: ["If you did not ask for it, ignore this message: your password stays as it is."],
    },
  },
  email_verification: {
    placeholders: ["product", "minutes"],
    wording: {
      subject: "Confirm your address for {product}",
      paragraphs: ["To confirm that this address is yours, open this link within {minutes} minutes:"],
      after: ["If you did not ask for it, ignore this message."],
    },
  },
  password_changed: {
    placeholders: ["product"],
    wording: {
      subject: "Your {product} password was changed",
      paragraphs: [
        "The password of your {product} account was just changed, and every session signed in before stopped working.",
        "If you did not change it, reset it now from the sign-in page and tell your organization's administrators.",
      ],
      after: [],
    },
  },
} as const satisfies Record<string, { placeholders: readonly string[]; wording: Wording }>;

export type WordedKind = keyof typeof WORDING;

/** An operator's wording: for any message, any of its parts. */
export type WordingOverrides = Partial<Record<WordedKind, Partial<Wording>>>;

const PLACEHOLDER = /\{(\w+)\}/g;

/** Fills each `{name}` with its value; the wording was checked to name only known ones. */
export const fill = (text: string, values: Record<string, string>): string => text.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);

/** The message's wording: the operator's parts over the defaults. */
export const wordingOf = (kind: WordedKind, overrides: WordingOverrides | undefined): Wording => ({ ...WORDING[kind].wording, ...overrides?.[kind] });

/** MAIL_TEMPLATES: for each message named, the parts replaced, each text filling only its message's placeholders. */
const schema = () =>
  z.strictObject(
    Object.fromEntries(
      Object.entries(WORDING).map(([kind, { placeholders }]) => {
        const text = z.string().check(
          z.minLength(1),
          z.maxLength(2000),
          z.refine((t) => [...t.matchAll(PLACEHOLDER)].every(([, name]) => (placeholders as readonly string[]).includes(name ?? "")), {
            message: `names a placeholder this message does not fill (it fills ${placeholders.map((p) => `{${p}}`).join(", ")})`,
          }),
        );
        const list = (min: number) => z.array(text).check(z.minLength(min), z.maxLength(10));
        return [kind, z.optional(z.strictObject({ subject: z.optional(text), paragraphs: z.optional(list(1)), after: z.optional(list(0)) }))];
      }),
    ),
  );

/**
 * Reads MAIL_TEMPLATES, a JSON object from message kinds to the parts replaced; or what is wrong
 * with it, each problem with its path, so a Worker with a mistaken wording stops at start instead
 * of mailing a broken message.
 */
export const parseWording = (json: string): { overrides: WordingOverrides } | { problems: string[] } => {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return { problems: ["is not JSON"] };
  }
  const parsed = schema().safeParse(raw);
  return parsed.success
    ? { overrides: parsed.data as WordingOverrides }
    : { problems: parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message)) };
};
