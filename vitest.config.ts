import { availableParallelism } from "node:os";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { LongFilesFirst } from "./test/long-files-first";

// With DATA_API_URL set (npm run test:mongo), the Worker under test, and the gateway contract
// suite, use the MongoDB gateway at that URL instead of the embedded Durable Object store.
const gateway: Record<string, string> = process.env.DATA_API_URL
  ? { DATA_API_URL: process.env.DATA_API_URL, DATA_API_KEY: process.env.DATA_API_KEY ?? "", DATA_API_SERVER: process.env.DATA_API_SERVER ?? "" }
  : {};

// With MAILPIT_SMTP_PORT set (scripts/with-mailpit.sh), the Worker under test mails over plain SMTP
// to that Mailpit on loopback and the mail suites read what it received from MAILPIT_API_URL;
// without it, the transport is `none` and those suites are skipped.
const mailpit: Record<string, string> = process.env.MAILPIT_SMTP_PORT
  ? {
      MAIL_TRANSPORT: "smtp",
      SMTP_HOST: "127.0.0.1",
      SMTP_PORT: process.env.MAILPIT_SMTP_PORT,
      SMTP_SECURITY: "off",
      // Mailpit accepts any credentials: set, so the client's AUTH is exercised too.
      SMTP_USER: "worker",
      SMTP_PASSWORD: "test-only",
      MAILPIT_API_URL: process.env.MAILPIT_API_URL ?? "",
    }
  : {};

// With DNS_DOH_URL set (scripts/with-dns.sh), the Worker under test resolves through that throwaway
// server (test/dns), and the suites publish the records it answers with at DNS_CONTROL_URL; without
// it, on a port where nothing listens, so a lookup fails at once instead of leaving the machine, and
// suites that need DNS are skipped.
const dns: Record<string, string> = process.env.DNS_DOH_URL
  ? { DNS_RESOLVER_URL: process.env.DNS_DOH_URL, DNS_CONTROL_URL: process.env.DNS_CONTROL_URL ?? "" }
  : { DNS_RESOLVER_URL: "http://127.0.0.1:9/dns-query" };

// FUZZ_SEED / FUZZ_RUNS from the shell reach the property-based suite (test/worker/fuzz.test.ts).
const fuzz: Record<string, string> = Object.fromEntries(["FUZZ_SEED", "FUZZ_RUNS"].flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])));

/** A background task that failed because a test made the store unavailable (src/deps.ts, keepAlive). */
const EXPECTED_BACKGROUND_FAILURE = /^\{"msg":"background task failed","error":"DataUnavailableError: /;

// The Worker suite runs inside workerd (Miniflare) with the real Durable Object store.
export default defineConfig({
  // Route documentation is kept where tests run (src/build-flags.d.ts); the deployed Worker drops it.
  define: { __DOCS__: "true" },
  plugins: [
    cloudflareTest({
      // Not workerd's --verbose (the plugin's default), which reports every exception thrown to
      // JavaScript, handled or not, as an "uncaught exception" with a native stack: each refused
      // connection of a test that points the Worker at a dead store (test/worker/availability.test.ts,
      // the sweep's 503s) or a webhook at an unreachable host printed two of them although the code
      // caught it (815 of them in one run). Exceptions nobody handles still reach vitest, which
      // fails the run on any unhandled error.
      verbose: false,
      wrangler: { configPath: "./wrangler.toml" },
      // The source as written, not wrangler.toml's `main` (the module scripts/build-worker.mjs
      // builds for deploys, which differs only in how its top-level functions are written).
      main: "./src/index.ts",
      miniflare: {
        bindings: {
          // Test-only secret; deployed Workers get theirs from `wrangler secret put`.
          JWT_SECRET: "test-secret-0123456789abcdef0123456789abcdef",
          // Test-only operator keys (test/helpers.ts names them): one that reads, one that acts.
          PLATFORM_API_KEYS: "ops-read:read:test-platform-read-0123456789abcdef01,ops-write:write:test-platform-write-0123456789abcdef0",
          // The lowest cost the settings accept: the suites hash thousands of passwords, and at the
          // production default (test/unit/passwords.test.ts checks it) that alone took minutes.
          // Cost-specific behaviour (rehashing at login, the default) has tests of its own.
          PBKDF2_ITERATIONS: "10000",
          // Refused password checks answer at once: the surface suites send hundreds, and the beat
          // (50 ms by default) would add its wait to each. test/worker/login-timing.test.ts runs
          // with the default and security.test.ts with a beat of its own.
          LOGIN_FAILURE_BEAT_MS: "0",
          // Webhook deliveries to the suites' own receiver on loopback (test/node/receiver.ts), the
          // retry schedule a thousand times shorter (5 ms, 300 ms, 1.8 s, …), attempts cut at 1 s.
          WEBHOOK_ALLOW_HTTP_LOOPBACK: "1",
          WEBHOOK_SCHEDULE_DIVISOR: "1000",
          WEBHOOK_TIMEOUT_MS: "1000",
          // The sender and where links point, set whatever the transport: mail tests check the wording.
          MAIL_FROM: "accounts@service.test",
          MAIL_FROM_NAME: "Org Service",
          MAIL_LINK_BASE_URL: "https://app.service.test/",
          ...gateway,
          ...mailpit,
          ...dns,
          ...fuzz,
        },
        // A key's allowance small enough to spend in a test (test/worker/api-keys.test.ts), beside
        // the configured ones wrangler.toml declares.
        ratelimits: { SMALL_KEY_RATE_LIMITER: { namespace_id: "9001", simple: { limit: 5, period: 60 } } },
        // Cloudflare's Email Service as Miniflare simulates it, for MAIL_TRANSPORT=send_email
        // (test/worker/mail-send-email.test.ts): restricted as an operator may restrict it, so
        // that a refusal can be provoked.
        email: {
          send_email: [
            {
              name: "SEND_EMAIL",
              allowed_sender_addresses: ["accounts@service.test"],
              allowed_destination_addresses: ["member@email-service.test", "named@email-service.test"],
            },
          ],
        },
      },
    }),
  ],
  test: {
    // Node-side suites (gateway, browser) have their own configs.
    include: ["test/{unit,worker,store,contract}/**/*.test.ts"],
    testTimeout: 30_000,
    // Two test files at a time even on two cores (vitest's default leaves one idle): the suites
    // wait on workerd, the gateway and FerretDB as much as they compute, and this halves the run.
    // Through the gateway a file waits on FerretDB more than it computes (two files kept two
    // cores 80% busy), so a third file goes beside them.
    maxWorkers: Math.max(process.env.DATA_API_URL ? 3 : 2, availableParallelism() - 1),
    // Small files that run for minutes go first (test/long-files-first.ts).
    sequence: { sequencer: LongFilesFirst },
    // The webhook receiver (Node: workerd cannot listen), reached by the Worker over loopback.
    globalSetup: ["test/contract/mongo-hint.ts", "test/node/receiver.ts"],
    // The Worker logs one JSON line per request; keep test output to what failed. The suites also
    // cut the store off on purpose (faults, races, the sweep's 503s): the after-the-answer work it
    // then logs as failed (audit, publishing, lease release) is what they provoke. Any other
    // background failure still prints.
    onConsoleLog: (log) => !log.startsWith('{"request_id"') && !EXPECTED_BACKGROUND_FAILURE.test(log),
    // One line per test file, the failures and the summary: tests slower than this are listed too.
    slowTestThreshold: 10_000,
  },
});
