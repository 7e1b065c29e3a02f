import { useState } from "preact/hooks";
import { collectionNameFor, slugify } from "../../../src/domain/kernel/slug";
import { api, call } from "../api";
import { navigate } from "../router";
import { can, session, signIn, signOut } from "../session";
import { Field, Form, fieldError, Name, Notice, Page } from "../ui";

/** The collection a name maps to: the service's own rule (src/domain/kernel/slug.ts), shown before the rename. */
const collectionFor = (name: string) => collectionNameFor(slugify(name));

/**
 * Renaming and deleting the organization. A rename moves the organization's collection to the
 * new name's (the data goes with it, by a rename of the collection, never a copy) and frees the
 * old name; the session then takes a token that names the new one. A delete is final: the
 * organization, its memberships, invitations, webhooks and its collection go.
 */
export const Settings = () => {
  const current = session();
  const [newName, setNewName] = useState("");
  const [renamed, setRenamed] = useState<string | null>(null);
  const [typed, setTyped] = useState("");
  if (!current) return null;
  const rename = async () => {
    const answer = await call(api.PUT("/org/update", { body: { organization_name: current.orgName, new_organization_name: newName } }));
    // The session's token names the old name: a fresh one names the new.
    const fresh = await call(api.POST("/auth/switch", { body: { organization_name: answer.organization_name } }));
    signIn(fresh.access_token, current.email);
    setRenamed(`Renamed. The records are now in ${answer.collection_name}.`);
    setNewName("");
  };
  const remove = async () => {
    // Checked here, not by disabling the button: a disabled button cannot say why it does nothing.
    if (typed !== current.orgName) throw new Error("To delete, type the organization's name exactly as it is shown above.");
    await call(api.DELETE("/org/delete", { params: { query: { organization_name: current.orgName } } }));
    signOut("The organization was deleted.");
    navigate("/console/sign-in");
  };
  return (
    <Page title="Settings">
      <h2>Rename</h2>
      <p>
        Renaming <Name>{current.orgName}</Name> renames its collection to the one the new name maps to (today <code>{collectionFor(current.orgName)}</code>):
        its records move with it, by a rename of the collection, never a copy. The old name is free for anyone once the rename is done. Members keep their
        access; integrations that call <code>GET /org/get</code> by name must use the new name.
      </p>
      {renamed ? <Notice>{renamed}</Notice> : null}
      <Form onSubmit={rename} submit="Rename" label="Rename the organization">
        {(error) => (
          <Field
            label="New name"
            name="new_organization_name"
            required
            value={newName}
            onValue={setNewName}
            hint={newName ? `Its collection will be ${collectionFor(newName)}.` : undefined}
            error={fieldError(error, "new_organization_name")}
          />
        )}
      </Form>
      {can("organization:delete") ? (
        <>
          <h2>Delete</h2>
          <p>
            Deleting the organization removes it with its members' memberships, its invitations, webhooks, API keys, events and its collection with every
            record. It cannot be undone. Type its name to confirm.
          </p>
          <Form onSubmit={remove} submit="Delete the organization" label="Delete the organization" class="form danger-zone">
            <Field label="Organization name, to confirm" name="confirm" value={typed} onValue={setTyped} autoComplete="off" spellcheck={false} />
          </Form>
        </>
      ) : null}
    </Page>
  );
};
