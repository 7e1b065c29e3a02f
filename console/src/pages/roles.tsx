import { useState } from "preact/hooks";
import type { paths } from "../../../clients/typescript/index";
import { ERRORS } from "../../../src/domain/kernel/errors";
import { CUSTOM_ROLE_PERMISSIONS } from "../../../src/domain/kernel/roles";
import { ApiError, api, call } from "../api";
import { can } from "../session";
import { ConfirmButton, DataTable, ErrorNote, Field, Form, fieldError, Loading, Name, Page, Select, useLoad } from "../ui";

type Role = paths["/org/roles"]["get"]["responses"][200]["content"]["application/json"]["roles"][number];
type Grantable = NonNullable<paths["/org/roles"]["post"]["requestBody"]>["content"]["application/json"]["permissions"][number];
/** The registry's list, in the client's type (the service's enum is built from the same list). */
const GRANTABLE = CUSTOM_ROLE_PERMISSIONS as Grantable[];

/** One checkbox per permission a custom role may give; the service refuses any the member does not hold themselves. */
const PermissionChoices = ({ legend, chosen, onChosen }: { legend: string; chosen: Grantable[]; onChosen: (next: Grantable[]) => void }) => (
  <fieldset class="permission-choices">
    <legend>{legend}</legend>
    {GRANTABLE.map((permission) => (
      <label key={permission} class="check">
        <input
          type="checkbox"
          name="permissions"
          value={permission}
          checked={chosen.includes(permission)}
          onChange={() => onChosen(chosen.includes(permission) ? chosen.filter((p) => p !== permission) : [...chosen, permission])}
        />{" "}
        {permission}
      </label>
    ))}
  </fieldset>
);

const DefineRole = ({ onDefined }: { onDefined: () => Promise<unknown> }) => {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [chosen, setChosen] = useState<Grantable[]>([]);
  return (
    <Form
      label="Define a role"
      submit="Define the role"
      onSubmit={async () => {
        await call(api.POST("/org/roles", { body: { name, permissions: chosen, ...(description ? { description } : {}) } }));
        setName("");
        setDescription("");
        setChosen([]);
        await onDefined();
      }}
    >
      {(error) => (
        <>
          <Field
            label="Name"
            name="name"
            required
            value={name}
            onValue={setName}
            hint="A lower-case letter, then up to 31 lower-case letters, digits, '_' or '-'."
            error={fieldError(error, "name")}
          />
          <Field label="Description (optional)" name="description" value={description} onValue={setDescription} error={fieldError(error, "description")} />
          <PermissionChoices legend="Permissions it gives" chosen={chosen} onChosen={setChosen} />
        </>
      )}
    </Form>
  );
};

/** A role's permissions changed in place; its holders' next requests follow (no new token). */
const EditPermissions = ({ role, onDone }: { role: Role; onDone: () => Promise<unknown> }) => {
  const [chosen, setChosen] = useState<Grantable[]>(GRANTABLE.filter((permission) => role.permissions.includes(permission)));
  return (
    <Form
      label={`Permissions of ${role.name}`}
      submit="Save the permissions"
      onSubmit={async () => {
        await call(api.PATCH("/org/roles/{name}", { params: { path: { name: role.name } }, body: { permissions: chosen } }));
        await onDone();
      }}
    >
      <PermissionChoices legend={`Permissions ${role.name} gives`} chosen={chosen} onChosen={setChosen} />
    </Form>
  );
};

const deleteRole = (name: string, replace_with?: string) =>
  call(api.DELETE("/org/roles/{name}", { params: { path: { name }, query: replace_with ? { replace_with } : {} } }));

