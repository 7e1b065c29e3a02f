import { useState } from "preact/hooks";
import type { paths } from "../../../clients/typescript/index";
import { answer, api, call } from "../api";
import { navigate } from "../router";
import { session, signedIn, signIn, signOut } from "../session";
import { Empty, ErrorNote, Form, Link, Loading, Name, Notice, Page, useLoad } from "../ui";

type Suggestion = paths["/auth/suggestions"]["get"]["responses"][200]["content"]["application/json"]["suggestions"][number];

/**
 * One organization the address's domain opens. Joining (`auto_join`) answers a token for it, which
 * becomes the tab's session; asking (`suggest`) waits for an owner or admin, so the person signs in
 * again once let in.
 */
const SuggestionCard = ({ suggestion, email, onAsked }: { suggestion: Suggestion; email: string; onAsked: () => Promise<unknown> }) => {
  const name = suggestion.organization_name;
  const headingId = `suggestion-${suggestion.org_id}`;
  const join = async () => {
    const answer = await call(api.POST("/auth/suggestions/{org_id}/join", { params: { path: { org_id: suggestion.org_id } } }));
    if (answer.status === "joined" && answer.access_token) {
      signIn(answer.access_token, email);
      navigate("/console");
      return;
    }
    await onAsked();
  };
  return (
    <li class="suggestion">
      <section aria-labelledby={headingId}>
        <h2 id={headingId}>
          <Name>{name}</Name>
        </h2>
        <p>
          It verified <Name>{suggestion.domain}</Name>, your address's domain.{" "}
          {suggestion.policy === "auto_join"
            ? `You may join it at once, as ${suggestion.role ?? "member"}.`
            : "You may ask to join it; one of its owners or admins decides."}
        </p>
        {suggestion.requested ? (
          <Notice>
            Requested: an owner or admin of <Name>{name}</Name> decides. Once let in, sign in again to open it.
          </Notice>
        ) : (
          <Form onSubmit={join} submit={suggestion.policy === "auto_join" ? "Join" : "Ask to join"} label={`Join ${name}`}>
            {null}
          </Form>
        )}
      </section>
    </li>
  );
};

/**
 * The address not yet verified: the suggestions checked again (after following the link), or a new
 * link mailed (POST /auth/verify-email, which replaces the earlier ones: a lost or expired mail is
 * no dead end). An address the service already counts as verified loads the suggestions again.
 */
const VerifyFirst = ({ email, onCheck }: { email: string; onCheck: () => Promise<unknown> }) => {
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const mailAgain = async () => {
    setBusy(true);
    // Cleared first, so the status line changes, and is read out, on every press.
    setSent(false);
    setError(null);
    try {
      const { status } = await answer(api.POST("/auth/verify-email"));
      if (status === 202) setSent(true);
      else await onCheck();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Notice>
        Verify your address first: a link to verify <Name>{email}</Name> was mailed to it. Open it, then check again here.
      </Notice>
      <div class="row">
        <button type="button" class="secondary" onClick={onCheck}>
          Check again
        </button>
        <button type="button" class="secondary" disabled={busy} aria-busy={busy} onClick={mailAgain}>
          {busy ? "Mail the link again…" : "Mail the link again"}
        </button>
      </div>
      <div role="status">
        {sent ? (
          <p class="notice">
            A new link is on its way to <Name>{email}</Name>: it replaces the earlier ones, which no longer verify.
          </p>
        ) : null}
      </div>
      <ErrorNote error={error} />
    </>
  );
};

/**
 * Where an account goes after sign-up, or signed in while it belongs to no organization: the
 * organizations its verified address may join by its domain (GET /auth/suggestions). An unverified
 * address joins nothing, so it is asked to follow the mailed link first.
 */
export const Welcome = () => {
  const list = useLoad(async () => call(api.GET("/auth/suggestions")));
  const member = session();
  const email = list.data?.email ?? signedIn()?.email ?? "";
  const domain = email.slice(email.lastIndexOf("@") + 1);
  const signInAgain = () => {
    signOut("Sign in again to open the organization you joined.");
    navigate("/console/sign-in");
  };
  return (
    <Page title="Join your organization">
      {list.loading && !list.data ? <Loading what="Looking for your organization" /> : null}
      <ErrorNote error={list.error} />
      {list.data && !list.data.email_verified ? <VerifyFirst email={email} onCheck={list.reload} /> : null}
      {list.data?.email_verified && list.data.suggestions.length > 0 ? (
        <ul class="suggestions">
          {list.data.suggestions.map((suggestion) => (
            <SuggestionCard key={suggestion.org_id} suggestion={suggestion} email={email} onAsked={list.reload} />
          ))}
        </ul>
      ) : null}
      {list.data?.email_verified && list.data.suggestions.length === 0 ? (
        <>
          <Empty>
            No organization uses your domain (<Name>{domain}</Name>) yet: ask your organization for an invitation, or{" "}
            <Link href="/console/create">create an organization</Link>.
          </Empty>
          {member ? null : (
            <p>
              Let in to one already, or joined one as your address was verified?{" "}
              <button type="button" class="link-button" onClick={signInAgain}>
                Sign in again
              </button>{" "}
              to open it.
            </p>
          )}
        </>
      ) : null}
      {member ? (
        <p>
          <Link href="/console">Back to the console</Link>
        </p>
      ) : null}
    </Page>
  );
};
