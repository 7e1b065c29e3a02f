import { useState } from "preact/hooks";
import { ApiError, api, call } from "../api";
import { signedOutReason, signIn } from "../session";
import { EmailField, Field, Form, fieldError, Link, Notice, Page, PasswordField } from "../ui";

/** E-mail and password; the organization too when the account belongs to several (the service answers 409 without it). */
export const SignIn = () => {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [organization, setOrganization] = useState("");
  const [needsOrganization, setNeedsOrganization] = useState(false);
  const reason = signedOutReason();
  const submit = async () => {
    try {
      const body = { email, password, ...(organization ? { organization_name: organization } : {}) };
      const answer = await call(api.POST("/admin/login", { body }));
      signIn(answer.access_token, email);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && !organization) setNeedsOrganization(true);
      throw error;
    }
  };
  return (
    <Page title="Sign in">
      {reason ? <Notice>{reason}</Notice> : null}
      <Form onSubmit={submit} submit="Sign in" label="Sign in">
        {(error) => (
          <>
            <EmailField value={email} onValue={setEmail} error={error} />
            <PasswordField value={password} onValue={setPassword} error={error} />
            {needsOrganization || organization ? (
              <Field
                label="Organization"
                name="organization_name"
                hint="Your account belongs to several organizations: name the one to open."
                value={organization}
                onValue={setOrganization}
                error={fieldError(error, "organization_name")}
              />
            ) : null}
          </>
        )}
      </Form>
      <p>
        <Link href="/console/forgot-password">Forgot your password?</Link> · <Link href="/console/sign-up">Sign up</Link> ·{" "}
        <Link href="/console/create">Create an organization</Link>
      </p>
    </Page>
  );
};
