// `npm run docs:generate`: rewrites the generated sections of README.md and docs/*.md, the parts
// between `<!-- NAME:begin … -->` and `<!-- NAME:end -->`, from the figures code computes, so that
// no figure is typed by hand:
//   toc           each doc's table of contents, from its headings
//   round-trips   the data round trips per endpoint, from test/round-trips.json (which a test asserts)
//   latency       the latency model (bench/latency.ts) on the same round trips
//   image-context what `docker build` would send, counted as `npm run image:check` counts it
//   operations    every multi-step operation, its marker and steps, from src/domain/operations.ts
//   bundle        the Worker's bundle size, from docs/figures.json (written by `-- --measure`,
//                 checked by `npm run deploy:check`)
//   console-pages the console's views, from its registry (console/src/pages/registry.ts)
//   console-size  the console's script and stylesheet, built here and gzipped
// `-- --check` rewrites nothing and fails when a section is stale or a doc names an `npm run`
// script package.json does not have (CI runs it; the links are remark-validate-links' job).
// `-- --measure` builds the bundle first (wrangler deploy --dry-run) and stores its size.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { loadLatencyTrips, loadRtt, render } from "../bench/latency.ts";
import { checkContext } from "./check-image-context.ts";
import { buildConsole, CONSOLE_BUDGET_GZIP_KIB, consoleSize } from "./console-build.mjs";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..");
const FIGURES_FILE = join(ROOT, "docs", "figures.json");
const ROUND_TRIPS_FILE = join(ROOT, "test", "round-trips.json");

export interface Figures {
  bundle: { rawKiB: number; gzipKiB: number };
}

/** Sizes are shown rounded, so that a change of a few bytes does not make the docs stale. */
export const bundleFigures = (rawKiB: number, gzipKiB: number): Figures["bundle"] => ({ rawKiB: Math.round(rawKiB / 10) * 10, gzipKiB: Math.round(gzipKiB) });

export const loadFigures = (): Figures => JSON.parse(readFileSync(FIGURES_FILE, "utf8"));

interface RoundTrip {
  endpoint: string;
  roundTrips: number;
  calls: string;
}

/** GitHub's heading anchors (github-slugger), which remark-validate-links checks links against. */
export const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\p{Pc}\- ]/gu, "")
    .replace(/ /g, "-");

