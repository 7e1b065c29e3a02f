import { bearer, callWith, uniqueName } from "../helpers";

/** Bursts of requests on a loaded machine, on FerretDB behind the gateway too. */
export const SLOW = 180_000;

/** The limit of pending invitations the limit tests run with (MAX_PENDING_INVITATIONS; the default, 1000, would take minutes to fill). */
export const MAX_PENDING_INVITATIONS = 30;
const LIMITED = { MAX_PENDING_INVITATIONS: String(MAX_PENDING_INVITATIONS) };

/** POST /org/invitations on a Worker configured with that limit. */
export const inviteLimited = (token: string, email: string, role = "member") =>
  callWith(LIMITED, "/org/invitations", {
    method: "POST",
    headers: { "content-type": "application/json", ...bearer(token) },
    body: JSON.stringify({ email, role }),
  });

export const freshEmail = (prefix: string) =>
  `${prefix}+${uniqueName("i")
    .replace(/[^a-z0-9]/gi, "")
    .toLowerCase()}@example.com`;

/** Sends `count` invitations, ten at a time, each to a fresh e-mail. */
export const fillInvitations = async (token: string, count: number, prefix = "fill"): Promise<void> => {
  for (let sent = 0; sent < count; sent += 10) {
    await Promise.all(Array.from({ length: Math.min(10, count - sent) }, () => inviteLimited(token, freshEmail(prefix))));
  }
};
