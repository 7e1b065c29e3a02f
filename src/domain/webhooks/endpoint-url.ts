/**
 * Which URLs an organization may register as a webhook endpoint. The service will POST signed
 * events to them from its own network, so a URL is also a request the service makes on a
 * stranger's behalf (server-side request forgery, as the Standard Webhooks specification warns):
 *
 * - `https:` only: the payload is signed, not encrypted. Plain `http:` only to a loopback host and
 *   only when the deployment says so (`WEBHOOK_ALLOW_HTTP_LOOPBACK=1`, local development).
 * - Loopback hosts (127.0.0.0/8, ::1, `localhost` and `*.localhost`) only under that flag, over
 *   either scheme: in production they name the service's own machine.
 * - IP literals outside public unicast space (private, link-local with the cloud metadata address
 *   169.254.169.254, carrier-grade NAT, multicast, documentation, reserved; for IPv6 anything but
 *   2000::/3 minus its documentation, 6to4 and Teredo blocks) are refused, flag or not. Such a URL is
 *   either a probe of the network the sender runs in or a mistake (no public sender can reach it).
 *   Public IP literals are allowed: some receivers have no name.
 * - Single-label names (`intranet`, resolved through the sender's DNS search list) and names under
 *   suffixes reserved for private networks (`.local`, `.internal`, `.home.arpa`, `.invalid`) are
 *   refused for the same reason.
 * - Names are not resolved here: a public name pointing at a private address (or rebinding to
 *   one) can only be stopped when the connection is made, by the delivery path's network policy.
 * - No user name or password (they would be stored and logged as part of the URL), no fragment
 *   (never sent; a URL with one is not what its owner thinks), no whitespace, control characters
 *   or backslashes (which parsers disagree about or silently drop), at most 2,048 characters
 *   before and after normalization.
 * - Any port: receivers run on 8443 and the like, and a port opens nothing the address rules shut.
 *
 * The URL is judged after WHATWG parsing, the parsing `fetch` itself applies, so that spellings
 * such as `http://0x7f.1/`, `http://2130706433/`, `http://[::ffff:127.0.0.1]/` or a percent-encoded
 * `localhost` are judged as the address they reach. The normalized form is what is stored and called.
 */

export const MAX_URL_LENGTH = 2048;

export const URL_REFUSALS = {
  too_long: `The URL is longer than ${MAX_URL_LENGTH} characters`,
  whitespace: "The URL contains whitespace or control characters",
  backslash: "The URL contains a backslash",
  invalid: "Not an absolute URL",
  scheme: "The URL must use https",
  http_not_loopback: "Plain http is allowed only to loopback hosts (127.0.0.0/8, ::1, localhost)",
  credentials: "The URL must not contain a user name or password",
  fragment: "The URL must not contain a fragment (#)",
  loopback: "Loopback hosts are not allowed",
  private_address: "The host is an IP address outside public address space",
  local_name: "The host is not a public domain name",
} as const;

export type UrlRefusal = keyof typeof URL_REFUSALS;

export type EndpointUrlCheck = { ok: true; url: string } | { ok: false; code: UrlRefusal; reason: string };

export interface EndpointUrlOptions {
  /** Plain http (and https) to loopback hosts, for local development; see allowsHttpLoopback. */
  allowHttpLoopback: boolean;
}

/** The deployment's switch: the var WEBHOOK_ALLOW_HTTP_LOOPBACK is exactly "1". */
export const allowsHttpLoopback = (env: { WEBHOOK_ALLOW_HTTP_LOOPBACK?: unknown }): boolean => env.WEBHOOK_ALLOW_HTTP_LOOPBACK === "1";

const refuse = (code: UrlRefusal): EndpointUrlCheck => ({ ok: false, code, reason: URL_REFUSALS[code] });

type HostKind = "loopback" | "non_public_ip" | "public_ip" | "local_name" | "name";

// [first address as a number, prefix length]
const NON_PUBLIC_IPV4: readonly [string, number][] = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];

const ipv4Number = (address: string): number => address.split(".").reduce((n, part) => n * 256 + Number(part), 0);

