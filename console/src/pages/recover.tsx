import { useState } from "preact/hooks";
import type { paths } from "../../../clients/typescript/index";
import { api, call } from "../api";
import { useFragmentToken } from "../router";
import { session, signedIn, signOut } from "../session";
import { EmailField, ErrorNote, Form, Link, Name, Notice, Page, PasswordField } from "../ui";

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

type Joined = NonNullable<paths["/auth/verify-email/confirm"]["post"]["responses"][200]["content"]["application/json"]["joined"]>;

/**
 * The mailed verification link's page: one press proves the address (a link scanner that opens the
 * page proves nothing). A verified address joins the organization whose `auto_join` domain it is
 * at once; an account's session without organization cannot open it, so it ends, for a sign-in
 * that can.
 */
export const VerifyEmail = () => {
  const token = useFragmentToken();
  const [joined, setJoined] = useState<Joined | null>(null);
  return (
    <Page title="Verify your address">
      {!token ? (
        <MissingToken />
      ) : joined === null ? (
        <Form
          onSubmit={async () => {
            const answer = await call(api.POST("/auth/verify-email/confirm", { body: { token } }));
            const now = answer.joined ?? [];
            if (now.length > 0 && signedIn() && !session()) signOut(`You joined ${now.map((each) => each.organization_name).join(", ")}: sign in to open it.`);
            setJoined(now);
          }}
          submit="Verify my address"
          label="Verify your address"
        >
          <p>Press the button to confirm that this address is yours.</p>
        </Form>
      ) : joined.length === 0 ? (
        <Notice>
          Your address is verified. <Link href="/console">Open the console</Link>.
        </Notice>
      ) : (
        <Notice>
          Your address is verified, and you joined{" "}
          {joined.map((each, index) => (
            <span key={each.org_id}>
              {index > 0 ? ", " : null}
              <Name>{each.organization_name}</Name> as {each.role}
            </span>
          ))}{" "}
          by its domain.{" "}
          {session() ? (
            <>
              <Link href="/console">Open the console</Link> and switch to it.
            </>
          ) : (
            <>
              <Link href="/console/sign-in">Sign in</Link> to open {joined.length > 1 ? "them" : "it"}.
            </>
          )}
        </Notice>
      )}
    </Page>
  );
};
