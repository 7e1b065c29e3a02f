import { useState } from "preact/hooks";
import type { paths } from "../../../clients/typescript/index";
import { mayAssign } from "../../../src/domain/kernel/roles";
import { api, call } from "../api";
import { session } from "../session";
import { ConfirmButton, CopyButton, Empty, ErrorNote, Field, Form, fieldError, Loading, Name, Notice, Page, Select, Time, useLoad } from "../ui";

type Domain = paths["/org/domains"]["get"]["responses"][200]["content"]["application/json"]["domains"][number];
type Policy = NonNullable<paths["/org/domains/{id}"]["patch"]["requestBody"]>["content"]["application/json"]["policy"];
type JoinRole = NonNullable<Domain["role"]>;

const STATUS: Record<Domain["status"], string> = {
  pending: "Pending: publish this TXT record with your DNS provider, then verify.",
  verified: "Verified: people whose address is at this domain may join as its policy says.",
  lapsed: "Lapsed: the record was gone when it was looked up again. Publish it again, then verify; nobody joins by it meanwhile.",
};

const POLICIES: { value: Policy; label: string }[] = [
  { value: "none", label: "No one: invitations only" },
  { value: "suggest", label: "They ask to join; an owner or admin approves" },
  { value: "auto_join", label: "They join at once" },
];

const ClaimDomain = ({ onClaimed }: { onClaimed: () => Promise<unknown> }) => {
  const [domain, setDomain] = useState("");
  const [claimed, setClaimed] = useState<string | null>(null);
  return (
    <>
      {claimed ? (
        <Notice>
          Claimed <Name>{claimed}</Name>: publish its record, shown below, then verify it.
        </Notice>
      ) : null}
      <Form
        label="Claim a domain"
        submit="Claim"
        onSubmit={async () => {
          setClaimed(null);
          const made = await call(api.POST("/org/domains", { body: { domain } }));
          setDomain("");
          setClaimed(made.domain);
          await onClaimed();
        }}
      >
        {(error) => (
          <Field
            label="Domain"
            name="domain"
            required
            value={domain}
            onValue={setDomain}
            hint="The part of your addresses after the @, such as acme.com."
            error={fieldError(error, "domain")}
            spellcheck={false}
          />
        )}
      </Form>
    </>
  );
};

/** Looks the record up now; what the lookup found is said here, a refusal too. */
const Verify = ({ domain, onChecked }: { domain: Domain; onChecked: () => Promise<unknown> }) => {
  const [found, setFound] = useState<Domain | null>(null);
  return (
    <Form
      label={`Verify ${domain.domain}`}
      submit={domain.status === "verified" ? "Check again" : "Verify"}
      onSubmit={async () => {
        setFound(null);
        setFound(await call(api.POST("/org/domains/{id}/verify", { params: { path: { id: domain.id } } })));
        await onChecked();
      }}
    >
      {found?.status === "verified" ? <Notice>Verified: the record holds its value.</Notice> : null}
      {found && found.status !== "verified" ? <ErrorNote error={new Error(`Not verified: ${found.last_error ?? "the record was not found"}`)} /> : null}
    </Form>
  );
};

/** Who may join by the domain; `auto_join` with the role they get, admin offered only to those who may make admins. */
const PolicyForm = ({ domain, onSaved }: { domain: Domain; onSaved: () => Promise<unknown> }) => {
  const [policy, setPolicy] = useState<Policy>(domain.policy ?? "none");
  const [role, setRole] = useState<JoinRole>(domain.role ?? "member");
  const [saved, setSaved] = useState(false);
  const roles: JoinRole[] = mayAssign(session()?.role ?? "member", undefined, "admin") ? ["member", "admin"] : ["member"];
  return (
    <Form
      label={`Policy of ${domain.domain}`}
      submit="Save the policy"
      onSubmit={async () => {
        setSaved(false);
        await call(api.PATCH("/org/domains/{id}", { params: { path: { id: domain.id } }, body: policy === "auto_join" ? { policy, role } : { policy } }));
        setSaved(true);
        await onSaved();
      }}
    >
      <Select
        label={`Who may join by ${domain.domain}`}
        name="policy"
        value={policy}
        onValue={(value) => {
          setSaved(false);
          setPolicy(value as Policy);
        }}
        options={POLICIES}
      />
      {policy === "auto_join" ? <Select label="As" name="role" value={role} onValue={(value) => setRole(value as JoinRole)} options={roles} /> : null}
      {domain.status === "verified" ? null : <small class="hint">Applies once the domain is verified.</small>}
      {saved ? <Notice>Policy saved.</Notice> : null}
    </Form>
  );
};

