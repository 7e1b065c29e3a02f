import { useId, useRef, useState } from "preact/hooks";
import { SERVER_FIELDS } from "../../../src/domain/records/fields";
import { api, call } from "../api";
import { navigate, useLocation } from "../router";
import { can } from "../session";
import { ConfirmButton, Empty, ErrorNote, Link, Loading, Notice, Page, Time, useLoad } from "../ui";

/** Records to a page: a screen's worth at a glance, and few enough to load at once on a phone. */
const PAGE_SIZE = 20;
const PREVIEW_CHARS = 120;
const BASE = "/console/records";

/**
 * Bidirectional controls and invisible format characters, written as the JSON escapes they are
 * equal to: a value holding a right-to-left override can then neither reorder the text around it
 * nor hide what it holds. They only ever occur inside JSON strings, so the text stays valid JSON.
 */
const HIDDEN = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** A value as JSON text for people to read (and edit): indented when `indent` is given. */
export const jsonText = (value: unknown, indent?: number): string =>
  JSON.stringify(value, null, indent).replace(HIDDEN, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);

type Fields = Record<string, unknown>;

/** What the editor works on: the record without the names the service sets (it refuses them in a body). */
const fieldsOf = (record: Fields): Fields =>
  Object.fromEntries(Object.entries(record).filter(([name]) => !(SERVER_FIELDS as readonly string[]).includes(name)));

const preview = (record: Fields): string => {
  const text = jsonText(fieldsOf(record));
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
};

const kindOf = (value: unknown): string => (value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`);

/** The line and column (from 1) of a character offset in `text`. */
const lineAndColumn = (text: string, offset: number): string => {
  const before = text.slice(0, offset).split("\n");
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
};

/**
 * What the editor holds, checked before anything is sent: it must parse, and be an object. The
 * engine's own message is kept (browsers word it differently); where it gives an offset, the line
 * and column are added and the caret is put there. Everything else is the service's to judge.
 */
const parseRecord = (text: string): { fields: Fields } | { problem: string; at?: number } => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const offset = /at position (\d+)/.exec(message)?.[1];
    if (offset === undefined) return { problem: `Not valid JSON: ${message}` };
    const at = Number(offset);
    return { problem: `Not valid JSON: ${message}${/line \d+/.test(message) ? "" : ` (${lineAndColumn(text, at)})`}`, at };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return { problem: `A record is a JSON object ({ "name": value, … }); this is ${kindOf(value)}.` };
  return { fields: value as Fields };
};

/** Said once on a record's page after the editor led there ("created", "saved"). */
let saved: { id: string; message: string } | null = null;

const savedMessageFor = (id: string): string | null => {
  const message = saved?.id === id ? saved.message : null;
  saved = null;
  return message;
};

/**
 * The JSON editor: a plain monospaced textarea. A parse error or a body that is not an object is
 * shown under it before any call; so is the service's refusal (a 422 names the offending field by
 * its path, a 413 says the body is too large), tied to the textarea for screen readers.
 */
const RecordEditor = ({ initial, submit, onSave }: { initial: string; submit: string; onSave: (fields: Fields) => Promise<void> }) => {
  const [text, setText] = useState(initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const id = useId();
  const save = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    const parsed = parseRecord(text);
    if ("problem" in parsed) {
      setError(parsed.problem);
      if (parsed.at !== undefined) {
        area.current?.focus();
        area.current?.setSelectionRange(parsed.at, parsed.at);
      }
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSave(parsed.fields);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="records-editor" onSubmit={save} aria-label="Record editor" noValidate>
      <div class="field">
        <label for={id}>Record (JSON)</label>
        <textarea
          id={id}
          ref={area}
          name="record"
          rows={14}
          spellcheck={false}
          autoCapitalize="off"
          value={text}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-hint ${id}-error` : `${id}-hint`}
          onInput={(event) => setText((event.currentTarget as HTMLTextAreaElement).value)}
        />
        <small id={`${id}-hint`} class="hint">
          A JSON object of the record's fields, at most 64 KiB. The service sets {SERVER_FIELDS.join(", ")} itself. Field names must not be empty, start with $,
          contain a dot or be __proto__.
        </small>
        {error ? (
          <p id={`${id}-error`} class="error" role="alert">
            {error instanceof Error ? error.message : String(error)}
          </p>
        ) : null}
      </div>
      <div class="row">
        <button type="submit" disabled={busy} aria-busy={busy}>
          {busy ? `${submit}…` : submit}
        </button>
      </div>
    </form>
  );
};

const loadRecord = (id: string) => call(api.GET("/org/records/{id}", { params: { path: { id } } }));

const NotAllowedToWrite = () => <p>Your role in this organization allows reading records, not changing them.</p>;

const NewRecord = () => (
  <Page title="New record" actions={<Link href={BASE}>All records</Link>}>
    {can("records:write") ? (
      <RecordEditor
        initial={"{\n  \n}"}
        submit="Create record"
        onSave={async (fields) => {
          const created = await call(api.POST("/org/records", { body: fields }));
          saved = { id: created.id, message: "Record created." };
          navigate(`${BASE}?id=${encodeURIComponent(created.id)}`);
        }}
      />
    ) : (
      <NotAllowedToWrite />
    )}
  </Page>
);

