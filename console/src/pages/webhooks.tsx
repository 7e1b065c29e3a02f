import { Fragment } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { paths } from "../../../clients/typescript/index";
import { ERRORS } from "../../../src/domain/kernel/errors";
import { EVENT_TYPES, type EventType } from "../../../src/domain/kernel/model";
import { DELIVERY_ERRORS } from "../../../src/domain/webhooks/deliver";
import { DISABLE_AFTER_EXHAUSTED_EVENTS, DISABLE_AFTER_FAILING_MS, MAX_ATTEMPTS } from "../../../src/domain/webhooks/schedule";
import { ROTATION_OVERLAP_MS } from "../../../src/domain/webhooks/signature";
import { ApiError, api, call } from "../api";
import { can } from "../session";
import {
  ConfirmButton,
  DataTable,
  Empty,
  ErrorNote,
  Field,
  Form,
  fieldError,
  Link,
  Loading,
  LoadMore,
  Notice,
  OneTimeSecret,
  Page,
  Time,
  useLoad,
} from "../ui";

type Endpoint = paths["/org/webhooks"]["get"]["responses"][200]["content"]["application/json"]["webhooks"][number];
type DeliveryPage = paths["/org/webhooks/{id}/deliveries"]["get"]["responses"][200]["content"]["application/json"];
type Delivery = DeliveryPage["deliveries"][number];
type TestOutcome = paths["/org/webhooks/{id}/test"]["post"]["responses"][200]["content"]["application/json"];

/** Attempts per page of the delivery log. */
const LOG_PAGE = 20;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** What an attempt's answer was: its HTTP status, and why it failed where the status does not say it. */
const answerText = (status: number | null, error: string | null): string => {
  const why = error && error !== "http_status" ? ((DELIVERY_ERRORS as Record<string, string>)[error] ?? error) : "";
  return [status === null ? "" : `HTTP ${status}`, why].filter(Boolean).join(". ") || "no answer";
};

/** An attempt's moment to the second: retries and redeliveries come seconds apart. */
const AttemptTime = ({ at }: { at: string }) => (
  <time dateTime={at}>{new Date(at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" })}</time>
);

/** An event type that may break after its dots on a narrow screen, not in the middle of a word. */
const Dotted = ({ text }: { text: string }) => (
  <>
    {text.split(".").map((part, index) => (
      <Fragment key={part}>
        {index > 0 ? (
          <>
            .<wbr />
          </>
        ) : null}
        {part}
      </Fragment>
    ))}
  </>
);

const AddEndpoint = ({ onAdded }: { onAdded: (secret: string) => Promise<void> }) => {
  const [url, setUrl] = useState("");
  const [chosen, setChosen] = useState<EventType[]>([]);
  // The service's reason for refusing a URL goes under the URL field, which takes the focus so that it is read out.
  const [refused, setRefused] = useState<{ reason: string } | null>(null);
  const urlBox = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (refused) urlBox.current?.querySelector("input")?.focus();
  }, [refused]);
  const toggle = (type: EventType) => setChosen((previous) => (previous.includes(type) ? previous.filter((t) => t !== type) : [...previous, type]));
  return (
    <Form
      onSubmit={async () => {
        setRefused(null);
        let made: { secret: string };
        try {
          // No type chosen: `events` is left out, which the service takes as every type.
          made = await call(api.POST("/org/webhooks", { body: { url, ...(chosen.length ? { events: chosen } : {}) } }));
        } catch (error) {
          if (error instanceof ApiError && error.message === ERRORS.WEBHOOK_URL_REFUSED.message) {
            setRefused({ reason: error.message });
            return;
          }
          throw error;
        }
        setUrl("");
        setChosen([]);
        await onAdded(made.secret);
      }}
      submit="Add the endpoint"
      label="Add an endpoint"
    >
      {(error) => (
        <>
          <div ref={urlBox}>
            <Field
              label="URL"
              name="url"
              type="url"
              required
              value={url}
              onValue={setUrl}
              hint="https:// to a public host: no private or local network address, no user name or password, no #fragment."
              error={refused?.reason ?? fieldError(error, "url")}
            />
          </div>
          <fieldset class="event-types">
            <legend>Event types (none chosen: every type)</legend>
            {EVENT_TYPES.map((type) => (
              <label key={type} class="check">
                <input type="checkbox" name="events" value={type} checked={chosen.includes(type)} onChange={() => toggle(type)} /> {type}
              </label>
            ))}
          </fieldset>
        </>
      )}
    </Form>
  );
};

