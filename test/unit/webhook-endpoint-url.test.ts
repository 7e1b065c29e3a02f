import { describe, expect, it } from "vitest";
import { allowsHttpLoopback, checkEndpointUrl, MAX_URL_LENGTH, URL_REFUSALS, type UrlRefusal } from "../../src/domain/webhooks/endpoint-url";

const production = { allowHttpLoopback: false };
const development = { allowHttpLoopback: true };

// [input, the normalized URL or the refusal without the flag, the same with WEBHOOK_ALLOW_HTTP_LOOPBACK=1]
type Outcome = string | UrlRefusal;
const table: [string, Outcome, Outcome][] = [
  // accepted, normalized as fetch will call them
  ["https://hooks.example.com/in", "https://hooks.example.com/in", "https://hooks.example.com/in"],
  ["HTTPS://Hooks.Example.COM:443/a/../in?x=1&y=%20", "https://hooks.example.com/in?x=1&y=%20", "https://hooks.example.com/in?x=1&y=%20"],
  ["https://hooks.example.com:8443", "https://hooks.example.com:8443/", "https://hooks.example.com:8443/"],
  ["https://hooks.example.com./in", "https://hooks.example.com./in", "https://hooks.example.com./in"],
  ["https://bücher.example/in", "https://xn--bcher-kva.example/in", "https://xn--bcher-kva.example/in"],
  ["https://8.8.8.8/in", "https://8.8.8.8/in", "https://8.8.8.8/in"],
  ["https://[2606:4700:4700::1111]/in", "https://[2606:4700:4700::1111]/in", "https://[2606:4700:4700::1111]/in"],
  // scheme
  ["http://hooks.example.com/in", "scheme", "http_not_loopback"],
  ["ftp://hooks.example.com/in", "scheme", "scheme"],
  ["javascript:alert(1)", "scheme", "scheme"],
  ["data:application/json,{}", "scheme", "scheme"],
  ["wss://hooks.example.com/in", "scheme", "scheme"],
  // loopback: only with the flag, over either scheme, whatever its spelling
  ["http://127.0.0.1:8787/hook", "scheme", "http://127.0.0.1:8787/hook"],
  ["http://127.255.0.9/hook", "scheme", "http://127.255.0.9/hook"],
  ["https://127.0.0.1/hook", "loopback", "https://127.0.0.1/hook"],
  ["http://localhost:3000/hook", "scheme", "http://localhost:3000/hook"],
  ["http://LOCALHOST./hook", "scheme", "http://localhost./hook"],
  ["http://api.localhost/hook", "scheme", "http://api.localhost/hook"],
  ["http://[::1]:9000/hook", "scheme", "http://[::1]:9000/hook"],
  ["http://[0:0:0:0:0:0:0:1]/hook", "scheme", "http://[::1]/hook"],
  ["http://[::ffff:127.0.0.1]/hook", "scheme", "http://[::ffff:7f00:1]/hook"],
  ["http://2130706433/hook", "scheme", "http://127.0.0.1/hook"],
  ["http://0x7f.1/hook", "scheme", "http://127.0.0.1/hook"],
  ["http://%6c%6fcalhost/hook", "scheme", "http://localhost/hook"],
  ["https://localhost/hook", "loopback", "https://localhost/hook"],
  // IP literals outside public space: refused with or without the flag
  ["https://10.1.2.3/in", "private_address", "private_address"],
  ["https://172.16.0.1/in", "private_address", "private_address"],
  ["https://172.31.255.255/in", "private_address", "private_address"],
  ["https://172.32.0.1/in", "https://172.32.0.1/in", "https://172.32.0.1/in"],
  ["https://192.168.1.1/in", "private_address", "private_address"],
  ["https://169.254.169.254/latest/meta-data/", "private_address", "private_address"],
  ["https://100.64.0.1/in", "private_address", "private_address"],
  ["https://100.128.0.1/in", "https://100.128.0.1/in", "https://100.128.0.1/in"],
  ["https://0.0.0.0/in", "private_address", "private_address"],
  ["https://0/in", "private_address", "private_address"],
  ["https://198.51.100.7/in", "private_address", "private_address"],
  ["https://224.0.0.1/in", "private_address", "private_address"],
  ["https://255.255.255.255/in", "private_address", "private_address"],
  ["https://0xa9.0xfe.0xa9.0xfe/in", "private_address", "private_address"],
  ["http://192.168.1.1/in", "scheme", "http_not_loopback"],
  ["https://[::]/in", "private_address", "private_address"],
  ["https://[fd00::1]/in", "private_address", "private_address"],
  ["https://[fe80::1]/in", "private_address", "private_address"],
  ["https://[ff02::1]/in", "private_address", "private_address"],
  ["https://[::ffff:10.0.0.1]/in", "private_address", "private_address"],
  ["https://[::ffff:169.254.169.254]/in", "private_address", "private_address"],
  ["https://[64:ff9b::a00:1]/in", "private_address", "private_address"],
  ["https://[2001:db8::1]/in", "private_address", "private_address"],
  ["https://[2002:a00:1::1]/in", "private_address", "private_address"],
  ["https://[2001:0:4136:e378::1]/in", "private_address", "private_address"],
  // names that only a private network resolves
  ["https://intranet/in", "local_name", "local_name"],
  ["https://printer.local/in", "local_name", "local_name"],
  ["https://db.internal/in", "local_name", "local_name"],
  ["https://nas.home.arpa/in", "local_name", "local_name"],
  ["https://x.invalid/in", "local_name", "local_name"],
  // credentials, fragments, spellings parsers disagree about
  ["https://user:pass@hooks.example.com/in", "credentials", "credentials"],
  ["https://user@hooks.example.com/in", "credentials", "credentials"],
  ["https://@hooks.example.com/in", "credentials", "credentials"],
  ["https://:@hooks.example.com/in", "credentials", "credentials"],
  ["https://hooks.example.com/in#frag", "fragment", "fragment"],
  ["https://hooks.example.com/in#", "fragment", "fragment"],
  ["https://hooks.example.com\\@evil.example/in", "backslash", "backslash"],
  [" https://hooks.example.com/in", "whitespace", "whitespace"],
  ["https://hooks.example.com/in\n", "whitespace", "whitespace"],
  ["https://hooks.exa\tmple.com/in", "whitespace", "whitespace"],
  ["https://hooks.example.com/a b", "whitespace", "whitespace"],
  ["https://hooks.example.com/\u0000", "whitespace", "whitespace"],
  ["https://hooks.example.com/\u0085", "whitespace", "whitespace"],
  ["https:hooks.example.com/in", "invalid", "invalid"],
  ["https:/hooks.example.com/in", "invalid", "invalid"],
  ["https:///hooks.example.com/in", "invalid", "invalid"],
  ["//hooks.example.com/in", "invalid", "invalid"],
  ["hooks.example.com/in", "invalid", "invalid"],
  ["https://", "invalid", "invalid"],
  ["https://[::1/in", "invalid", "invalid"],
  ["https://999.1.1.1/in", "invalid", "invalid"],
  ["", "invalid", "invalid"],
];