const DomainCard = ({ domain, onChange }: { domain: Domain; onChange: () => Promise<unknown> }) => {
  const headingId = `domain-${domain.id}`;
  return (
    <li class="domain">
      <section aria-labelledby={headingId}>
        <h3 id={headingId}>
          <Name>{domain.domain}</Name>
        </h3>
        <p class={`domain-status domain-${domain.status}`}>{STATUS[domain.status]}</p>
        <dl class="facts">
          <dt>Record</dt>
          <dd>TXT</dd>
          <dt>Name</dt>
          <dd class="domain-record">
            <code>{domain.record.name}</code>
            <CopyButton text={domain.record.name} label="Copy the name" />
          </dd>
          <dt>Value</dt>
          <dd class="domain-record">
            <code>{domain.record.value}</code>
            <CopyButton text={domain.record.value} label="Copy the value" />
          </dd>
          <dt>Last looked up</dt>
          <dd>
            <Time at={domain.checked_at} />
          </dd>
          {domain.verified_at ? (
            <>
              <dt>Verified</dt>
              <dd>
                <Time at={domain.verified_at} />
              </dd>
            </>
          ) : null}
          {domain.last_error ? (
            <>
              <dt>Last lookup</dt>
              <dd>{domain.last_error}</dd>
            </>
          ) : null}
        </dl>
        <Verify domain={domain} onChecked={onChange} />
        <PolicyForm domain={domain} onSaved={onChange} />
        <ConfirmButton
          label="Delete"
          confirm={
            <>
              Release <Name>{domain.domain}</Name>? Nobody joins by it any more, and another organization may verify it.
            </>
          }
          onConfirm={async () => {
            await call(api.DELETE("/org/domains/{id}", { params: { path: { id: domain.id } } }));
            await onChange();
          }}
        />
      </section>
    </li>
  );
};

/** The domains invitations may go to; empty, any. A list typed one domain a line, saved whole. */
const InvitationDomains = () => {
  const allowed = useLoad(async () => (await call(api.GET("/org/invitation-domains"))).domains);
  const [text, setText] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  return (
    <>
      {allowed.loading && !allowed.data ? <Loading what="Loading the allowed domains" /> : null}
      <ErrorNote error={allowed.error} />
      {allowed.data ? (
        allowed.data.length === 0 ? (
          <p>Invitations may go to any address.</p>
        ) : (
          <ul class="invitation-domains" aria-label="Allowed invitation domains">
            {allowed.data.map((domain) => (
              <li key={domain}>
                <Name>{domain}</Name>
              </li>
            ))}
          </ul>
        )
      ) : null}
      {saved ? <Notice>Allowed domains saved.</Notice> : null}
      {allowed.data ? (
        <Form
          label="Allowed invitation domains"
          submit="Save the allowed domains"
          onSubmit={async () => {
            setSaved(false);
            const domains = (text ?? allowed.data?.join("\n") ?? "").split(/[\s,]+/).filter(Boolean);
            await call(api.PUT("/org/invitation-domains", { body: { domains } }));
            await allowed.reload();
            setText(null);
            setSaved(true);
          }}
        >
          <Field
            label="Allowed domains, one a line"
            name="domains"
            multiline
            rows={4}
            spellcheck={false}
            value={text ?? allowed.data.join("\n")}
            onValue={(value) => {
              setSaved(false);
              setText(value);
            }}
            hint="Empty: invitations may go to any address. Invitations already pending stay."
          />
        </Form>
      ) : null}
    </>
  );
};

/**
 * The organization's e-mail domains: claimed, proven by a TXT record the service looks up, and
 * given a policy saying whether people with an address there join at once or ask to. Also the
 * domains invitations may go to.
 */
export const Domains = () => {
  const list = useLoad(async () => (await call(api.GET("/org/domains"))).domains);
  return (
    <Page title="Domains">
      <p>
        Claim your organization's e-mail domain and prove it is yours with a DNS record. Once it is verified, people who sign up with an address there find your
        organization, and join at once or ask to, as you choose.
      </p>
      <h2>Claim a domain</h2>
      <ClaimDomain onClaimed={list.reload} />
      <h2>The organization's domains</h2>
      {list.loading && !list.data ? <Loading what="Loading the domains" /> : null}
      <ErrorNote error={list.error} />
      {list.data && list.data.length === 0 ? <Empty>No domains yet.</Empty> : null}
      {list.data && list.data.length > 0 ? (
        <ul class="domains">
          {list.data.map((domain) => (
            <DomainCard key={domain.id} domain={domain} onChange={list.reload} />
          ))}
        </ul>
      ) : null}
      <h2>Allowed invitation domains</h2>
      <InvitationDomains />
    </Page>
  );
};
