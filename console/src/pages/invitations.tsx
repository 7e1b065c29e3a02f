import { useState } from "preact/hooks";
import { mayAssign, ROLES, type Role } from "../../../src/domain/kernel/roles";
import { api, call } from "../api";
import { session } from "../session";
import { ConfirmButton, DataTable, Empty, ErrorNote, Field, Form, fieldError, Loading, Name, OneTimeSecret, Page, Select, Time, useLoad } from "../ui";

/** The invitation's link: the accept view reads the token from the fragment, which no server ever receives. */
const acceptLink = (token: string) => `${location.origin}/console/accept#token=${encodeURIComponent(token)}`;

type Delivery = { status: string; attempts: number; last_error: string | null } | null;

/** A listed invitation is pending (the service lists no other); what is left to say is how its mail went. */
const statusText = (delivery: Delivery) => {
  if (!delivery) return "Pending, not mailed";
  if (delivery.status === "failed") return `Pending, the mail failed: ${delivery.last_error ?? "unknown error"}`;
  if (delivery.status === "sent") return "Pending, mailed";
  return delivery.attempts > 0 ? `Pending, mail retrying (${delivery.last_error ?? "…"})` : "Pending, mail queued";
};

/**
 * Inviting by e-mail with a role. The answer's one-time token is shown once, as the link to pass
 * on (the service keeps only its hash); with a mail transport the invitee also gets it by mail.
 */
export const Invitations = () => {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("member");
  // Only the roles this member may give: an admin invites admins and members, never an owner.
  const roles = ROLES.filter((candidate) => mayAssign(session()?.role ?? "member", undefined, candidate));
  const [link, setLink] = useState<{ id: string; email: string; url: string } | null>(null);
  const pending = useLoad(async () => (await call(api.GET("/org/invitations"))).invitations);
  const invite = async () => {
    const made = await call(api.POST("/org/invitations", { body: { email, role } }));
    setLink({ id: made.id, email: made.email, url: acceptLink(made.token) });
    setEmail("");
    await pending.reload();
  };
  return (
    <Page title="Invitations">
      <h2>Invite someone</h2>
      <Form onSubmit={invite} submit="Invite" label="Invite someone">
        {(error) => (
          <>
            <Field label="E-mail" name="email" type="email" required value={email} onValue={setEmail} error={fieldError(error, "email")} />
            <Select label="Role" name="role" value={role} onValue={(value) => setRole(value as Role)} options={roles} />
          </>
        )}
      </Form>
      {link ? (
        <div class="invitation-link">
          <p>
            Invitation for <Name>{link.email}</Name> made. Pass on this link; it works once, until the invitation expires.
          </p>
          <OneTimeSecret label="Invitation link" value={link.url} />
        </div>
      ) : null}
      <h2>Pending</h2>
      {pending.loading && !pending.data ? <Loading what="Loading the invitations" /> : null}
      <ErrorNote error={pending.error} />
      {pending.data && pending.data.length === 0 ? <Empty>No pending invitations.</Empty> : null}
      {pending.data?.some((invitation) => invitation.delivery === null) ? (
        <p class="hint">"Not mailed": the service has no mail transport (or has not queued the mail yet); pass the link on yourself.</p>
      ) : null}
      {pending.data && pending.data.length > 0 ? (
        <DataTable caption="Pending invitations" columns={["E-mail", "Role", "Expires", "Status", "Actions"]}>
          {pending.data.map((invitation) => (
            <tr key={invitation.id}>
              <td>
                <Name>{invitation.email}</Name>
              </td>
              <td class="invitation-role">{invitation.role}</td>
              <td>
                <Time at={invitation.expires_at} />
              </td>
              <td>{statusText(invitation.delivery)}</td>
              <td class="invitation-actions">
                <ConfirmButton
                  label="Revoke"
                  confirm={
                    <>
                      Revoke the invitation for <Name>{invitation.email}</Name>?
                    </>
                  }
                  onConfirm={async () => {
                    await call(api.DELETE("/org/invitations/{id}", { params: { path: { id: invitation.id } } }));
                    // A revoked invitation's link is dead: it is not left on show.
                    if (link?.id === invitation.id) setLink(null);
                    await pending.reload();
                  }}
                />
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
    </Page>
  );
};
