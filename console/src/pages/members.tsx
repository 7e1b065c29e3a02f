import { useState } from "preact/hooks";
import type { paths } from "../../../clients/typescript/index";
import { ROLES, type Role } from "../../../src/domain/kernel/roles";
import { api, call } from "../api";
import { navigate } from "../router";
import { can, session, signOut } from "../session";
import { ConfirmButton, DataTable, Empty, ErrorNote, Loading, LoadMore, Name, Page, Time, useLoad } from "../ui";

type Member = paths["/org/members"]["get"]["responses"][200]["content"]["application/json"]["members"][number];

/** Members come a page at a time; "Load more" follows the cursor. */
const useMembers = () => {
  const [extra, setExtra] = useState<{ members: Member[]; cursor: string | null }>({ members: [], cursor: null });
  const first = useLoad(async () => {
    const page = await call(api.GET("/org/members", { params: { query: { limit: 50 } } }));
    setExtra({ members: [], cursor: page.next_cursor });
    return page.members;
  });
  const more = async () => {
    if (!extra.cursor) return;
    const page = await call(api.GET("/org/members", { params: { query: { limit: 50, cursor: extra.cursor } } }));
    setExtra((previous) => ({ members: [...previous.members, ...page.members], cursor: page.next_cursor }));
  };
  return { ...first, members: [...(first.data ?? []), ...extra.members], cursor: extra.cursor, more };
};

/** A role picker for one member: the change is sent at once; the service refuses what the caller may not do, and says why here. */
const RoleControl = ({ member, onChanged }: { member: Member; onChanged: () => void }) => {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const change = async (role: Role) => {
    setBusy(true);
    setError(null);
    try {
      await call(api.PATCH("/org/members/{user_id}", { params: { path: { user_id: member.user_id } }, body: { role } }));
      onChanged();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="member-role">
      <label class="visually-hidden" for={`role-${member.user_id}`}>
        Role of {member.email}
      </label>
      <select
        id={`role-${member.user_id}`}
        value={member.role}
        disabled={busy}
        onChange={(event) => change((event.currentTarget as HTMLSelectElement).value as Role)}
      >
        {ROLES.map((role) => (
          <option key={role} value={role}>
            {role}
          </option>
        ))}
      </select>
      <ErrorNote error={error} />
    </div>
  );
};

/**
 * The organization's people with their roles. Changing a role or removing someone ends that
 * person's sessions in this organization at once (the service revokes their tokens), which the
 * page says before the change.
 */
export const Members = () => {
  const { loading, error, members, cursor, more, reload } = useMembers();
  const me = session();
  const mayUpdate = can("member:update");
  const mayRemove = can("member:remove");
  return (
    <Page title="Members">
      <p class="hint">
        A change of role or a removal ends that person's sessions in this organization at once; they sign in again to see what they may do now.
      </p>
      {loading && members.length === 0 ? <Loading what="Loading the members" /> : null}
      <ErrorNote error={error} />
      {!loading && !error && members.length === 0 ? <Empty>No members.</Empty> : null}
      {members.length > 0 ? (
        <DataTable caption="Members of the organization" columns={["E-mail", "Role", "Joined", "Actions"]}>
          {members.map((member) => {
            const mine = member.user_id === me?.userId;
            return (
              <tr key={member.user_id}>
                <td>
                  <Name>{member.email}</Name>
                  {mine ? <span class="you"> (you)</span> : null}
                  {member.email_verified ? null : <span class="hint"> · address not verified</span>}
                </td>
                <td>{mayUpdate && !mine ? <RoleControl member={member} onChanged={reload} /> : member.role}</td>
                <td>
                  <Time at={member.joined_at} />
                </td>
                <td>
                  {mine ? (
                    <ConfirmButton
                      label="Leave"
                      confirm="Leave this organization?"
                      onConfirm={async () => {
                        await call(api.POST("/org/leave"));
                        signOut("You left the organization.");
                        navigate("/console/sign-in");
                      }}
                    />
                  ) : mayRemove ? (
                    <ConfirmButton
                      label="Remove"
                      confirm={
                        <>
                          Remove <Name>{member.email}</Name>?
                        </>
                      }
                      onConfirm={async () => {
                        await call(api.DELETE("/org/members/{user_id}", { params: { path: { user_id: member.user_id } } }));
                        await reload();
                      }}
                    />
                  ) : null}
                </td>
              </tr>
            );
          })}
        </DataTable>
      ) : null}
      {cursor ? <LoadMore onMore={more} /> : null}
    </Page>
  );
};
