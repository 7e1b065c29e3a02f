import { useState } from "preact/hooks";
import type { paths } from "../../../clients/typescript/index";
import { api, call } from "../api";
import { can, session } from "../session";
import { ConfirmButton, DataTable, Empty, ErrorNote, Field, Form, fieldError, Loading, Name, Page, Select, useLoad } from "../ui";

type Team = paths["/org/teams"]["get"]["responses"][200]["content"]["application/json"]["teams"][number];
type Member = paths["/org/members"]["get"]["responses"][200]["content"]["application/json"]["members"][number];
type TeamRole = Team["members"][number]["role"];

/** The largest page the member list answers: the picker wants everyone, in as few calls as may be. */
const MEMBER_PAGE = 200;

/** Every member of the organization, for the picker: the list follows its cursor to the end. */
const allMembers = async (): Promise<Member[]> => {
  const members: Member[] = [];
  let cursor: string | undefined;
  do {
    const page = await call(api.GET("/org/members", { params: { query: { limit: MEMBER_PAGE, ...(cursor ? { cursor } : {}) } } }));
    members.push(...page.members);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return members;
};

const CreateTeam = ({ onCreated }: { onCreated: () => Promise<unknown> }) => {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  return (
    <Form
      label="Create a team"
      submit="Create the team"
      onSubmit={async () => {
        await call(api.POST("/org/teams", { body: { name, ...(description ? { description } : {}) } }));
        setName("");
        setDescription("");
        await onCreated();
      }}
    >
      {(error) => (
        <>
          <Field label="Team name" name="name" required value={name} onValue={setName} error={fieldError(error, "name")} />
          <Field label="Description (optional)" name="description" value={description} onValue={setDescription} error={fieldError(error, "description")} />
        </>
      )}
    </Form>
  );
};

const RenameTeam = ({ team, onDone }: { team: Team; onDone: () => Promise<unknown> }) => {
  const [name, setName] = useState(team.name);
  return (
    <Form
      label={`Rename ${team.name}`}
      submit="Rename"
      onSubmit={async () => {
        await call(api.PATCH("/org/teams/{id}", { params: { path: { id: team.id } }, body: { name } }));
        await onDone();
      }}
    >
      {(error) => <Field label={`New name of ${team.name}`} name="name" required value={name} onValue={setName} error={fieldError(error, "name")} />}
    </Form>
  );
};

/** Puts one of the organization's members in the team; a lead adds plain members only, so only team:manage is offered the role. */
const AddToTeam = ({ team, candidates, chooseRole, onAdded }: { team: Team; candidates: Member[]; chooseRole: boolean; onAdded: () => Promise<unknown> }) => {
  const [userId, setUserId] = useState("");
  const [role, setRole] = useState<TeamRole>("member");
  if (candidates.length === 0) return <p class="hint">Every member of the organization is in this team.</p>;
  // The picker shows the first candidate until another is chosen; after an add, that one has left the list.
  const chosen = candidates.some((member) => member.user_id === userId) ? userId : (candidates[0]?.user_id ?? "");
  return (
    <Form
      label={`Add a member to ${team.name}`}
      submit="Add to the team"
      class="form team-add"
      onSubmit={async () => {
        await call(api.POST("/org/teams/{id}/members", { params: { path: { id: team.id } }, body: { user_id: chosen, role } }));
        setRole("member");
        await onAdded();
      }}
    >
      <Select
        label={`Member to add to ${team.name}`}
        name="user_id"
        value={chosen}
        onValue={setUserId}
        options={candidates.map((member) => ({ value: member.user_id, label: member.email }))}
      />
      {chooseRole ? (
        <Select label={`Role in ${team.name}`} name="role" value={role} onValue={(value) => setRole(value as TeamRole)} options={["member", "lead"]} />
      ) : null}
    </Form>
  );
};

const TeamCard = ({ team, members, manage, onChange }: { team: Team; members: Member[]; manage: boolean; onChange: () => Promise<unknown> }) => {
  const [renaming, setRenaming] = useState(false);
  const me = session()?.userId;
  const lead = team.members.some((member) => member.user_id === me && member.role === "lead");
  const inTeam = new Set(team.members.map((member) => member.user_id));
  // What a lead may do without team:manage: their own team's plain members.
  const mayRemove = (role: TeamRole) => manage || (lead && role === "member");
  const headingId = `team-${team.id}`;
  return (
    <li class="team">
      <section aria-labelledby={headingId}>
        <h3 id={headingId}>
          <Name>{team.name}</Name>
        </h3>
        {team.description ? <p>{team.description}</p> : null}
        {lead && !manage ? <p class="hint">You lead this team: you may add members to it and remove its plain members.</p> : null}
        {manage ? (
          <div class="row">
            <button type="button" class="secondary" aria-expanded={renaming} onClick={() => setRenaming(!renaming)}>
              {renaming ? "Cancel the rename" : "Rename"}
            </button>
            <ConfirmButton
              label="Delete the team"
              confirm={
                <>
                  Delete <Name>{team.name}</Name>? Its members stay in the organization.
                </>
              }
              onConfirm={async () => {
                await call(api.DELETE("/org/teams/{id}", { params: { path: { id: team.id } } }));
                await onChange();
              }}
            />
          </div>
        ) : null}
        {renaming ? (
          <RenameTeam
            team={team}
            onDone={async () => {
              setRenaming(false);
              await onChange();
            }}
          />
        ) : null}
        {team.members.length === 0 ? <Empty>No one is in this team yet.</Empty> : null}
        {team.members.length > 0 ? (
          <DataTable caption={`Members of ${team.name}`} columns={manage || lead ? ["E-mail", "Team role", "Actions"] : ["E-mail", "Team role"]}>
            {team.members.map((member) => (
              <tr key={member.user_id}>
                <td>
                  <Name>{member.email}</Name>
                  {member.user_id === me ? <span class="you"> (you)</span> : null}
                </td>
                <td>{member.role}</td>
                {manage || lead ? (
                  <td>
                    {mayRemove(member.role) ? (
                      <ConfirmButton
                        label="Remove"
                        confirm={
                          <>
                            Remove <Name>{member.email}</Name> from <Name>{team.name}</Name>?
                          </>
                        }
                        onConfirm={async () => {
                          await call(api.DELETE("/org/teams/{id}/members/{user_id}", { params: { path: { id: team.id, user_id: member.user_id } } }));
                          await onChange();
                        }}
                      />
                    ) : null}
                  </td>
                ) : null}
              </tr>
            ))}
          </DataTable>
        ) : null}
        {manage || lead ? (
          <AddToTeam team={team} candidates={members.filter((member) => !inTeam.has(member.user_id))} chooseRole={manage} onAdded={onChange} />
        ) : null}
      </section>
    </li>
  );
};

/**
 * The organization's teams and who is in each. Holders of team:manage create, rename and delete
 * teams and fill them; a team's lead adds and takes out its plain members.
 */
export const Teams = () => {
  const teams = useLoad(async () => (await call(api.GET("/org/teams"))).teams);
  const members = useLoad(allMembers);
  const manage = can("team:manage");
  return (
    <Page title="Teams">
      {manage ? (
        <>
          <h2>Create a team</h2>
          <CreateTeam onCreated={teams.reload} />
        </>
      ) : null}
      <h2>Teams</h2>
      {teams.loading && !teams.data ? <Loading what="Loading the teams" /> : null}
      <ErrorNote error={teams.error} />
      <ErrorNote error={members.error} />
      {teams.data && teams.data.length === 0 ? <Empty>No teams yet.</Empty> : null}
      {teams.data && teams.data.length > 0 ? (
        <ul class="teams">
          {teams.data.map((team) => (
            <TeamCard key={team.id} team={team} members={members.data ?? []} manage={manage} onChange={teams.reload} />
          ))}
        </ul>
      ) : null}
    </Page>
  );
};
