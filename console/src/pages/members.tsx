import { useState } from "preact/hooks";
import type { paths } from "../../../clients/typescript/index";
import { isRole, mayAssign, ROLES, type Role } from "../../../src/domain/kernel/roles";
import { api, call } from "../api";
import { navigate } from "../router";
import { can, session, signOut } from "../session";
import { ConfirmButton, DataTable, Empty, ErrorNote, Loading, LoadMore, Name, Page, Time, useLoad } from "../ui";

type Member = paths["/org/members"]["get"]["responses"][200]["content"]["application/json"]["members"][number];
type JoinRequest = paths["/org/join-requests"]["get"]["responses"][200]["content"]["application/json"]["requests"][number];
type JoinRole = "member" | "admin";

/** Members a page at a time: a screenful, the rest behind "Load more". */
const PAGE_SIZE = 25;

/** Members come a page at a time; "Load more" follows the cursor. */
const useMembers = () => {
  const [extra, setExtra] = useState<{ members: Member[]; cursor: string | null }>({ members: [], cursor: null });
  const first = useLoad(async () => {
    const page = await call(api.GET("/org/members", { params: { query: { limit: PAGE_SIZE } } }));
    setExtra({ members: [], cursor: page.next_cursor });
    return page.members;
  });
  const more = async () => {
    if (!extra.cursor) return;
    const page = await call(api.GET("/org/members", { params: { query: { limit: PAGE_SIZE, cursor: extra.cursor } } }));
    setExtra((previous) => ({ members: [...previous.members, ...page.members], cursor: page.next_cursor }));
  };
  return { ...first, members: [...(first.data ?? []), ...extra.members], cursor: extra.cursor, more };
};

/**
 * A role picker for one member, offering only the roles the signed-in role may give this member
 * (an admin never makes an owner). The change is sent at once; a refusal (the member left
 * meanwhile, say) is said here and the picker goes back to the role the member holds.
 */
