// A bench's own Data API client (the store's HTTP protocol, EJSON both ways, so ObjectIds and dates
// round-trip as themselves), and the median the benches report.
import { EJSON } from "bson";

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** `call(action, collection, body)` against one store: its base URL, its API key if any, one database. */
export const dataApi =
  (base, key, { database, timeoutMs }) =>
  async (action, collection, body = {}) => {
    const res = await fetch(`${base}/action/${action}`, {
      method: "POST",
      headers: { "content-type": "application/ejson", accept: "application/ejson", ...(key ? { apiKey: key } : {}) },
      body: EJSON.stringify({ dataSource: "bench", database, ...(collection ? { collection } : {}), ...body }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${action} ${collection ?? ""}: ${res.status} ${text.slice(0, 300)}`);
    return EJSON.parse(text, { relaxed: true });
  };
