import type { AnchorHTMLAttributes, ComponentChildren } from "preact";
import { useCallback, useEffect, useId, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";
import { followLink } from "./router";

/**
 * The console's building blocks. Every value reaches the page as text (Preact sets text nodes,
 * never HTML); names and addresses go through <bdi>, so a right-to-left override inside one
 * stays inside it and cannot reorder what is around it.
 */

/** A name or an address someone else chose, isolated from the text around it. */
export const Name = ({ children }: { children: string }) => <bdi>{children}</bdi>;

export const Time = ({ at }: { at: string | undefined | null }) =>
  at ? <time dateTime={at}>{new Date(at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}</time> : <span>–</span>;

export const Link = ({ href, children, ...rest }: AnchorHTMLAttributes & { href: string }) => (
  <a href={href} onClick={followLink} {...rest}>
    {children}
  </a>
);

// The first view of a page load leaves the focus where the browser puts it (the skip link comes first).
let firstView = true;

/**
 * A view's frame: its heading takes the focus when the console moves to the view, so a screen
 * reader hears where it is, as it would after a page load.
 */
export const Page = ({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) => {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} – Console`;
    if (firstView) firstView = false;
    else heading.current?.focus();
  }, [title]);
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title" tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {actions ? <div class="page-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A refusal, in the service's words, where it happened; announced to screen readers. */
export const ErrorNote = ({ error }: { error: unknown }) =>
  error ? (
    <p class="error" role="alert">
      {messageOf(error)}
    </p>
  ) : null;

export const Notice = ({ children }: { children: ComponentChildren }) => (
  <p class="notice" role="status">
    {children}
  </p>
);

export const Loading = ({ what = "Loading" }: { what?: string }) => (
  <p class="loading" role="status" aria-live="polite">
    {what}…
  </p>
);

export const Empty = ({ children }: { children: ComponentChildren }) => <p class="empty">{children}</p>;

/** The field's message from a 422 (by the field's name), else none. */
export const fieldError = (error: unknown, name: string): string | undefined => (error instanceof ApiError ? error.fields[name] : undefined);

interface FieldProps {
  label: string;
  name: string;
  value: string;
  onValue: (value: string) => void;
  type?: "text" | "email" | "password" | "url" | "search" | "number";
  hint?: string;
  error?: string | undefined;
  required?: boolean;
  autoComplete?: string;
  multiline?: boolean;
  rows?: number;
  spellcheck?: boolean;
}

/** A labelled control with its hint and its error tied to it (aria-describedby), marked invalid when refused. */
export const Field = ({ label, name, value, onValue, type = "text", hint, error, required, autoComplete, multiline, rows = 8, spellcheck }: FieldProps) => {
  const id = useId();
  const described = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
  const common = {
    id,
    name,
    value,
    required,
    spellcheck,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": described,
    onInput: (event: Event) => onValue((event.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {multiline ? (
        <textarea {...common} rows={rows} />
      ) : (
        // Preact types `type` per role; these text-like types all take the same attributes.
        <input {...common} type={type as "text"} autoComplete={autoComplete} />
      )}
      {hint ? (
        <small id={`${id}-hint`} class="hint">
          {hint}
        </small>
      ) : null}
      {error ? (
        <small id={`${id}-error`} class="field-error">
          {error}
        </small>
      ) : null}
    </div>
  );
};

export const Select = ({
  label,
  value,
  onValue,
  options,
  name,
}: {
  label: string;
  name: string;
  value: string;
  onValue: (value: string) => void;
  options: readonly string[] | readonly { value: string; label: string }[];
}) => {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} name={name} value={value} onChange={(event) => onValue((event.currentTarget as HTMLSelectElement).value)}>
        {options.map((option) =>
          typeof option === "string" ? (
            <option key={option} value={option}>
              {option}
            </option>
          ) : (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ),
        )}
      </select>
    </div>
  );
};

/**
 * A form that calls the service: its button is busy while the call runs, and the service's
 * refusal is shown above the button (fields with their own message show it under the field).
 */
export const Form = ({
  onSubmit,
  submit,
  children,
  label,
  class: className,
}: {
  onSubmit: () => Promise<unknown>;
  submit: string;
  /** Or a function of the last refusal, for fields that show their own part of it (see fieldError). */
  children: ComponentChildren | ((error: unknown) => ComponentChildren);
  label?: string;
  class?: string;
}) => {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const handle = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await onSubmit();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class={className ?? "form"} onSubmit={handle} aria-label={label} noValidate>
      {typeof children === "function" ? children(error) : children}
      <ErrorNote error={error} />
      <button type="submit" disabled={busy} aria-busy={busy}>
        {busy ? `${submit}…` : submit}
      </button>
    </form>
  );
};

/** Loads data for a view; `reload` loads it again (after a change). */
export const useLoad = <T,>(load: () => Promise<T>, deps: unknown[] = []) => {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const generation = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setState((previous) => ({ ...previous, loading: true, error: undefined }));
    try {
      const data = await load();
      if (mine === generation.current) setState({ data, loading: false });
    } catch (error) {
      if (mine === generation.current) setState({ error, loading: false });
    }
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { ...state, reload };
};

/** Copies a value (a one-time secret, a link) to the clipboard, and says so. */
export const CopyButton = ({ text, label = "Copy" }: { text: string; label?: string }) => {
  const [done, setDone] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone("Copied");
    } catch {
      setDone("Copy failed: select the text and copy it");
    }
  };
  return (
    <span class="copy">
      <button type="button" onClick={copy}>
        {label}
      </button>
      <span role="status" aria-live="polite">
        {done ?? ""}
      </span>
    </span>
  );
};

/** A secret shown once: in a read-only field to select, with a copy button, and a warning. */
export const OneTimeSecret = ({ label, value }: { label: string; value: string }) => {
  const id = useId();
  return (
    <div class="secret">
      <label for={id}>{label}</label>
      <input id={id} readOnly value={value} onFocus={(event) => (event.currentTarget as HTMLInputElement).select()} />
      <CopyButton text={value} />
      <small class="hint">Shown once: copy it now. The service keeps only its hash.</small>
    </div>
  );
};

/**
 * A destructive action in two steps: the first press asks, the second does it. Refusals show
 * beside the button.
 */
export const ConfirmButton = ({
  label,
  confirm,
  onConfirm,
  danger = true,
}: {
  label: string;
  confirm: ComponentChildren;
  onConfirm: () => Promise<unknown>;
  danger?: boolean;
}) => {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const yes = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      setAsking(false);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="confirm">
      {asking ? (
        <>
          <span>{confirm}</span>
          <button type="button" ref={yes} class={danger ? "danger" : ""} disabled={busy} onClick={run}>
            {busy ? `${label}…` : `Yes, ${label.toLowerCase()}`}
          </button>
          <button type="button" onClick={() => setAsking(false)} disabled={busy}>
            Cancel
          </button>
        </>
      ) : (
        <button type="button" class={danger ? "danger" : ""} onClick={() => setAsking(true)}>
          {label}
        </button>
      )}
      <ErrorNote error={error} />
    </span>
  );
};

/**
 * A table of records the service listed: scrolls sideways on its own at narrow widths, its caption
 * for screen readers. The scrolling frame takes the keyboard's focus (a named region), so a table
 * with no button in it can still be scrolled without a mouse.
 */
export const DataTable = ({ caption, columns, children }: { caption: string; columns: readonly string[]; children: ComponentChildren }) => (
  // biome-ignore lint/a11y/noNoninteractiveTabindex: a frame that scrolls must be reachable by the keyboard, or a table with no button in it cannot be scrolled without a mouse.
  <section class="table-wrap" tabIndex={0} aria-label={caption}>
    <table>
      <caption class="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          {columns.map((column) => (
            <th key={column} scope="col">
              {column}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  </section>
);

/** The next page of a list, on request; a refusal shows beside the button. */
export const LoadMore = ({ onMore }: { onMore: () => Promise<unknown> }) => {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div class="row">
      <button
        type="button"
        class="secondary"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await onMore();
          } catch (failure) {
            setError(failure);
          } finally {
            setBusy(false);
          }
        }}
      >
        Load more
      </button>
      <ErrorNote error={error} />
    </div>
  );
};

/** The e-mail of an account, as every form that signs in or asks for a link takes it. */
export const EmailField = ({
  label = "E-mail",
  value,
  onValue,
  error,
}: {
  label?: string;
  value: string;
  onValue: (value: string) => void;
  error: unknown;
}) => <Field label={label} name="email" type="email" autoComplete="username" required value={value} onValue={onValue} error={fieldError(error, "email")} />;

/** A password: the account's current one, or a new one (with the service's rule as its hint). */
export const PasswordField = ({
  label = "Password",
  name = "password",
  fresh = false,
  hint,
  value,
  onValue,
  error,
}: {
  label?: string;
  name?: string;
  fresh?: boolean;
  hint?: string;
  value: string;
  onValue: (value: string) => void;
  error: unknown;
}) => (
  <Field
    label={label}
    name={name}
    type="password"
    autoComplete={fresh ? "new-password" : "current-password"}
    hint={hint ?? (fresh ? "At least 8 characters." : undefined)}
    required
    value={value}
    onValue={onValue}
    error={fieldError(error, name)}
  />
);
