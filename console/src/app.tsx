import { useEffect, useState } from "preact/hooks";
import { api, call } from "./api";
import { type ConsolePage, PAGES, pageAt } from "./pages/registry";
import { SignIn } from "./pages/sign-in";
import { navigate, useLocation } from "./router";
import { type AccountSession, can, type Session, session, signedIn, signIn, signOut, subscribe } from "./session";
import { ErrorNote, Link, Name, Page } from "./ui";

const useSession = (): Session | AccountSession | null => {
  const [, tick] = useState(0);
  useEffect(() => subscribe(() => tick((n) => n + 1)), []);
  return signedIn();
};

/** Where an account in no organization goes: the organizations its address may join. */
const WELCOME = "/console/welcome";

const allowed = (page: ConsolePage): boolean => !page.permission || can(page.permission);

/** Another organization of the same account: a fresh token for it (POST /auth/switch). */
const SwitchOrganization = () => {
  const [name, setName] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      const answer = await call(api.POST("/auth/switch", { body: { organization_name: name } }));
      signIn(answer.access_token, session()?.email ?? "");
      setOpen(false);
      setName("");
      navigate("/console");
    } catch (failure) {
      setError(failure);
    }
  };
  if (!open)
    return (
      <button type="button" class="link-button" onClick={() => setOpen(true)}>
        Switch organization
      </button>
    );
  return (
    <form class="switch" onSubmit={submit} aria-label="Switch organization">
      <label for="switch-org">Organization</label>
      <input id="switch-org" value={name} required onInput={(event) => setName((event.currentTarget as HTMLInputElement).value)} />
      <button type="submit">Switch</button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      <ErrorNote error={error} />
    </form>
  );
};

const MemberHeader = ({ current, path }: { current: Session; path: string }) => (
  <header class="top">
    <div class="top-row">
      <Link href="/console" class="brand">
        Console
      </Link>
      <span class="who">
        <Name>{current.orgName}</Name>
        <span class="role">{current.role}</span>
      </span>
      <span class="top-actions">
        <SwitchOrganization />
        <Link href="/console/account">{current.email ? <Name>{current.email}</Name> : "Your account"}</Link>
        <button type="button" class="link-button" onClick={() => signOut()}>
          Sign out
        </button>
      </span>
    </div>
    <nav aria-label="Sections">
      <ul>
        {PAGES.filter((page) => page.nav && page.audience === "member" && allowed(page)).map((page) => (
          <li key={page.path}>
            <Link href={page.path} aria-current={page.path === path ? "page" : undefined}>
              {page.title}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  </header>
);

const GuestHeader = () => (
  <header class="top">
    <div class="top-row">
      <Link href="/console" class="brand">
        Console
      </Link>
      <span class="top-actions">
        <Link href="/console/sign-in">Sign in</Link>
        <Link href="/console/create">Create an organization</Link>
      </span>
    </div>
  </header>
);

/** An account signed in to no organization: who it is, and a way out; no organization's sections. */
const AccountHeader = ({ current }: { current: AccountSession }) => (
  <header class="top">
    <div class="top-row">
      <Link href={WELCOME} class="brand">
        Console
      </Link>
      <span class="top-actions">
        {current.email ? <Name>{current.email}</Name> : null}
        <button type="button" class="link-button" onClick={() => signOut()}>
          Sign out
        </button>
      </span>
    </div>
  </header>
);

const NotFound = () => (
  <Page title="Not found">
    <p>
      There is no such page. <Link href="/console">Back to the console</Link>.
    </p>
  </Page>
);

/** Shown for the moment it takes to move elsewhere. */
const Redirecting = () => null;

const NotAllowed = () => (
  <Page title="Not available">
    <p>Your role in this organization does not allow this page.</p>
  </Page>
);

/**
 * The shell: a skip link, the header for who is signed in, and the view for the path. A member
 * page opened without a session shows the sign-in form in place, and the page itself once signed
 * in; an account in no organization is sent to the organizations it may join instead.
 */
export const App = () => {
  const current = useSession();
  const member = session();
  const { path } = useLocation();
  const page = pageAt(path);
  const needsSession = page?.audience === "member" || page?.audience === "account";
  const outsideOrganization = current !== null && member === null && page?.audience === "member";
  let View = page?.view ?? NotFound;
  if (needsSession && !current) View = SignIn;
  else if (outsideOrganization) View = Redirecting;
  else if (page?.audience === "member" && !allowed(page)) View = NotAllowed;
  useEffect(() => {
    // Signed in, the sign-in page leads to the console itself, or for an account in no organization to the ones it may join.
    if (current && path === "/console/sign-in") navigate(member ? "/console" : WELCOME, { replace: true });
    else if (outsideOrganization) navigate(WELCOME, { replace: true });
  }, [current, member, path, outsideOrganization]);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      {page?.audience === "operator" ? null : member ? (
        <MemberHeader current={member} path={path} />
      ) : current ? (
        <AccountHeader current={current} />
      ) : (
        <GuestHeader />
      )}
      <main id="main">
        <View />
      </main>
    </>
  );
};