const inIpv4Block = (n: number, [first, prefix]: readonly [string, number]): boolean => {
  const size = 2 ** (32 - prefix);
  return Math.floor(n / size) === Math.floor(ipv4Number(first) / size);
};

const ipv4Kind = (n: number): HostKind => {
  if (Math.floor(n / 2 ** 24) === 127) return "loopback";
  return NON_PUBLIC_IPV4.some((block) => inIpv4Block(n, block)) ? "non_public_ip" : "public_ip";
};

// The WHATWG serializer writes IPv6 as lower-case hex groups, "::" for the longest zero run.
const ipv6Groups = (address: string): number[] => {
  const [head = "", tail] = address.split("::");
  const parse = (part: string) => (part ? part.split(":").map((g) => Number.parseInt(g, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
};

const ipv6Kind = (address: string): HostKind => {
  const g = ipv6Groups(address);
  const [g0 = 0, g1 = 0] = g;
  const zeroUpTo = (i: number) => g.slice(0, i).every((x) => x === 0);
  if (zeroUpTo(7) && g[7] === 1) return "loopback";
  // ::ffff:a.b.c.d reaches the IPv4 address a.b.c.d.
  if (zeroUpTo(5) && g[5] === 0xffff) return ipv4Kind((g[6] ?? 0) * 65536 + (g[7] ?? 0));
  const global = g0 >= 0x2000 && g0 <= 0x3fff;
  const documentation = (g0 === 0x2001 && g1 === 0x0db8) || (g0 === 0x3fff && g1 < 0x1000);
  const embedsIpv4 = g0 === 0x2002 || (g0 === 0x2001 && g1 < 0x0200); // 6to4; IETF assignments with Teredo
  return global && !documentation && !embedsIpv4 ? "public_ip" : "non_public_ip";
};

const PRIVATE_SUFFIXES = [".local", ".internal", ".home.arpa", ".invalid"];

const hostKind = (hostname: string): HostKind => {
  if (hostname.startsWith("[")) return ipv6Kind(hostname.slice(1, -1));
  if (/^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/.test(hostname)) return ipv4Kind(ipv4Number(hostname));
  const name = hostname.endsWith(".") ? hostname.slice(0, -1) : hostname;
  if (name === "localhost" || name.endsWith(".localhost")) return "loopback";
  if (!name.includes(".") || PRIVATE_SUFFIXES.some((suffix) => name.endsWith(suffix))) return "local_name";
  return "name";
};

/** The URL to store and call, normalized, or why it is refused. */
export const checkEndpointUrl = (input: string, options: EndpointUrlOptions): EndpointUrlCheck => {
  if (input.length > MAX_URL_LENGTH) return refuse("too_long");
  if (/[\s\p{Cc}]/u.test(input)) return refuse("whitespace");
  if (input.includes("\\")) return refuse("backslash");
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return refuse("invalid");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return refuse("scheme");
  // "https:host", "https:/host" and "https:///host" parse as "https://host/": one spelling only, with
  // its authority where a reader looks for it. An "@" there is a user name even when empty ("https://@host").
  const authority = /^https?:\/\/([^/?#]*)/i.exec(input)?.[1];
  if (!authority) return refuse("invalid");
  if (url.username || url.password || authority.includes("@")) return refuse("credentials");
  if (input.includes("#")) return refuse("fragment");
  const kind = hostKind(url.hostname);
  if (kind === "loopback") {
    if (!options.allowHttpLoopback) return url.protocol === "http:" ? refuse("scheme") : refuse("loopback");
  } else {
    if (url.protocol === "http:") return refuse(options.allowHttpLoopback ? "http_not_loopback" : "scheme");
    if (kind === "non_public_ip") return refuse("private_address");
    if (kind === "local_name") return refuse("local_name");
  }
  if (url.href.length > MAX_URL_LENGTH) return refuse("too_long");
  return { ok: true, url: url.href };
};

/**
 * A URL as events show it: its origin (scheme, host, port). The path and query string may carry
 * the receiver's own secret (`?token=…`), and an organization's events go to every one of its
 * endpoints, so an event never names more of an endpoint than where it is.
 */
export const redactedUrl = (url: string): string => {
  try {
    return new URL(url).origin;
  } catch {
    return "";
  }
};
