import * as z from "../zod";
import { Detail, newPassword } from "./schemas";

/** Bodies and answers of the account routes (routes/account.ts): mailed links for a reset and a verification. */

/** A link's token as mailed: the account's id and 32 random bytes (domain/auth/mailed-link.ts); anything else is refused as an unknown link. */
const linkToken = z
  .string()
  .check(z.minLength(1), z.maxLength(256))
  .register(z.globalRegistry, __DOCS__ && { description: "The `token` of the mailed link's fragment" });

export const PasswordResetBody = z
  .strictObject({ email: z.string().check(z.minLength(1), z.maxLength(254)) })
  .register(z.globalRegistry, __DOCS__ && { example: { email: "admin@testorg.com" } });

export const PasswordResetConfirmBody = z
  .strictObject({ token: linkToken, new_password: newPassword })
  .register(
    z.globalRegistry,
    __DOCS__ && { example: { token: "65f0c0ffee0000000000000aV2hhdCBhIGxvbmcgcmFuZG9tIHRva2VuIGl0IGlzIQ", new_password: "N3w-passphrase" } },
  );

export const VerifyConfirmBody = z
  .strictObject({ token: linkToken })
  .register(z.globalRegistry, __DOCS__ && { example: { token: "65f0c0ffee0000000000000aV2hhdCBhIGxvbmcgcmFuZG9tIHRva2VuIGl0IGlzIQ" } });

export { Detail };
