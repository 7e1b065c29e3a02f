import { useEffect, useState } from "preact/hooks";

/**
 * The console's paths live under /console; the Worker answers each with the same page, so a
 * reload or a shared link opens the same view. History entries are pushed on navigation.
 */
export const BASE = "/console";

const listeners = new Set<() => void>();
const changed = () => {
  for (const listener of listeners) listener();
};
addEventListener("popstate", changed);

export const navigate = (path: string, { replace = false } = {}): void => {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  changed();
};

/** The current path (without a trailing slash) and query; re-renders on navigation. */
export const useLocation = (): { path: string; query: URLSearchParams } => {
  const [, tick] = useState(0);
  useEffect(() => {
    const listener = () => tick((n) => n + 1);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
  return { path: location.pathname.replace(/\/+$/, "") || "/", query: new URLSearchParams(location.search) };
};

/** Follows a same-origin link without a reload (modifier keys keep the browser's own behaviour). */
export const followLink = (event: MouseEvent): void => {
  const anchor = (event.currentTarget as HTMLAnchorElement | null) ?? null;
  if (!anchor || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(anchor.getAttribute("href") ?? BASE);
};

/**
 * The one-time token of a mailed link (`#token=…`): read once, then taken out of the address bar
 * and the history entry, so it is not left where the next person at the browser could find it.
 * A fragment never reaches a server, so it is in no log either.
 */
export const useFragmentToken = (): string => {
  const read = () => new URLSearchParams(location.hash.slice(1)).get("token") ?? "";
  const [token, setToken] = useState(read);
  useEffect(() => {
    const take = () => {
      if (!location.hash) return;
      setToken(read());
      history.replaceState(null, "", location.pathname + location.search);
    };
    take();
    // A second link opened in the same tab changes only the fragment: no page load, one event.
    addEventListener("hashchange", take);
    return () => removeEventListener("hashchange", take);
  }, []);
  return token;
};
