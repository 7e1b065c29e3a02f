import { useState } from "preact/hooks";
import { collectionNameFor, slugify } from "../../../src/domain/kernel/slug";
import { api, call, WITHOUT_SESSION } from "../api";
import { navigate } from "../router";
import { can, session, signIn, signOut } from "../session";
import { EmailField, ErrorNote, Field, Form, fieldError, Name, Notice, Page, PasswordField } from "../ui";

/** The collection a name maps to: the service's own rule (src/domain/kernel/slug.ts), shown before the rename. */
const collectionFor = (name: string) => collectionNameFor(slugify(name));

/**
 * A delete confirmed by typing the organization's exact name: the button stays disabled until the
 * name matches, and the hint under the field says why. The platform view uses it too.
 */
export const DeleteByName = ({ name, onDelete }: { name: string; onDelete: () => Promise<unknown> }) => {
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const matches = typed === name;
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!matches || busy) return;
    setBusy(true);
    setError(null);
    try {
      await onDelete();
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };
  return (
    <form class="form danger-zone" onSubmit={submit} aria-label="Delete the organization" noValidate>
      <Field
        label="Organization name, to confirm"
        name="confirm"
        value={typed}
        onValue={setTyped}
        autoComplete="off"
        spellcheck={false}
        hint={matches ? "The name matches." : "The button below is enabled once this is the organization's name, exactly as shown."}
      />
      <ErrorNote error={error} />
      <button type="submit" class="danger" disabled={!matches || busy} aria-busy={busy}>
        {busy ? "Deleting the organization…" : "Delete the organization"}
      </button>
    </form>
  );
};

/**
 * Renaming and deleting the organization. The rename takes the e-mail and password, as the
 * service's rename always has: it breaks every integration that names the organization, so an
 * open tab alone is not enough to do it.
 */
export const Settings = () => {
  const current = session();
  const [newName, setNewName] = useState("");
  const [email, setEmail] = useState(current?.email ?? "");
  const [password, setPassword] = useState("");
  const [renamed, setRenamed] = useState<string | null>(null);
  if (!current) return null;
  const rename = async () => {
    setRenamed(null);
    // The password is the credential here, not the tab's token: a wrong one is this form's refusal and ends no session.
    const answer = await call(
      api.PUT("/org/update", {
        body: { organization_name: current.orgName, new_organization_name: newName, email, password },
        headers: WITHOUT_SESSION,
      }),
    );
    // The tab's token still works (tokens name the organization by its id) but carries the old
    // name, which the console shows and looks the organization up by: sign in again under the new one.
    try {
      const login = await call(api.POST("/admin/login", { body: { email, password, organization_name: answer.organization_name }, headers: WITHOUT_SESSION }));
      signIn(login.access_token, email);
    } catch {
      // A sign-in refused now (the login rate limit, say): the still valid token can ask for one instead.
      const switched = await call(api.POST("/auth/switch", { body: { organization_name: answer.organization_name } }));
      signIn(switched.access_token, current.email || email);
    }
    setNewName("");
    setPassword("");
    setRenamed(`Renamed to ${answer.organization_name}. The records are now in ${answer.collection_name}.`);
  };
  const remove = async () => {
    await call(api.DELETE("/org/delete", { params: { query: { organization_name: current.orgName } } }));
    signOut("The organization was deleted.");
    navigate("/console/sign-in");
  };
  return (
    <Page title="Settings">
      <h2>Rename</h2>
      <p>
        Renaming <Name>{current.orgName}</Name> renames its collection, <code>{collectionFor(current.orgName)}</code>, to the one the new name maps to: the
        records move with it (the collection is renamed, not copied). A new spelling of the same name, one that maps to the same collection, keeps it. Once
        renamed, the old name is free for anyone to take.
      </p>
      <p>
        Members, their roles, API keys and webhooks are unaffected, and tokens already issued keep working: they name the organization by its id. Integrations
        that look it up or sign in by its name (<code>GET /org/get</code>, a sign-in naming the organization) must use the new name. This console signs you in
        again under the new name; other members see it once they sign in again.
      </p>
      {renamed ? <Notice>{renamed}</Notice> : null}
      <Form onSubmit={rename} submit="Rename" label="Rename the organization">
        {(error) => (
          <>
            <Field
              label="New name"
              name="new_organization_name"
              required
              value={newName}
              onValue={setNewName}
              hint={newName ? `Its collection will be ${collectionFor(newName)}.` : undefined}
              error={fieldError(error, "new_organization_name")}
            />
            <EmailField label="Your e-mail" value={email} onValue={setEmail} error={error} />
            <PasswordField
              label="Your password"
              hint="Checked as at sign-in: a wrong one counts towards the account's lockout."
              value={password}
              onValue={setPassword}
              error={error}
            />
          </>
        )}
      </Form>
      {can("organization:delete") ? (
        <>
          <h2>Delete</h2>
          <p>
            Deleting the organization removes it and all it holds: its collection with every record, the memberships (an account left in no other organization
            is closed), its invitations, API keys, webhooks and events. It cannot be undone. Type its name to confirm.
          </p>
          <DeleteByName name={current.orgName} onDelete={remove} />
        </>
      ) : null}
    </Page>
  );
};
