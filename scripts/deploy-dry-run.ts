// `npm run deploy:check [-- <config>]`: builds the production bundle exactly as `wrangler deploy` would, with
// no account and no upload (`--dry-run --outdir`), and fails where a real deploy would break or
// would quietly deploy something other than what wrangler.toml says, or where the bundle has
// outgrown the service's budget (BUDGET_GZIP_KIB).
//
// Why a warning fails the check: the warnings wrangler prints before an upload are about
// configuration it will ignore or reinterpret (an unknown or misspelled field, such as
// `placment`, is dropped and the Worker deploys without it) and about the bundle (esbuild's
// warnings mark code that behaves differently once bundled, such as an import with no matching
// export, which is `undefined` at run time). Either way the deploy "succeeds" with a Worker the
// tests never saw. A warning known to be harmless goes in ACCEPTED with the reason.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..");
const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

/** Warnings that would not change what is deployed: [substring of the warning, why it is harmless]. */
export const ACCEPTED: readonly (readonly [text: string, why: string])[] = [
  [
    "Turning on Smart Placement in a Worker that is using assets and run_worker_first",
    "The only assets are the scripts of /docs and /redoc. They go through the Worker on purpose, so " +
      "that they carry the security headers and a request id like every other answer; with Smart " +
      "Placement they are then served from where the Worker runs, a slower docs page, while the API " +
      "(what placement is for) is unaffected. Nothing deployed differs from wrangler.toml.",
  ],
];

/**
 * Workers Free refuses a Worker above 3 MB after compression (Paid: 10 MB); the lower limit keeps
 * the service deployable on either plan.
 */
export const MAX_GZIP_KIB = (3 * 1000 * 1000) / 1024;

/**
 * The service's own budget, far below the platform's: an isolate parses and compiles the whole
 * script before its first request, so every KiB is paid again at each cold start. Growing past
 * it is a decision to take (and to write down here), not an accident of an import.
 */
export const BUDGET_GZIP_KIB = 133;
// 110 until e-mail: the SMTP client (worker-mailer, about 5 KiB gzipped, chosen over writing SMTP
// ourselves), the mail outbox and its dispatcher, and the account routes brought it to about 118;
// 120 with the rest of e-mail; 121 with the fenced record insert (insertOneFenced), which takes a
// store call out of every record write; 126 with verified domains (the DNS-over-HTTPS client, the
// claims and their re-verification, and email-providers' list of public mail domains, about 2 KiB);
// 130 with joining by domain (sign-up, account tokens, policies, suggestions, join requests: about 4 KiB);
// 131 with the store's direct filters; 132 with top-level arrow functions written as `function`
// (scripts/build-worker.mjs): about 1 KiB more to load, and a fifth less time to compile it; 133
// with the embedded store's cache of recent reads (src/store/read-cache.ts, about 0.9 KiB), which
// answers a repeated read such as GET /org/get's without its checks or its SQLite query.

// Wrangler colours its output; the checks read the text.
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC.
const stripAnsi = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, "");

/**
 * Reads a dry run's output: each warning and error with the indented lines that explain it, the
 * bundle size, and what makes the deploy fail.
 */
export interface Assessment {
  warnings: string[];
  errors: string[];
  rawKiB?: number;
  gzipKiB?: number;
  /** Why a real deploy would break or differ from wrangler.toml; empty when it would not. */
  failures: string[];
}

