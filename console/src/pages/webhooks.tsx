import { useState } from "preact/hooks";
import type { paths } from "../../../clients/typescript/index";
import { EVENT_TYPES } from "../../../src/domain/kernel/model";
import { api, call } from "../api";
import { ConfirmButton, DataTable, Empty, ErrorNote, Field, Form, fieldError, Loading, LoadMore, Notice, OneTimeSecret, Page, Time, useLoad } from "../ui";

type Endpoint = paths["/org/webhooks"]["get"]["responses"][200]["content"]["application/json"]["webhooks"][number];
type Delivery = paths["/org/webhooks/{id}/deliveries"]["get"]["responses"][200]["content"]["application/json"]["deliveries"][number];
type TestOutcome = paths["/org/webhooks/{id}/test"]["post"]["responses"][200]["content"]["application/json"];

/** The event types to choose from: the registry the service validates with. `webhook.test` is sent on request only. */
const CHOOSABLE = EVENT_TYPES;

const AddEndpoint = ({ onAdded }: { onAdded: (secret: string) => Promise<void> }) => {
  const [url, setUrl] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const toggle = (type: string) => setChosen((previous) => (previous.includes(type) ? previous.filter((t) => t !== type) : [...previous, type]));
  return (
    <Form
      onSubmit={async () => {
        const made = await call(api.POST("/org/webhooks", { body: { url, ...(chosen.length ? { events: chosen as (typeof EVENT_TYPES)[number][] } : {}) } }));
        setUrl("");
        setChosen([]);
        await onAdded(made.secret);
      }}
      submit="Add the endpoint"
      label="Add an endpoint"
    >
      {(error) => (
        <>
          <Field
            label="URL"
            name="url"
            type="url"
            required
            value={url}
            onValue={setUrl}
            hint="https:// to a public host; each delivery is signed (Standard Webhooks)."
            error={fieldError(error, "url")}
          />
          <fieldset class="event-types">
            <legend>Event types (none chosen: every type)</legend>
            {CHOOSABLE.map((type) => (
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

const attemptText = (delivery: Delivery) =>
  `${delivery.status}${delivery.response_status !== null ? ` (HTTP ${delivery.response_status})` : ""}${delivery.error ? `: ${delivery.error}` : ""}`;

/** The endpoint's log: each attempt, newest first, a page at a time; any attempt's event can be sent again. */
const DeliveryLog = ({ endpoint }: { endpoint: Endpoint }) => {
  const [more, setMore] = useState<{ items: Delivery[]; next: string | null }>({ items: [], next: null });
  const [queued, setQueued] = useState<string | null>(null);
  const first = useLoad(async () => {
    const page = await call(api.GET("/org/webhooks/{id}/deliveries", { params: { path: { id: endpoint.id }, query: { limit: 20 } } }));
    setMore({ items: [], next: page.next_cursor });
    return page.deliveries;
  }, [endpoint.id]);
  const items = [...(first.data ?? []), ...more.items];
  return (
    <section class="delivery-log" aria-label={`Delivery log of ${endpoint.url}`}>
      <div class="row">
        <h3>Delivery log</h3>
        <button type="button" class="secondary" onClick={() => first.reload()}>
          Refresh the log
        </button>
      </div>
      {queued ? <Notice>{queued}</Notice> : null}
      {first.loading && !first.data ? <Loading what="Loading the deliveries" /> : null}
      <ErrorNote error={first.error} />
      {first.data && items.length === 0 ? <Empty>No deliveries yet.</Empty> : null}
      {items.length > 0 ? (
        <DataTable caption="Delivery attempts, newest first" columns={["When", "Event", "Attempt", "Outcome", "Actions"]}>
          {items.map((delivery) => (
            <tr key={delivery.id} class={delivery.status === "failed" ? "failed" : ""}>
              <td>
                <Time at={delivery.at} />
              </td>
              <td>
                <code>{delivery.event_type}</code>
              </td>
              <td>
                {delivery.attempt}
                {delivery.manual ? " (by hand)" : ""}
              </td>
              <td>
                {attemptText(delivery)}, {delivery.latency_ms} ms
              </td>
              <td>
                {/* A test delivery has no event in the feed to send again: "Send a test" makes another. */}
                {endpoint.status === "enabled" && delivery.event_type !== "webhook.test" ? (
                  <ConfirmButton
                    label="Redeliver"
                    confirm="Send this event once more?"
                    danger={false}
                    onConfirm={async () => {
                      const answer = await call(
                        api.POST("/org/webhooks/{id}/deliveries/{delivery_id}/redeliver", {
                          params: { path: { id: endpoint.id, delivery_id: delivery.id } },
                        }),
                      );
                      setQueued(`Redelivery ${answer.detail}: refresh the log in a moment to see it.`);
                    }}
                  />
                ) : null}
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}
      {more.next ? (
        <LoadMore
          onMore={async () => {
            const page = await call(
              api.GET("/org/webhooks/{id}/deliveries", { params: { path: { id: endpoint.id }, query: { limit: 20, cursor: more.next ?? undefined } } }),
            );
            setMore((previous) => ({ items: [...previous.items, ...page.deliveries], next: page.next_cursor }));
          }}
        />
      ) : null}
    </section>
  );
};

const EndpointCard = ({ endpoint, onChange }: { endpoint: Endpoint; onChange: () => Promise<unknown> }) => {
  const [secret, setSecret] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<TestOutcome | null>(null);
  const [testError, setTestError] = useState<unknown>(null);
  const [open, setOpen] = useState(false);
  const disabled = endpoint.status === "disabled";
  return (
    <li class={`endpoint${disabled ? " disabled" : ""}`}>
      <h2 class="endpoint-url">
        <code>{endpoint.url}</code>
      </h2>
      <p>
        {disabled ? "Disabled" : "Enabled"} · {endpoint.events ? endpoint.events.join(", ") : "every event type"} · added <Time at={endpoint.created_at} />
      </p>
      {disabled ? (
        <p class="error" role="note">
          The service stopped calling this endpoint: {endpoint.disabled_reason ?? "it kept failing"}. A disabled endpoint is never called again; once the
          receiver works, add it anew (with a new secret) and delete this one.
        </p>
      ) : null}
      {endpoint.previous_secret_expires_at ? (
        <p class="hint">
          The previous secret signs too, beside the new one, until <Time at={endpoint.previous_secret_expires_at} />.
        </p>
      ) : null}
      {secret ? <OneTimeSecret label="Signing secret" value={secret} /> : null}
      <div class="row">
        {disabled ? null : (
          <button
            type="button"
            onClick={async () => {
              setTestError(null);
              setOutcome(null);
              try {
                setOutcome(await call(api.POST("/org/webhooks/{id}/test", { params: { path: { id: endpoint.id } } })));
              } catch (error) {
                setTestError(error);
              }
            }}
          >
            Send a test
          </button>
        )}
        <ConfirmButton
          label="Rotate the secret"
          confirm="Make a new signing secret? The old one keeps signing beside it for a day."
          danger={false}
          onConfirm={async () => {
            const rotated = await call(api.POST("/org/webhooks/{id}/rotate-secret", { params: { path: { id: endpoint.id } } }));
            setSecret(rotated.secret);
            await onChange();
          }}
        />
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
          {outcome.delivered ? "Delivered" : "Not delivered"}
          {outcome.response_status !== null ? `: HTTP ${outcome.response_status}` : ""}
          {outcome.error ? ` (${outcome.error})` : ""}, in {outcome.latency_ms} ms.
        </p>
      ) : null}
      <ErrorNote error={testError} />
      {open ? <DeliveryLog endpoint={endpoint} /> : null}
    </li>
  );
};

/** The organization's webhook endpoints: add, test, rotate, read each one's log, redeliver, delete. */
export const Webhooks = () => {
  const list = useLoad(async () => (await call(api.GET("/org/webhooks"))).webhooks);
  const [secret, setSecret] = useState<string | null>(null);
  return (
    <Page title="Webhooks">
      <AddEndpoint
        onAdded={async (made) => {
          setSecret(made);
          await list.reload();
        }}
      />
      {secret ? <OneTimeSecret label="Signing secret of the new endpoint" value={secret} /> : null}
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