const RoleControl = ({ member, roles, onChanged }: { member: Member; roles: Role[]; onChanged: () => void }) => {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const change = async (select: HTMLSelectElement) => {
    setBusy(true);
    setError(null);
    try {
      // A lone `role` would take the member's custom roles away with the old built-in one; they are kept.
      const custom = member.roles.filter((role) => !isRole(role));
      const body = custom.length ? { roles: [select.value, ...custom] } : { role: select.value as Role };
      await call(api.PATCH("/org/members/{user_id}", { params: { path: { user_id: member.user_id } }, body }));
      onChanged();
    } catch (failure) {
      select.value = member.role;
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
      <select id={`role-${member.user_id}`} value={member.role} disabled={busy} onChange={(event) => change(event.currentTarget as HTMLSelectElement)}>
        {roles.map((role) => (
          <option key={role} value={role}>
            {role}
          </option>
        ))}
      </select>
      <ErrorNote error={error} />
    </div>
  );
};

/** The member's roles of the organization's own, beside the built-in one the picker shows. */
const CustomRoles = ({ member }: { member: Member }) => {
  const custom = member.roles.filter((role) => !isRole(role) && role !== member.role);
  return custom.length ? <small class="member-custom-roles">Also: {custom.join(", ")}</small> : null;
};

/** The teams a member is in, by name (the member list answers their ids), each with the member's role in it. */
const TeamsOf = ({ member, names }: { member: Member; names: Map<string, string> }) =>
  member.teams.length ? (
    <ul class="member-teams">
      {member.teams.map((team) => (
        <li key={team.id}>
          <Name>{names.get(team.id) ?? team.id}</Name>
          {team.role === "lead" ? " (lead)" : null}
        </li>
      ))}
    </ul>
  ) : (
    <span>–</span>
  );

/** Approves one request with the role picked beside it (admin only for those who may make admins), or declines it. */
const JoinRequestRow = ({ request, roles, onDone }: { request: JoinRequest; roles: JoinRole[]; onDone: () => Promise<unknown> }) => {
  const [role, setRole] = useState<JoinRole>("member");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const approve = async () => {
    setBusy(true);
    setError(null);
    try {
      await call(api.POST("/org/join-requests/{user_id}/approve", { params: { path: { user_id: request.user_id } }, body: { role } }));
      await onDone();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr>
      <td>
        <Name>{request.email}</Name>
      </td>
      <td class="join-domain">
        <Name>{request.domain}</Name>
      </td>
      <td>
        <Time at={request.requested_at} />
      </td>
      <td>
        <div class="join-actions">
          {roles.length > 1 ? (
            <>
              <label class="visually-hidden" for={`join-role-${request.user_id}`}>
                Role for {request.email}
              </label>
              <select
                id={`join-role-${request.user_id}`}
                value={role}
                onChange={(event) => setRole((event.currentTarget as HTMLSelectElement).value as JoinRole)}
              >
                {roles.map((each) => (
                  <option key={each} value={each}>
                    {each}
                  </option>
                ))}
              </select>
            </>
          ) : null}
          <button type="button" disabled={busy} aria-busy={busy} onClick={approve}>
            {busy ? "Approving…" : "Approve"}
          </button>
          <ConfirmButton
            label="Decline"
            confirm={
              <>
                Decline <Name>{request.email}</Name>?
              </>
            }
            onConfirm={async () => {
              await call(api.DELETE("/org/join-requests/{user_id}", { params: { path: { user_id: request.user_id } } }));
              await onDone();
            }}
          />
        </div>
        <ErrorNote error={error} />
      </td>
    </tr>
  );
};

/**
 * People at a `suggest` domain of the organization who asked to join (domains.tsx sets the policy);
 * listed only while someone waits. An approved person joins at once and signs in to open it.
 */
const JoinRequests = ({ role, onJoined }: { role: string; onJoined: () => Promise<unknown> }) => {
  const requests = useLoad(async () => (await call(api.GET("/org/join-requests"))).requests);
  const roles = (["member", "admin"] as const).filter((each) => mayAssign(role, undefined, each));
  if (!requests.error && !requests.data?.length) return null;
  return (
    <section aria-labelledby="join-requests-title">
      <h2 id="join-requests-title">Asking to join</h2>
      <ErrorNote error={requests.error} />
      {requests.data?.length ? (
        <DataTable caption="People asking to join" columns={["E-mail", "Domain", "Asked", "Actions"]}>
          {requests.data.map((request) => (
            <JoinRequestRow
              key={request.user_id}
              request={request}
              roles={roles.length ? roles : ["member"]}
              onDone={async () => {
                await Promise.all([requests.reload(), onJoined()]);
              }}
            />
          ))}
        </DataTable>
      ) : null}
    </section>
  );
};

/** Leaving: any member may, but the last owner (the service says so, here). The session ends with the membership. */
const Leave = ({ orgName }: { orgName: string }) => (
  <section class="member-leave" aria-labelledby="leave-title">
    <h2 id="leave-title">Leave this organization</h2>
    <p>
      You stop being a member of <Name>{orgName}</Name> and are signed out of it; your account and its other organizations stay.
    </p>
    <ConfirmButton
      label="Leave this organization"
      confirm={
        <>
          Leave <Name>{orgName}</Name>?
        </>
      }
      onConfirm={async () => {
        await call(api.POST("/org/leave"));
        signOut("You left the organization.");
        navigate("/console/sign-in");
      }}
    />
  </section>
);

/**
 * The organization's people with their roles. Changing a role or removing someone ends that
 * person's sessions in this organization at once (the service revokes their tokens), which the
 * page says before the change.
 */
export const Members = () => {
  const { loading, error, members, cursor, more, reload } = useMembers();
  // The teams' names; without them (a refusal) a team shows by its id.
  const teams = useLoad(async () => new Map((await call(api.GET("/org/teams"))).teams.map((team) => [team.id, team.name])));
  const me = session();
  if (!me) return null;
  const mayUpdate = can("member:update");
  const mayRemove = can("member:remove");
  return (
    <Page title="Members">
      <p>
        The people of <Name>{me.orgName}</Name> and their roles.
        {mayUpdate || mayRemove
          ? " A change of role or a removal ends that person's sessions in this organization at once; they sign in again to see what they may do now."
          : null}
      </p>
      {loading && members.length === 0 ? <Loading what="Loading the members" /> : null}
      <ErrorNote error={error} />
      {!loading && !error && members.length === 0 ? <Empty>No members.</Empty> : null}
      {members.length > 0 ? (
        <DataTable
          caption="Members of the organization"
          columns={mayRemove ? ["E-mail", "Role", "Teams", "Joined", "Actions"] : ["E-mail", "Role", "Teams", "Joined"]}
        >
          {members.map((member) => {
            const mine = member.user_id === me.userId;
            // Whom the signed-in role may act on at all: an admin leaves owners alone.
            const manageable = !mine && mayAssign(me.role, member.role, member.role);
            const roles = ROLES.filter((role) => mayAssign(me.role, member.role, role));
            return (
              <tr key={member.user_id}>
                <td>
                  <Name>{member.email}</Name>
                  {mine ? <span class="you"> (you)</span> : null}
                  {member.email_verified ? null : <span class="hint"> · address not verified</span>}
                </td>
                <td>
                  {mayUpdate && manageable ? <RoleControl member={member} roles={roles} onChanged={reload} /> : member.role}
                  <CustomRoles member={member} />
                </td>
                <td>
                  <TeamsOf member={member} names={teams.data ?? new Map()} />
                </td>
                <td>
                  <Time at={member.joined_at} />
                </td>
                {mayRemove ? (
                  <td>
                    {manageable ? (
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
                ) : null}
              </tr>
            );
          })}
        </DataTable>
      ) : null}
      {cursor ? <LoadMore onMore={more} /> : null}
      {can("member:invite") ? <JoinRequests role={me.role} onJoined={reload} /> : null}
      <Leave orgName={me.orgName} />
    </Page>
  );
};
