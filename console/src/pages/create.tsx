import { useState } from "preact/hooks";
import { api, call } from "../api";
import { navigate } from "../router";
import { signIn } from "../session";
import { EmailField, Field, Form, fieldError, Link, Page, PasswordField } from "../ui";

/** Sign-up: a new organization with its owner, then signed in as that owner. */
export const Create = () => {
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
            <Field
              label="Organization name"
              name="organization_name"
              required
              value={organization}
              onValue={setOrganization}
              error={fieldError(error, "organization_name")}
            />
            <EmailField label="Your e-mail" value={email} onValue={setEmail} error={error} />
            <PasswordField fresh value={password} onValue={setPassword} error={error} />
          </>
        )}
      </Form>
    </Page>
  );
};
