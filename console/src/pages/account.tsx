import { useState } from "preact/hooks";
import { answer, api, call } from "../api";
import { session, signIn, signOut } from "../session";
import { ConfirmButton, ErrorNote, Form, Name, Notice, Page, PasswordField } from "../ui";

/** The signed-in member's own account: the password, the address's verification, and signing out everywhere. */
export const Account = () => {
  const current = session();
  const [currentPassword, setCurrentPassword] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [changed, setChanged] = useState(false);
  const [verification, setVerification] = useState<string | null>(null);
  const [verifyError, setVerifyError] = useState<unknown>(null);
  if (!current) return null;
  const change = async () => {
    setChanged(false);
    const answer = await call(api.POST("/admin/password", { body: { current_password: currentPassword, new_password: newPassword } }));
    // Every earlier token stopped working; this one is the session's now.
    signIn(answer.access_token, current.email);
    setCurrentPassword("");
    setNewPassword("");
    setChanged(true);
  };
  const verify = async () => {
    setVerifyError(null);
    try {
      const { status } = await answer(api.POST("/auth/verify-email"));
      setVerification(status === 200 ? "Your address is already verified." : "A verification link is on its way to your address.");
    } catch (error) {
      setVerifyError(error);
    }
  };
  return (
    <Page title="Your account">
      <dl class="facts">
        <dt>E-mail</dt>
        <dd>{current.email ? <Name>{current.email}</Name> : "–"}</dd>
        <dt>Organization</dt>
        <dd>
          <Name>{current.orgName}</Name>
        </dd>
        <dt>Role</dt>
        <dd>{current.role}</dd>
        <dt>Address</dt>
        <dd>{current.emailVerified ? "verified" : "not verified"}</dd>
      </dl>
      {current.emailVerified ? null : (
        <div class="row">
          <button type="button" onClick={verify}>
            Send a verification link
          </button>
          {verification ? <Notice>{verification}</Notice> : null}
          <ErrorNote error={verifyError} />
        </div>
      )}
      <h2>Change your password</h2>
      {changed ? <Notice>Password changed. Every other session of yours has ended.</Notice> : null}
      <Form onSubmit={change} submit="Change password" label="Change your password">
        {(error) => (
          <>
            <PasswordField label="Current password" name="current_password" value={currentPassword} onValue={setCurrentPassword} error={error} />
            <PasswordField label="New password" name="new_password" fresh value={newPassword} onValue={setNewPassword} error={error} />
          </>
        )}
      </Form>
      <h2>Sessions</h2>
      <p>Signing out here forgets this tab's session. Signing out everywhere ends every session of yours in this organization.</p>
      <ConfirmButton
        label="Sign out everywhere"
        confirm="End every session of yours?"
        onConfirm={async () => {
          await call(api.POST("/admin/logout"));
          signOut("You signed out everywhere.");
        }}
      />
    </Page>
  );
};