export const assess = (output: string, { status = 0, accepted = ACCEPTED } = {}): Assessment => {
  const lines = stripAnsi(output).split("\n");
  const blocks = (marker: string) => {
    const found: string[] = [];
    lines.forEach((line, i) => {
      if (!line.includes(marker)) return;
      // The explanation follows, indented, until the next unindented line.
      const detail: string[] = [];
      for (const next of lines.slice(i + 1, i + 40)) {
        if (next.trim() !== "" && !next.startsWith(" ")) break;
        if (next.trim()) detail.push(next.trim());
      }
      found.push([line.slice(line.indexOf(marker) + marker.length).trim(), ...detail].join(" "));
    });
    return found;
  };
  const warnings = blocks("▲ [WARNING]");
  const errors = blocks("✘ [ERROR]");
  const size = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(stripAnsi(output));
  const gzipKiB = size ? Number(size[2]) : undefined;
  const failures: string[] = [];
  if (status !== 0) failures.push(`wrangler exited with ${status}`);
  for (const e of errors) failures.push(`error: ${e}`);
  for (const w of warnings) {
    if (!accepted.some(([text]) => w.includes(text))) failures.push(`warning: ${w}`);
  }
  if (gzipKiB === undefined) failures.push("no bundle size in the output: the bundle was not built");
  else if (gzipKiB > MAX_GZIP_KIB) failures.push(`bundle ${gzipKiB} KiB gzipped, over the ${MAX_GZIP_KIB.toFixed(0)} KiB a Workers Free deploy accepts`);
  else if (gzipKiB > BUDGET_GZIP_KIB) failures.push(`bundle ${gzipKiB} KiB gzipped, over the service's budget of ${BUDGET_GZIP_KIB} KiB`);
  return { warnings, errors, rawKiB: size ? Number(size[1]) : undefined, gzipKiB, failures };
};

const wrangler = (args: string[], cwd: string): Promise<{ output: string; status: number }> =>
  new Promise((resolve) => {
    // No usage metrics from CI; colour off so the output reads the same in a log.
    const env = { ...process.env, WRANGLER_SEND_METRICS: "false", FORCE_COLOR: "0", NO_COLOR: "1" };
    execFile(process.execPath, [WRANGLER, ...args], { cwd, env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error && typeof error.code === "number" ? error.code : error ? 1 : 0;
      resolve({ output: `${stdout}${stderr}`, status: code });
    });
  });

/**
 * Runs `wrangler deploy --dry-run` on a configuration and returns its assessment. `inspect` reads
 * the built files (index.js and its source map) before the folder is removed.
 */
export const dryRun = async <T = never>({
  config = join(ROOT, "wrangler.toml"),
  cwd = ROOT,
  inspect,
}: {
  config?: string;
  cwd?: string;
  inspect?: (outdir: string) => T | Promise<T>;
} = {}): Promise<Assessment & { output: string; inspected?: T }> => {
  const outdir = mkdtempSync(join(tmpdir(), "deploy-dry-run-"));
  try {
    const { output, status } = await wrangler(["deploy", "--dry-run", "--outdir", outdir, "--config", config], cwd);
    const verdict = assess(output, { status });
    const built = existsSync(join(outdir, "index.js"));
    if (verdict.failures.length === 0 && !built) verdict.failures.push("no index.js in the output folder");
    return { ...verdict, output, inspected: built && inspect ? await inspect(outdir) : undefined };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const config = process.argv[2];
  const { output, failures, warnings, rawKiB, gzipKiB } = await dryRun(config ? { config } : {});
  process.stdout.write(output.endsWith("\n") ? output : `${output}\n`);
  console.log(`deploy dry run: bundle ${rawKiB} KiB, ${gzipKiB} KiB gzipped (budget ${BUDGET_GZIP_KIB} KiB); ${warnings.length} warning(s)`);
  if (failures.length > 0) {
    console.error(`deploy dry run FAILED, a real deploy would break or differ from wrangler.toml:\n- ${failures.join("\n- ")}`);
    process.exit(1);
  }
  // The docs show the bundle's size (docs/figures.json, rounded): a size that moved is a stale doc.
  if (!config && rawKiB !== undefined && gzipKiB !== undefined) {
    const { bundleFigures, loadFigures } = await import("./docs.ts");
    const stored = loadFigures().bundle;
    const measured = bundleFigures(rawKiB, gzipKiB);
    if (stored.rawKiB !== measured.rawKiB || stored.gzipKiB !== measured.gzipKiB) {
      console.error(
        `deploy dry run: the docs say ${stored.rawKiB} KiB, ${stored.gzipKiB} KiB gzipped; measured ${measured.rawKiB}, ${measured.gzipKiB}: run npm run docs:generate -- --measure and commit the result`,
      );
      process.exit(1);
    }
  }
  console.log("deploy dry run: OK");
}
