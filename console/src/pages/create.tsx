import { useState } from "preact/hooks";
import { api, call, WITHOUT_SESSION } from "../api";
import { navigate } from "../router";
import { type AccountSession, session, signedIn, signIn } from "../session";
import { EmailField, Field, Form, fieldError, Link, Name, Page, PasswordField } from "../ui";

/** The new organization's name, as both forms ask for it. */
const OrganizationField = ({ value, onValue, error }: { value: string; onValue: (value: string) => void; error: unknown }) => (
  <Field label="Organization name" name="organization_name" required value={value} onValue={onValue} error={fieldError(error, "organization_name")} />
);

/** Sign-up: a new organization with its owner, then signed in as that owner. */
const CreateWithOwner = () => {
  const [organization, setOrganization] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const submit = async () => {
    await call(api.POST("/org/create", { body: { organization_name: organization, email, password } }));
    const answer = await call(api.POST("/admin/login", { body: { email, password, organization_name: organization } }));
    signIn(answer.access_token, email);
    navigate("/console");
  };
  return (
    <Page title="Create an organization">
      <p>
        The organization gets its own collection for its records, and you become its owner. Already have an account?{" "}
        <Link href="/console/sign-in">Sign in</Link>.
      </p>
      <Form onSubmit={submit} submit="Create" label="Create an organization">
        {(error) => (
          <>
            <OrganizationField value={organization} onValue={setOrganization} error={error} />
            <EmailField label="Your e-mail" value={email} onValue={setEmail} error={error} />
            <PasswordField fresh value={password} onValue={setPassword} error={error} />
          </>
        )}
      </Form>
    </Page>
  );
};

/**
 * An account in no organization (signed up) starting its first: the name alone, created by an
 * account token, the account its owner. An account token opens no organization and cannot be
 * exchanged for one, so the account signs in again with its password to the new organization: the
 * password is asked for here, and checked by a sign-in before anything is created, so a mistyped
 * one leaves no organization behind that the form would then call taken.
 */
const CreateAsAccount = ({ account }: { account: AccountSession }) => {
  const [organization, setOrganization] = useState("");
  const [password, setPassword] = useState("");
  const submit = async () => {
    const credentials = { email: account.email, password };
    const checked = await call(api.POST("/admin/login", { body: credentials, headers: WITHOUT_SESSION }));
    // The document gives the old contract's body; with a bearer token the name alone is the body (the service tells them apart).
    const byToken = { organization_name: organization } as never;
    await call(api.POST("/org/create", { body: byToken, headers: { authorization: `Bearer ${checked.access_token}` } }));
    const answer = await call(api.POST("/admin/login", { body: { ...credentials, organization_name: organization }, headers: WITHOUT_SESSION }));
    signIn(answer.access_token, account.email);
    navigate("/console");
  };
  return (
    <Page title="Create an organization">
      <p>
        The organization gets its own collection for its records, and your account (<Name>{account.email}</Name>) becomes its owner. Looking for your
        organization instead? <Link href="/console/welcome">Join it</Link>.
      </p>
      <Form onSubmit={submit} submit="Create" label="Create an organization">
        {(error) => (
          <>
            <OrganizationField value={organization} onValue={setOrganization} error={error} />
            <PasswordField
              label="Your password"
              hint="Your account's password, to sign you in to the new organization."
              value={password}
              onValue={setPassword}
              error={error}
            />
          </>
        )}
      </Form>
    </Page>
  );
};

/** The create view: for someone with no account, or for an account signed in to no organization. */
export const Create = () => {
  const account = signedIn();
  return account && !session() ? <CreateAsAccount account={account} /> : <CreateWithOwner />;
};