const outcome = (input: string, options: { allowHttpLoopback: boolean }): Outcome => {
  const result = checkEndpointUrl(input, options);
  if (result.ok) return result.url;
  expect(result.reason).toBe(URL_REFUSALS[result.code]);
  return result.code;
};

describe("webhook endpoint URLs", () => {
  it.each(table)("%j: %s, with the loopback flag %s", (input, withoutFlag, withFlag) => {
    expect(outcome(input, production)).toBe(withoutFlag);
    expect(outcome(input, development)).toBe(withFlag);
  });

  it("are at most 2,048 characters, before and after normalization", () => {
    const base = "https://hooks.example.com/";
    const longest = base + "a".repeat(MAX_URL_LENGTH - base.length);
    expect(outcome(longest, production)).toBe(longest);
    expect(outcome(`${longest}a`, production)).toBe("too_long");
    // Each "é" is one character typed and six stored (%C3%A9).
    const expands = `${base}${"é".repeat(400)}`;
    expect(expands.length).toBeLessThan(MAX_URL_LENGTH);
    expect(outcome(expands, production)).toBe("too_long");
  });

  it("are allowed over http to loopback only when the var WEBHOOK_ALLOW_HTTP_LOOPBACK is exactly 1", () => {
    expect(allowsHttpLoopback({ WEBHOOK_ALLOW_HTTP_LOOPBACK: "1" })).toBe(true);
    for (const value of [undefined, "", "0", "true", "yes", " 1", 1]) expect(allowsHttpLoopback({ WEBHOOK_ALLOW_HTTP_LOOPBACK: value })).toBe(false);
    expect(allowsHttpLoopback({})).toBe(false);
  });

  it("answer with the message of each refusal's code", () => {
    const refused = checkEndpointUrl("http://hooks.example.com/in", production);
    expect(refused).toEqual({ ok: false, code: "scheme", reason: "The URL must use https" });
  });
});