/**
 * The endpoint's log: one row per attempt, newest first, a page at a time. A feed event's attempt
 * can be sent again; a test has no feed event behind it ("Send a test" makes another).
 * `version` changes when the card knows of a new attempt (a test it sent), to read the log again.
 */
const DeliveryLog = ({ endpoint, version }: { endpoint: Endpoint; version: number }) => {
  const [queued, setQueued] = useState<string | null>(null);
  const first = useLoad(
    () => call(api.GET("/org/webhooks/{id}/deliveries", { params: { path: { id: endpoint.id }, query: { limit: LOG_PAGE } } })),
    [endpoint.id, version],
  );
  // Older pages, kept with the first page they follow: a refresh of the first page drops them.
  const [more, setMore] = useState<{ after: DeliveryPage; items: Delivery[]; next: string | null } | null>(null);
  const older = more && more.after === first.data ? more : null;
  const items = [...(first.data?.deliveries ?? []), ...(older?.items ?? [])];
  const next = older ? older.next : (first.data?.next_cursor ?? null);
  const redeliverable = endpoint.status === "enabled";
  return (
    <section class="delivery-log" aria-label={`Delivery log of ${endpoint.url}`}>
      <div class="row">
        <h4>Delivery log</h4>
        <button type="button" class="secondary" onClick={() => first.reload()}>
          Refresh the log
        </button>
      </div>
      {queued ? <Notice>{queued}</Notice> : null}
      {first.loading && !first.data ? <Loading what="Loading the deliveries" /> : null}
      <ErrorNote error={first.error} />
      {first.data && items.length === 0 ? <Empty>No deliveries yet.</Empty> : null}
      {items.length > 0 ? (
        <DataTable caption="Delivery attempts, newest first" columns={["When", "Event and attempt", "Outcome"]}>
          {items.map((delivery) => (
            <tr key={delivery.id} class={delivery.status === "failed" ? "failed" : ""}>
              <td>
                <AttemptTime at={delivery.at} />
              </td>
              <td>
                <code>
                  <Dotted text={delivery.event_type} />
                </code>
                <small class="attempt">
                  attempt {delivery.attempt}
                  {delivery.manual ? ", by hand" : ""}
                </small>
              </td>
              <td>
                {delivery.status === "succeeded" ? "Accepted" : "Failed"}: {answerText(delivery.response_status, delivery.error)}
                <small class="attempt">{delivery.latency_ms} ms</small>
                {redeliverable && delivery.event_type !== "webhook.test" ? (
                  <ConfirmButton
                    label="Redeliver"
                    confirm={`Send this ${delivery.event_type} event once more?`}
                    danger={false}
                    onConfirm={async () => {
                      await call(
                        api.POST("/org/webhooks/{id}/deliveries/{delivery_id}/redeliver", {
                          params: { path: { id: endpoint.id, delivery_id: delivery.id } },
                        }),
                      );
                      setQueued(`Redelivery of ${delivery.event_type} queued: it is sent in a moment, ahead of newer events; refresh the log to see it.`);
                    }}
                  />
                ) : null}
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      {first.data && next ? (
        <LoadMore
          onMore={async () => {
            const after = first.data as DeliveryPage;
            const page = await call(
              api.GET("/org/webhooks/{id}/deliveries", { params: { path: { id: endpoint.id }, query: { limit: LOG_PAGE, cursor: next } } }),
            );
            setMore({ after, items: [...items.slice(after.deliveries.length), ...page.deliveries], next: page.next_cursor });
          }}
        />
      ) : null}
    </section>
  );
};

/** Why an endpoint is disabled, from the reason the service recorded, and the way back (there is no re-enabling). */
const Disabled = ({ reason }: { reason: string | null }) => (
  <div class="error" role="note">
    <p>
      <strong>Why it is disabled:</strong> {reason ?? "the service gave up on it"}. The service stops calling an endpoint that answers 410 Gone, whose URL its
      policy no longer allows, or that accepted no delivery for {DISABLE_AFTER_FAILING_MS / DAY_MS} days while {DISABLE_AFTER_EXHAUSTED_EVENTS} events in a row
      used up their {MAX_ATTEMPTS} attempts.
    </p>
    <p>
      It is never called again and cannot be turned back on: once the receiver works, at a URL the service accepts, add it as a new endpoint (with a new secret;
      it is sent the events recorded from then on) and delete this one.
      {can("audit:read") ? (
        <>
          {" "}
          What it missed is in the <Link href="/console/events">event feed</Link> (kept 30 days).
        </>
      ) : null}
    </p>
  </div>
);

const EndpointCard = ({ endpoint, onChange }: { endpoint: Endpoint; onChange: () => Promise<unknown> }) => {
  const [secret, setSecret] = useState<string | null>(null);
  const [testing, setTesting] = useState(false);
  const [outcome, setOutcome] = useState<TestOutcome | null>(null);
  const [testError, setTestError] = useState<unknown>(null);
  const [open, setOpen] = useState(false);
  const [logVersion, setLogVersion] = useState(0);
  const disabled = endpoint.status === "disabled";
  const sendTest = async () => {
    setTesting(true);
    setTestError(null);
    setOutcome(null);
    try {
      setOutcome(await call(api.POST("/org/webhooks/{id}/test", { params: { path: { id: endpoint.id } } })));
    } catch (error) {
      setTestError(error);
      // A test refused because the endpoint was disabled meanwhile (its URL no longer allowed): show it so.
      await onChange();
    } finally {
      setTesting(false);
      setLogVersion((version) => version + 1);
    }
  };
  return (
    <li class={`endpoint${disabled ? " disabled" : ""}`}>
      <h3 class="endpoint-url">
        <code>{endpoint.url}</code>
      </h3>
      <p>
        <span class={`endpoint-status ${endpoint.status}`}>{disabled ? "Disabled" : "Enabled"}</span> · receives{" "}
        {endpoint.events ? endpoint.events.join(", ") : "every event type"} · added <Time at={endpoint.created_at} />
      </p>
      {disabled ? <Disabled reason={endpoint.disabled_reason} /> : null}
      {endpoint.previous_secret_expires_at ? (
        <p class="hint">
          The previous secret signs too, beside the new one, until <Time at={endpoint.previous_secret_expires_at} />.
        </p>
      ) : null}
      {secret ? <OneTimeSecret label="New signing secret" value={secret} /> : null}
      <div class="row">
        {disabled ? null : (
          <>
            <button type="button" disabled={testing} aria-busy={testing} onClick={sendTest}>
              {testing ? "Sending a test…" : "Send a test"}
            </button>
            <ConfirmButton
              label="Rotate the secret"
              confirm={`Make a new signing secret? The current one keeps signing beside it for ${ROTATION_OVERLAP_MS / HOUR_MS} hours.`}
              danger={false}
              onConfirm={async () => {
                const rotated = await call(api.POST("/org/webhooks/{id}/rotate-secret", { params: { path: { id: endpoint.id } } }));
                setSecret(rotated.secret);
                await onChange();
              }}
            />
          </>
        )}
        <button type="button" class="secondary" aria-expanded={open} onClick={() => setOpen(!open)}>
          {open ? "Hide the delivery log" : "Show the delivery log"}
        </button>
        <ConfirmButton
          label="Delete"
          confirm="Delete this endpoint and its delivery log?"
          onConfirm={async () => {
            await call(api.DELETE("/org/webhooks/{id}", { params: { path: { id: endpoint.id } } }));
            await onChange();
          }}
        />
      </div>
      {outcome ? (
        <p class={outcome.delivered ? "notice" : "error"} role="status">
          Test delivery {outcome.delivered ? "accepted" : "failed"}: {answerText(outcome.response_status, outcome.error)}, in {outcome.latency_ms} ms.
        </p>
      ) : null}
      <ErrorNote error={testError} />
      {open ? <DeliveryLog endpoint={endpoint} version={logVersion} /> : null}
    </li>
  );
};

/** The organization's webhook endpoints: add, test, rotate, read each one's log, redeliver, delete. */
export const Webhooks = () => {
  const list = useLoad(async () => (await call(api.GET("/org/webhooks"))).webhooks);
  const [secret, setSecret] = useState<string | null>(null);
  return (
    <Page title="Webhooks">
      <p class="hint">
        The organization's events are sent to each endpoint as they happen, in order, signed as Standard Webhooks specifies. A failed delivery is tried again,
        up to {MAX_ATTEMPTS} attempts over about a day.
      </p>
      <h2>Add an endpoint</h2>
      <AddEndpoint
        onAdded={async (made) => {
          setSecret(made);
          await list.reload();
        }}
      />
      {secret ? <OneTimeSecret label="Signing secret of the new endpoint" value={secret} /> : null}
      <h2>Endpoints</h2>
      {list.loading && !list.data ? <Loading what="Loading the endpoints" /> : null}
      <ErrorNote error={list.error} />
      {list.data && list.data.length === 0 ? <Empty>No endpoints yet: add one above to receive the organization's events.</Empty> : null}
      {list.data && list.data.length > 0 ? (
        <ul class="endpoints">
          {list.data.map((endpoint) => (
            <EndpointCard key={endpoint.id} endpoint={endpoint} onChange={list.reload} />
          ))}
        </ul>
      ) : null}
    </Page>
  );
};
