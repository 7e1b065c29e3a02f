import { describe, expect, it } from "vitest";
import { attemptDelivery, RESPONSE_EXCERPT_BYTES } from "../../src/domain/webhooks/deliver";

// The same attempt inside workerd, where it will run: its AbortSignal.timeout, streams and
// Headers. The receiver is an in-process `fetch` (workerd cannot listen on a socket; the real
// receiver over loopback is test/node/webhook-delivery.test.ts).

type Fetch = (input: string, init: RequestInit) => Promise<Response>;
const request = {
  url: "https://hooks.example.com/in",
  body: '{"type":"organization.created"}',
  headers: { "webhook-id": "evt_1", "Content-Type": "text/plain" },
};
const deps = (fetch: Fetch, timeoutMs = 2_000) => ({ fetch, timeoutMs, now: () => Date.now() });

describe("a delivery attempt in workerd", () => {
  it("POSTs the body as JSON, does not follow redirects, and passes a signal", async () => {
    let seen: Request | undefined;
    const result = await attemptDelivery(
      request,
      deps(async (url, init) => {
        seen = new Request(url, init);
        return new Response("thanks", { status: 202 });
      }),
    );
    expect(result).toMatchObject({ ok: true, status: 202, responseExcerpt: "thanks" });
    expect(seen?.method).toBe("POST");
    expect(seen?.redirect).toBe("manual");
    expect(seen?.headers.get("content-type")).toBe("application/json");
    expect(seen?.headers.get("webhook-id")).toBe("evt_1");
    expect(await seen?.text()).toBe(request.body);
  });

  it("counts a 3xx as a failed redirect and any other non-2xx as a failed status", async () => {
    const answer = (status: number) => deps(async () => new Response(null, { status, headers: status < 400 ? { location: "/x" } : {} }));
    expect(await attemptDelivery(request, answer(301))).toMatchObject({ ok: false, status: 301, error: "redirect" });
    expect(await attemptDelivery(request, answer(308))).toMatchObject({ ok: false, status: 308, error: "redirect" });
    expect(await attemptDelivery(request, answer(429))).toMatchObject({ ok: false, status: 429, error: "http_status" });
    expect(await attemptDelivery(request, answer(199 + 1))).toMatchObject({ ok: true, status: 200 });
    expect(await attemptDelivery(request, answer(299))).toMatchObject({ ok: true, status: 299 });
  });

  it("times out through the signal it passes", async () => {
    const hang: Fetch = (_, init) => new Promise((_, reject) => init.signal?.addEventListener("abort", () => reject(init.signal?.reason), { once: true }));
    const result = await attemptDelivery(request, deps(hang, 100));
    expect(result).toMatchObject({ ok: false, status: null, error: "timeout" });
  });

  it("reports a network failure with its message", async () => {
    const result = await attemptDelivery(
      request,
      deps(async () => {
        throw new TypeError("Network connection lost.");
      }),
    );
    expect(result).toEqual({ ok: false, status: null, latencyMs: expect.any(Number), error: "network", detail: "Network connection lost." });
  });

  it("reads at most RESPONSE_EXCERPT_BYTES of an endless body and cancels the rest", async () => {
    let pulled = 0;
    let cancelled = false;
    const chunk = `a${"é".repeat(700)}`; // 1,401 bytes
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new TextEncoder().encode(chunk));
      },
      cancel() {
        cancelled = true;
      },
    });
    const result = await attemptDelivery(
      request,
      deps(async () => new Response(endless)),
    );
    expect(result.ok).toBe(true);
    expect(RESPONSE_EXCERPT_BYTES).toBe(4096);
    // 4,096 bytes: two chunks and 1,294 bytes of the third, which cut an "é" in two (U+FFFD).
    expect(result.responseExcerpt).toBe(`${chunk}${chunk}a${"é".repeat(646)}\uFFFD`);
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThan(10);
  });
});
