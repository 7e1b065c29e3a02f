import { useState } from "preact/hooks";
import { api, call } from "../api";
import { navigate } from "../router";
import { signIn } from "../session";
import { EmailField, Form, Link, Page, PasswordField } from "../ui";

/**
 * An account of one's own, in no organization yet: once its address is verified (a link is mailed
 * to it), an organization that verified the address's domain lets it in or hears it ask
 * (welcome.tsx). Starting an organization is the create view's.
 */
export const SignUp = () => {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const submit = async () => {
    const answer = await call(api.POST("/auth/signup", { body: { email, password } }));
    signIn(answer.access_token, answer.email);
    navigate("/console/welcome");
  };
  return (
    <Page title="Sign up">
      <p>
        Sign up with your work address to join your organization: once you verify the address, an organization that verified its domain lets you in, or hears
        you ask. To start an organization of your own, <Link href="/console/create">create one</Link>. Already have an account?{" "}
        <Link href="/console/sign-in">Sign in</Link>.
      </p>
      <Form onSubmit={submit} submit="Sign up" label="Sign up">
        {(error) => (
          <>
            <EmailField label="Your e-mail" value={email} onValue={setEmail} error={error} />
            <PasswordField fresh value={password} onValue={setPassword} error={error} />
          </>
        )}
      </Form>
    </Page>
  );
};