const EditRecord = ({ id }: { id: string }) => {
  const { data, error, loading } = useLoad(() => loadRecord(id), [id]);
  const view = `${BASE}?id=${encodeURIComponent(id)}`;
  return (
    <Page title="Edit record" actions={<Link href={view}>Back to the record</Link>}>
      {!can("records:write") ? (
        <NotAllowedToWrite />
      ) : error ? (
        <ErrorNote error={error} />
      ) : loading || !data ? (
        <Loading what="Loading the record" />
      ) : (
        <>
          <p class="records-id">
            Record <code>{id}</code>: saving replaces its fields; its id and creation time stay.
          </p>
          <RecordEditor
            initial={jsonText(fieldsOf(data), 2)}
            submit="Save"
            onSave={async (fields) => {
              await call(api.PUT("/org/records/{id}", { params: { path: { id } }, body: fields }));
              saved = { id, message: "Record saved." };
              navigate(view);
            }}
          />
        </>
      )}
    </Page>
  );
};

const RecordView = ({ id }: { id: string }) => {
  const { data, error, loading } = useLoad(() => loadRecord(id), [id]);
  const [notice] = useState(() => savedMessageFor(id));
  const [deleted, setDeleted] = useState(false);
  return (
    <Page title="Record" actions={<Link href={BASE}>All records</Link>}>
      {notice && !deleted ? <Notice>{notice}</Notice> : null}
      {deleted ? (
        <>
          <Notice>
            Record <code>{id}</code> deleted.
          </Notice>
          <p>
            <Link href={BASE}>Back to the records</Link>
          </p>
        </>
      ) : error ? (
        <ErrorNote error={error} />
      ) : loading || !data ? (
        <Loading what="Loading the record" />
      ) : (
        <>
          <dl class="facts">
            <dt>Id</dt>
            <dd>
              <code>{data.id}</code>
            </dd>
            <dt>Created</dt>
            <dd>
              <Time at={data.created_at} />
            </dd>
            <dt>Updated</dt>
            <dd>
              <Time at={data.updated_at} />
            </dd>
          </dl>
          <h2>As JSON</h2>
          <pre class="records-json">{jsonText(data, 2)}</pre>
          {can("records:write") ? (
            <div class="row">
              <Link href={`${BASE}?id=${encodeURIComponent(id)}&edit`} class="records-action">
                Edit
              </Link>
              <ConfirmButton
                label="Delete"
                confirm="Delete this record? It cannot be undone."
                onConfirm={async () => {
                  await call(api.DELETE("/org/records/{id}", { params: { path: { id } } }));
                  setDeleted(true);
                }}
              />
            </div>
          ) : null}
        </>
      )}
    </Page>
  );
};

/** A page of the collection, in the service's order (by id, so oldest first); the cursor is in the address, so Back returns to the page before. */
const RecordList = ({ cursor }: { cursor: string | undefined }) => {
  const { data, error, loading } = useLoad(() => call(api.GET("/org/records", { params: { query: { limit: PAGE_SIZE, cursor } } })), [cursor]);
  return (
    <Page
      title="Records"
      actions={
        can("records:write") ? (
          <Link href={`${BASE}?new`} class="records-action">
            New record
          </Link>
        ) : null
      }
    >
      <p class="hint">The organization's collection, oldest first, {PAGE_SIZE} to a page. Open a record to read it whole.</p>
      {error ? (
        <ErrorNote error={error} />
      ) : loading || !data ? (
        <Loading what="Loading records" />
      ) : data.records.length === 0 ? (
        <Empty>{cursor ? "No more records." : "No records yet."}</Empty>
      ) : (
        <div class="table-wrap">
          <table class="records-table">
            <caption class="records-caption">{cursor ? "Records, a later page" : "Records, first page"}</caption>
            <thead>
              <tr>
                <th scope="col">Record</th>
                <th scope="col">Created</th>
                <th scope="col">Updated</th>
                <th scope="col">Fields</th>
              </tr>
            </thead>
            <tbody>
              {data.records.map((record) => (
                <tr key={record.id}>
                  <td>
                    <Link href={`${BASE}?id=${encodeURIComponent(record.id)}`}>
                      <code>{record.id}</code>
                    </Link>
                  </td>
                  <td>
                    <Time at={record.created_at} />
                  </td>
                  <td>
                    <Time at={record.updated_at} />
                  </td>
                  <td class="records-preview">
                    <code>{preview(record)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor || data?.next_cursor ? (
        <nav class="records-pages" aria-label="Pages of records">
          {cursor ? <Link href={BASE}>First page</Link> : null}
          {data?.next_cursor ? <Link href={`${BASE}?cursor=${encodeURIComponent(data.next_cursor)}`}>Next page</Link> : null}
        </nav>
      ) : null}
    </Page>
  );
};

/**
 * The organization's records: `?id=` opens one, `&edit` edits it, `?new` writes a new one, and
 * `?cursor=` is a later page of the list. Each is its own address, so Back and reload work.
 */
export const Records = () => {
  const { query } = useLocation();
  const id = query.get("id");
  if (query.has("new")) return <NewRecord />;
  if (id) return query.has("edit") ? <EditRecord key={id} id={id} /> : <RecordView key={id} id={id} />;
  return <RecordList cursor={query.get("cursor") ?? undefined} />;
};
