import { useState } from "preact/hooks";
import { api, call } from "../api";
import { useFragmentToken } from "../router";
import { EmailField, ErrorNote, Form, Link, Notice, Page, PasswordField } from "../ui";

/** Asks for a reset link; the answer is the same for every address, known or not. */
export const ForgotPassword = () => {
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  return (
    <Page title="Forgot your password">
      {sent ? (
        <Notice>If an account has this address, a link to choose a new password is on its way to it.</Notice>
      ) : (
        <Form
          onSubmit={async () => {
            await call(api.POST("/auth/password-reset", { body: { email } }));
            setSent(true);
          }}
          submit="Send a reset link"
          label="Forgot your password"
        >
          {(error) => <EmailField value={email} onValue={setEmail} error={error} />}
        </Form>
      )}
      <p>
        <Link href="/console/sign-in">Back to sign in</Link>
      </p>
    </Page>
  );
};

const MissingToken = () => <ErrorNote error={new Error("This page needs the link from your e-mail: open the link as it was mailed.")} />;

/** The mailed reset link's page: a new password for the account. */
export const ResetPassword = () => {
  const token = useFragmentToken();
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  return (
    <Page title="Choose a new password">
      {!token ? (
        <MissingToken />
      ) : done ? (
        <Notice>
          Your password is changed. <Link href="/console/sign-in">Sign in</Link> with it.
        </Notice>
      ) : (
        <Form
          onSubmit={async () => {
            await call(api.POST("/auth/password-reset/confirm", { body: { token, new_password: password } }));
            setDone(true);
          }}
          submit="Set the new password"
          label="Choose a new password"
        >
          {(error) => <PasswordField label="New password" name="new_password" fresh value={password} onValue={setPassword} error={error} />}
        </Form>
      )}
    </Page>
  );
};

/** The mailed verification link's page: one press proves the address (a link scanner that opens the page proves nothing). */
export const VerifyEmail = () => {
  const token = useFragmentToken();
  const [done, setDone] = useState(false);
  return (
    <Page title="Verify your address">
      {!token ? (
        <MissingToken />
      ) : done ? (
        <Notice>
          Your address is verified. <Link href="/console">Open the console</Link>.
        </Notice>
      ) : (
        <Form
          onSubmit={async () => {
            await call(api.POST("/auth/verify-email/confirm", { body: { token } }));
            setDone(true);
          }}
          submit="Verify my address"
          label="Verify your address"
        >
          <p>Press the button to confirm that this address is yours.</p>
        </Form>
      )}
    </Page>
  );
};