/** What the service's ROLE_IN_USE asks for: the role its holders get instead, then the delete again. */
const ReplaceAndDelete = ({ role, others, onDeleted, onKept }: { role: Role; others: string[]; onDeleted: () => Promise<unknown>; onKept: () => void }) => {
  const [replacement, setReplacement] = useState(others.includes("member") ? "member" : (others[0] ?? ""));
  return (
    <div class="role-in-use">
      <p class="error" role="alert">
        {ERRORS.ROLE_IN_USE.message}
      </p>
      <Form
        label={`Replace ${role.name} and delete it`}
        submit="Replace and delete"
        onSubmit={async () => {
          await deleteRole(role.name, replacement);
          await onDeleted();
        }}
      >
        <Select label={`Give its holders instead of ${role.name}`} name="replace_with" value={replacement} onValue={setReplacement} options={others} />
      </Form>
      <button type="button" class="secondary" onClick={onKept}>
        Keep {role.name}
      </button>
    </div>
  );
};

/**
 * A role, and under it the panel its buttons open: its permissions to edit, or, when a delete was
 * refused because members hold it (ROLE_IN_USE), the replacement to name.
 */
const RoleRow = ({ role, others, manage, onChange }: { role: Role; others: string[]; manage: boolean; onChange: () => Promise<unknown> }) => {
  const [panel, setPanel] = useState<"edit" | "replace" | null>(null);
  const editable = manage && !role.built_in;
  // The panel closes once the list is read again, so the row never shows what was just changed.
  const done = async () => {
    await onChange();
    setPanel(null);
  };
  return (
    <>
      <tr>
        <td>
          <Name>{role.name}</Name>
          {role.built_in ? <small class="hint role-kind">built in</small> : null}
          {role.description ? <small class="hint role-kind">{role.description}</small> : null}
        </td>
        <td>
          <ul class="permission-list">
            {role.permissions.map((permission) => (
              <li key={permission}>
                <code>{permission}</code>
              </li>
            ))}
          </ul>
        </td>
        <td class="role-count">{role.members}</td>
        {manage ? (
          <td class="role-actions">
            {editable ? (
              <>
                <button type="button" class="secondary" aria-expanded={panel === "edit"} onClick={() => setPanel(panel === "edit" ? null : "edit")}>
                  {panel === "edit" ? "Close" : "Edit permissions"}
                </button>
                <ConfirmButton
                  label="Delete"
                  confirm={
                    <>
                      Delete <Name>{role.name}</Name>?
                    </>
                  }
                  onConfirm={async () => {
                    try {
                      await deleteRole(role.name);
                    } catch (error) {
                      if (error instanceof ApiError && error.message === ERRORS.ROLE_IN_USE.message) return setPanel("replace");
                      throw error;
                    }
                    await done();
                  }}
                />
              </>
            ) : null}
          </td>
        ) : null}
      </tr>
      {panel ? (
        <tr>
          <td colSpan={4}>
            {panel === "edit" ? (
              <EditPermissions role={role} onDone={done} />
            ) : (
              <ReplaceAndDelete role={role} others={others} onDeleted={done} onKept={() => setPanel(null)} />
            )}
          </td>
        </tr>
      ) : null}
    </>
  );
};

/** The roles members may hold: the three built in, then the organization's own, which a holder of role:manage defines, edits and deletes. */
export const Roles = () => {
  const list = useLoad(async () => (await call(api.GET("/org/roles"))).roles);
  const manage = can("role:manage");
  const names = list.data?.map((role) => role.name) ?? [];
  return (
    <Page title="Roles">
      <p class="hint">A member may hold several roles and may do what any of them allows. A change to a role reaches its holders on their next request.</p>
      {manage ? (
        <>
          <h2>Define a role</h2>
          <DefineRole onDefined={list.reload} />
        </>
      ) : null}
      <h2>The organization's roles</h2>
      {list.loading && !list.data ? <Loading what="Loading the roles" /> : null}
      <ErrorNote error={list.error} />
      {list.data ? (
        <DataTable caption="Roles and their permissions" columns={manage ? ["Role", "Permissions", "Members", "Actions"] : ["Role", "Permissions", "Members"]}>
          {list.data.map((role) => (
            <RoleRow key={role.name} role={role} others={names.filter((name) => name !== role.name)} manage={manage} onChange={list.reload} />
          ))}
        </DataTable>
      ) : null}
    </Page>
  );
};
