import { useState } from "preact/hooks";
import { ERRORS } from "../../../src/domain/kernel/errors";
import { ApiError, api, call, OWN_REFUSAL, WITHOUT_SESSION } from "../api";
import { navigate, useFragmentToken } from "../router";
import { session, signIn } from "../session";
import { ErrorNote, Form, Link, Loading, Name, Page, PasswordField, useLoad } from "../ui";

/** What accepting needs: a new account's password, the existing account's, or (not known) either. */
type Need = "new" | "existing" | "unknown";

/**
 * Asks the service what this invitation needs before anything is typed. An accept sent with
 * neither a password nor a session cannot succeed: the service answers whether the invited
 * address has an account, or that the link is dead (which is thrown, to show instead of a form).
 */
const needOf = async (token: string): Promise<Need> => {
  try {
    await call(api.POST("/invitations/accept", { body: { token }, headers: WITHOUT_SESSION }));
  } catch (error) {
    if (error instanceof ApiError && error.message === ERRORS.ACCOUNT_EXISTS.message) return "existing";
    if (error instanceof ApiError && error.message === ERRORS.NEW_ACCOUNT_PASSWORD.message) return "new";
    if (error instanceof ApiError && error.status === 410) throw error;
  }
  // Throttled or unreachable: the form still works, and the service tells on submit.
  return "unknown";
};

const HINTS: Record<Need, string> = {
  new: "At least 8 characters. You then sign in with the invited address and this password.",
  existing: "The password of the invited address's account.",
  unknown: "A new password of at least 8 characters if you have no account yet; your account's password if you have one.",
};

/**
 * The invitation link's view. A new e-mail opens its account with a password; an e-mail that has
 * an account accepts with that account's password, or, signed in as that account, with the
 * session (the token alone never takes an account over). The token comes from the fragment and
 * leaves the address bar at once.
 */
export const Accept = () => {
  const token = useFragmentToken();
  const current = session();
  const need = useLoad(async () => (token ? needOf(token) : "unknown"), [token]);
  const [password, setPassword] = useState("");
  const [sessionError, setSessionError] = useState<unknown>(null);
  const accepted = (accessToken: string, email: string) => {
    signIn(accessToken, email);
    navigate("/console");
  };
  if (!token)
    return (
      <Page title="Accept an invitation">
        <ErrorNote error={new Error("This page needs the invitation link: open the link as it was given to you.")} />
      </Page>
    );
  if (need.loading)
    return (
      <Page title="Accept an invitation">
        <Loading what="Reading the invitation" />
      </Page>
    );
  if (need.error)
    return (
      <Page title="Accept an invitation">
        <ErrorNote error={need.error} />
        <p>Ask whoever invited you for a new invitation.</p>
      </Page>
    );
  const kind = need.data ?? "unknown";
  const acceptWithSession = async () => {
    setSessionError(null);
    const email = current?.email ?? "";
    try {
      // Its 401 ends no session: the service answers a session of another account as it answers an ended one.
      const answer = await call(api.POST("/invitations/accept", { body: { token }, headers: OWN_REFUSAL }));
      accepted(answer.access_token, email);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 401)) return setSessionError(error);
      try {
        // Which of the two: a call the session may always make. An ended session is refused there, which signs the tab out.
        await call(api.GET("/org/members", { params: { query: { limit: 1 } } }));
      } catch (check) {
        return setSessionError(
          session() ? check : new Error("Your session had ended, so this tab is signed out: accept with the invited address's password below."),
        );
      }
      setSessionError(
        new Error(
          `This invitation is not for ${email || "the account signed in here"}: accept it with the invited address's password below. You stay signed in meanwhile.`,
        ),
      );
    }
  };
  return (
    <Page title="Accept an invitation">
      {kind === "new" ? <p>The invited address has no account yet: choose a password to open one and join.</p> : null}
      {kind === "existing" ? <p>The invited address has an account: accept with it.</p> : null}
      {current && kind !== "new" ? (
        <div class="accept-session">
          <p>
            Signed in as <Name>{current.email || "this account"}</Name>. If the invitation is for this address, accept it with your session:
          </p>
          <button type="button" onClick={acceptWithSession}>
            Accept as <Name>{current.email || "this account"}</Name>
          </button>
          <p>Or, for another address, with its password:</p>
        </div>
      ) : null}
      {current && kind === "new" ? (
        <p>
          You are signed in as <Name>{current.email || "another account"}</Name>; accepting opens the invited address's account and this tab then works as it.
        </p>
      ) : null}
      <ErrorNote error={sessionError} />
      <Form
        onSubmit={async () => {
          // A password answers for the invited address, whoever is signed in in this tab.
          const answer = await call(api.POST("/invitations/accept", { body: { token, password }, headers: WITHOUT_SESSION }));
          accepted(answer.access_token, "");
        }}
        submit={kind === "new" ? "Open the account and join" : "Accept the invitation"}
        label="Accept with a password"
      >
        {(error) => <PasswordField fresh={kind === "new"} hint={HINTS[kind]} value={password} onValue={setPassword} error={error} />}
      </Form>
      {kind === "new" ? null : (
        <p>
          Forgot the password of your account? <Link href="/console/forgot-password">Reset it</Link>, then open the invitation link again.
        </p>
      )}
    </Page>
  );
};
