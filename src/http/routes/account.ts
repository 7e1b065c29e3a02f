import { attemptKey } from "../../domain/accounts/accounts";
import { accountOfBearer } from "../../domain/accounts/signup";
import { confirmPasswordReset } from "../../domain/auth/password-reset";
import { confirmEmailVerification, requestEmailVerification } from "../../domain/auth/verify-email";
import { joinOnVerification } from "../../domain/domains/joining";
import type { Deps } from "../../domain/kernel/deps";
import { AppError } from "../../domain/kernel/errors";
import { normalizeEmail } from "../../domain/kernel/model";
import { queueReset } from "../../domain/mail/outbox";
import { PasswordResetBody, PasswordResetConfirmBody, VerifiedAnswer, VerifyConfirmBody } from "../account-schemas";
import { bearerToken } from "../authenticate";
import { throttleAddress } from "../context";
import { BODY_ERRORS, defineRoute, NO_STORE } from "../route";
import { detailAnswer } from "../schemas";

/** A mailed link needs mail that leaves: without a transport these routes answer 409 before reading anything. */
const needsMail = (deps: Deps): void => {
  if (!deps.settings.mail.sends) throw new AppError("MAIL_DISABLED");
};

const RESET_ASKED = "If an account has this address, a reset link is on its way";

export const passwordResetRoute = defineRoute({
  method: "post",
  path: "/auth/password-reset",
  tag: "account",
  summary: __DOCS__ && "Mail a one-time password reset link to an account's address",
  description:
    __DOCS__ &&
    "The same 202 whether or not an account has the address, sent before the service looks: the link (valid 30 minutes, replacing any earlier one) is mailed after the answer. Throttled per client address and per e-mail address.",
  data: true,
  audit: "account.password_reset",
  request: { body: { schema: PasswordResetBody } },
  responses: {
    202: detailAnswer(__DOCS__ && { description: "Asked", detail: RESET_ASKED, name: "asked" }),
  },
  errors: ["MAIL_DISABLED", "RATE_LIMITED", "STORE_UNAVAILABLE", ...BODY_ERRORS],
  handler: async ({ request, env, deps, input, audit }) => {
    needsMail(deps);
    const { email } = await input.body();
    audit.note({ email });
    await deps.throttleCredentials?.();
    await throttleAddress(request, env, await attemptKey(normalizeEmail(email)));
    // Queued for the mail dispatcher, which looks the address up: the same work here for every address.
    deps.background((after) => queueReset(after, email));
    return { status: 202, body: { detail: RESET_ASKED } };
  },
});

export const passwordResetConfirmRoute = defineRoute({
  method: "post",
  path: "/auth/password-reset/confirm",
  tag: "account",
  summary: __DOCS__ && "Set a new password with a mailed reset link's token",
  description:
    __DOCS__ &&
    "Spends the link, sets the password, ends any lockout of the address, and revokes every token of the account in every organization (`admin.password_changed` with `by: reset`); the holder then signs in with the new password, and is mailed a notice.",
  data: true,
  audit: "account.password_reset_confirm",
  request: { body: { schema: PasswordResetConfirmBody } },
  responses: {
    200: detailAnswer(__DOCS__ && { description: "Password set", detail: "password changed", name: "set", summary: "Set" }),
  },
  errors: ["MAIL_DISABLED", "LINK_INVALID", "RATE_LIMITED", "STORE_UNAVAILABLE", ...BODY_ERRORS],
  handler: async ({ deps, input }) => {
    needsMail(deps);
    const { token, new_password } = await input.body();
    await deps.throttleCredentials?.();
    await confirmPasswordReset(deps, token, new_password);
    return { body: { detail: "password changed" }, headers: NO_STORE };
  },
});

export const verifyEmailRoute = defineRoute({
  method: "post",
  path: "/auth/verify-email",
  tag: "account",
  summary: __DOCS__ && "Mail a link that verifies the signed-in person's address",
  description:
    __DOCS__ &&
    "202 once the link (valid 24 hours, replacing any earlier one) is queued to be mailed after the answer; 200 when the address is already verified. The token's `email_verified` claim follows at the next sign-in.",
  // A member's token, or the account token of an account in no organization (signed up): the address is the account's.
  data: true,
  audit: "account.verify_email",
  responses: {
    200: detailAnswer(__DOCS__ && { description: "Already verified", detail: "already verified", name: "verified" }),
    202: detailAnswer(__DOCS__ && { description: "Mailed", detail: "verification link sent", name: "sent" }),
  },
  errors: ["NOT_AUTHENTICATED", "INVALID_TOKEN", "ORGANIZATION_SUSPENDED", "MAIL_DISABLED", "STORE_UNAVAILABLE"],
  handler: async ({ request, deps }) =>
    requestEmailVerification(deps, await accountOfBearer(deps, bearerToken(request))) === "verified"
      ? { body: { detail: "already verified" } }
      : { status: 202, body: { detail: "verification link sent" } },
});

export const verifyEmailConfirmRoute = defineRoute({
  method: "post",
  path: "/auth/verify-email/confirm",
  tag: "account",
  summary: __DOCS__ && "Prove an address with a mailed verification link's token",
  description: __DOCS__ && "Then joins the organization whose verified domain the address is at, when its policy is `auto_join` (`joined`).",
  data: true,
  audit: "account.verify_email_confirm",
  request: { body: { schema: VerifyConfirmBody } },
  responses: {
    200: {
      description: __DOCS__ && "Verified",
      schema: VerifiedAnswer,
      examples: __DOCS__ && { verified: { summary: "Verified", value: { detail: "address verified", joined: [] } } },
    },
  },
  errors: ["MAIL_DISABLED", "LINK_INVALID", "STORE_UNAVAILABLE", ...BODY_ERRORS],
  handler: async ({ deps, input }) => {
    needsMail(deps);
    const { token } = await input.body();
    const account = await confirmEmailVerification(deps, token);
    // The address is now proven: an organization whose `auto_join` domain it is takes it in.
    return { body: { detail: "address verified", joined: await joinOnVerification(deps, account) } };
  },
});

export const accountRoutes = [passwordResetRoute, passwordResetConfirmRoute, verifyEmailRoute, verifyEmailConfirmRoute];
