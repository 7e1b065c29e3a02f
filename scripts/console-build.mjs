// Builds the console (console/) into public/console: one script and one stylesheet, bundled and
// minified by esbuild (already the Worker's bundler, through wrangler), beside the page that
// loads them. The Worker serves every /console path as that page (src/http/routes/console.ts).
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const CONSOLE_OUT = join(root, "public", "console");

/** The console's script and stylesheet together, gzipped, may not grow past this (issue 28's budget). */
export const CONSOLE_BUDGET_GZIP_KIB = 60;

/** Builds the console (into `out`, public/console by default); answers the files written, with their sizes. */
export const buildConsole = async (out = CONSOLE_OUT) => {
  const { build } = await import("esbuild");
  mkdirSync(join(out, "assets"), { recursive: true });
  copyFileSync(join(root, "console", "index.html"), join(out, "index.html"));
  const result = await build({
    entryPoints: { app: join(root, "console", "src", "main.tsx"), style: join(root, "console", "src", "console.css") },
    outdir: join(out, "assets"),
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    jsx: "automatic",
    jsxImportSource: "preact",
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
  });
  return Object.keys(result.metafile.outputs).map((file) => join(process.cwd(), file));
};

/**
 * The size of the console's files as a browser downloads them: raw and gzipped (level 9), in KiB
 * with one decimal. The docs' figure and the budget's test both read it.
 */
export const consoleSize = (files) => {
  let raw = 0;
  let gzip = 0;
  for (const file of files) {
    const bytes = readFileSync(file);
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  const kib = (n) => Math.round((n / 1024) * 10) / 10;
  return { rawKiB: kib(raw), gzipKiB: kib(gzip) };
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = await buildConsole();
  const { rawKiB, gzipKiB } = consoleSize(files);
  console.log(`console: ${files.length} files, ${rawKiB} KiB, ${gzipKiB} KiB gzipped (budget ${CONSOLE_BUDGET_GZIP_KIB} KiB)`);
}
