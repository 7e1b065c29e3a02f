import { useState } from "preact/hooks";
import { api, call, WITHOUT_SESSION } from "../api";
import { navigate, useFragmentToken } from "../router";
import { session, signIn } from "../session";
import { ErrorNote, Field, Form, fieldError, Link, Name, Page } from "../ui";

/**
 * The invitation link's view. A new e-mail opens its account with a password; an e-mail that has
 * an account accepts with that account's password, or, signed in as that account, with the
 * session (the token alone never takes an account over). The token comes from the fragment and
 * leaves the address bar at once.
 */
export const Accept = () => {
  const token = useFragmentToken();
  const current = session();
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
  return (
    <Page title="Accept an invitation">
      {current ? (
        <div class="accept-session">
          <p>
            Signed in as <Name>{current.email || "this account"}</Name>. If the invitation is for this address, accept it with your session:
          </p>
          <button
            type="button"
            onClick={async () => {
              setSessionError(null);
              try {
                const answer = await call(api.POST("/invitations/accept", { body: { token } }));
                accepted(answer.access_token, current.email);
              } catch (error) {
                setSessionError(error);
              }
            }}
          >
            Accept as <Name>{current.email || "this account"}</Name>
          </button>
          <ErrorNote error={sessionError} />
          <p>Or, for another address, with its password:</p>
        </div>
      ) : null}
      <Form
        onSubmit={async () => {
          // A password answers for the invited address, whoever is signed in in this tab.
          const answer = await call(api.POST("/invitations/accept", { body: { token, password }, headers: WITHOUT_SESSION }));
          accepted(answer.access_token, "");
        }}
        submit="Accept the invitation"
        label="Accept with a password"
      >
        {(error) => (
          <Field
            label="Password"
            name="password"
            type="password"
            autoComplete="current-password"
            hint="A new password of at least 8 characters if you have no account yet; your account's password if you have one."
            required
            value={password}
            onValue={setPassword}
            error={fieldError(error, "password")}
          />
        )}
      </Form>
      <p>
        Forgot the password of your account? <Link href="/console/forgot-password">Reset it</Link>, then open the invitation link again.
      </p>
    </Page>
  );
};