const toc = (markdown: string): string => {
  const lines: string[] = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = fenced ? null : /^(##|###) (.+)$/.exec(line);
    if (!heading?.[1] || !heading[2]) continue;
    const text = heading[2].replace(/`/g, "");
    lines.push(`${heading[1] === "##" ? "" : "  "}- [${text}](#${slug(heading[2])})`);
  }
  return lines.join("\n");
};

const roundTripTable = (): string => {
  const { endpoints } = JSON.parse(readFileSync(ROUND_TRIPS_FILE, "utf8")) as { endpoints: RoundTrip[] };
  const code = (endpoint: string) => endpoint.replace(/^(\S+ \S+)/, "`$1`");
  return [
    "| endpoint | round trips | the calls |",
    "| --- | ---: | --- |",
    ...endpoints.map((e) => `| ${code(e.endpoint)} | ${e.roundTrips} | ${e.calls} |`),
  ].join("\n");
};

const imageContext = (): string => {
  const { context, bytes } = checkContext(ROOT);
  return `Today that is ${context.length} files, about ${Math.round(bytes / 1024 / 10) * 10} KiB, whatever else the checkout holds.`;
};

const bundle = (): string => {
  const { rawKiB, gzipKiB } = loadFigures().bundle;
  return `Today the bundle is about ${rawKiB} KiB minified, ${gzipKiB} KiB gzipped.`;
};

/**
 * The registry's entries, read from its source: its views import the browser's globals at load,
 * so the module itself does not run in Node. A registry entry this cannot read is an error.
 */
const consolePages = (): string => {
  const source = readFileSync(join(ROOT, "console", "src", "pages", "registry.ts"), "utf8");
  const list = source.slice(source.indexOf("export const PAGES"));
  const entries = [...list.matchAll(/^ {2}\{ (.+) \},$/gm)].map(([, body]) => {
    const field = (name: string) => new RegExp(`${name}: "([^"]+)"`).exec(body ?? "")?.[1];
    const [path, title, audience] = [field("path"), field("title"), field("audience")];
    if (!path || !title || !audience) throw new Error(`console/src/pages/registry.ts: cannot read the entry { ${body} }`);
    return { path, title, audience, permission: field("permission") };
  });
  const who = (audience: string, permission?: string) =>
    audience === "guest"
      ? "anyone"
      : audience === "operator"
        ? "an operator key"
        : audience === "account"
          ? "anyone signed in, in an organization or not"
          : permission
            ? `a member whose role has \`${permission}\``
            : "any member";
  return [
    "| view | path | who may open it |",
    "| --- | --- | --- |",
    ...entries.map((e) => `| ${e.title} | \`${e.path}\` | ${who(e.audience, e.permission)} |`),
  ].join("\n");
};

/** Built into a throwaway folder; rounded to whole KiB so that a small change does not make the docs stale. */
const consoleBundle = async (): Promise<string> => {
  const dir = mkdtempSync(join(tmpdir(), "console-"));
  try {
    const { rawKiB, gzipKiB } = consoleSize(await buildConsole(dir));
    return `Today the console's script and stylesheet are about ${Math.round(rawKiB)} KiB minified, ${Math.round(gzipKiB)} KiB gzipped (budget ${CONSOLE_BUDGET_GZIP_KIB} KiB).`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

interface DeclaredOperation {
  kind: string;
  marker: string;
  steps: { name: string; afterAnswer?: true }[];
  undo?: unknown;
  flagFailed?: unknown;
}

/** The registry itself, bundled for Node (src/ imports without extensions, as the Worker's bundler wants). */
const loadOperations = async (): Promise<DeclaredOperation[]> => {
  const dir = mkdtempSync(join(tmpdir(), "operations-"));
  try {
    const outfile = join(dir, "operations.mjs");
    await build({ entryPoints: [join(ROOT, "src", "domain", "operations.ts")], outfile, bundle: true, platform: "node", format: "esm", logLevel: "warning" });
    const { OPERATIONS } = (await import(pathToFileURL(outfile).href)) as { OPERATIONS: { operation: DeclaredOperation }[] };
    return OPERATIONS.map((entry) => entry.operation);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

const operationTable = (operations: DeclaredOperation[]): string =>
  [
    "| operation | its marker | its steps, in order (⏎: after the answer, on the request path) | refused for good |",
    "| --- | --- | --- | --- |",
    ...operations.map((op) => {
      const steps = op.steps.map((step, i) => `${i + 1}. ${step.name}${step.afterAnswer ? " ⏎" : ""}`).join("<br>");
      const refused = op.undo ? "undone" : op.flagFailed ? "flagged for an operator" : "retried";
      return `| \`${op.kind}\` | ${op.marker} | ${steps} | ${refused} |`;
    }),
  ].join("\n");

const operations = await loadOperations();
const consoleSizeLine = await consoleBundle();

const SECTIONS: Record<string, (markdown: string) => string> = {
  operations: () => operationTable(operations),
  toc,
  "round-trips": roundTripTable,
  latency: () => render(loadRtt(), loadLatencyTrips(), "fra", true),
  "image-context": imageContext,
  bundle,
  "console-pages": consolePages,
  "console-size": () => consoleSizeLine,
};

// A section keeps its markers' indentation, so that one inside a list item stays in it.
const MARKERS = /^( *)(<!-- ([a-z-]+):begin \(npm run docs:generate\) -->\n)([\s\S]*?)^ *(<!-- \3:end -->)/gm;

/** The doc with every generated section rewritten; unknown section names are an error. */
export const generate = (markdown: string, file: string): string =>
  markdown.replace(MARKERS, (_, indent: string, begin: string, name: string, _old: string, end: string) => {
    const make = SECTIONS[name];
    if (!make) throw new Error(`${file}: unknown generated section "${name}"`);
    const body = make(markdown)
      .trim()
      .split("\n")
      .map((line) => (line ? indent + line : line))
      .join("\n");
    return `${indent}${begin}${body ? `${body}\n` : ""}${indent}${end}`;
  });

/** The `npm run <script>` a doc names that package.json does not define. */
export const unknownScripts = (markdown: string, scripts: Record<string, string>): string[] => {
  const named = [...markdown.matchAll(/npm run(?: -s)? ([a-z][\w:-]*)/g)].map((m) => m[1] ?? "");
  return [...new Set(named.filter((name) => !(name in scripts)))];
};

export const docFiles = (root = ROOT): string[] => [
  join(root, "README.md"),
  ...readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => join(root, "docs", f)),
];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes("--check");
  if (process.argv.includes("--measure")) {
    const { dryRun } = await import("./deploy-dry-run.ts");
    const { rawKiB, gzipKiB, failures } = await dryRun({});
    if (rawKiB === undefined || gzipKiB === undefined) throw new Error(`the bundle was not built: ${failures.join("; ")}`);
    writeFileSync(FIGURES_FILE, `${JSON.stringify({ bundle: bundleFigures(rawKiB, gzipKiB) }, null, 2)}\n`);
  }
  const { scripts } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const problems: string[] = [];
  for (const file of docFiles()) {
    const name = relative(ROOT, file);
    const markdown = readFileSync(file, "utf8");
    const fresh = generate(markdown, name);
    for (const script of unknownScripts(markdown, scripts)) problems.push(`${name} names \`npm run ${script}\`, which package.json does not define`);
    if (fresh === markdown) continue;
    if (check) {
      const stale = [...markdown.matchAll(MARKERS)].filter((m) => !fresh.includes(m[0])).map((m) => m[3]);
      problems.push(`${name}: generated section(s) ${stale.join(", ")} stale: run npm run docs:generate and commit the result`);
    } else {
      writeFileSync(file, fresh);
      console.log(`docs: rewrote ${name}`);
    }
  }
  if (problems.length > 0) {
    console.error(`docs check FAILED:\n- ${problems.join("\n- ")}`);
    process.exit(1);
  }
  console.log(check ? "docs: generated sections current, every npm script named exists" : "docs: generated sections current");
}
