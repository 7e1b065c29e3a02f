// Builds the console (console/) into public/console: one script and one stylesheet, bundled and
// minified by esbuild (already the Worker's bundler, through wrangler), beside the page that
// loads them. The Worker serves every /console path as that page (src/http/routes/console.ts).
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const CONSOLE_OUT = join(root, "public", "console");

/** Builds the console; answers the files written, with their sizes (esbuild's metafile). */
export const buildConsole = async () => {
  const { build } = await import("esbuild");
  mkdirSync(join(CONSOLE_OUT, "assets"), { recursive: true });
  copyFileSync(join(root, "console", "index.html"), join(CONSOLE_OUT, "index.html"));
  const result = await build({
    entryPoints: { app: join(root, "console", "src", "main.tsx"), style: join(root, "console", "src", "console.css") },
    outdir: join(CONSOLE_OUT, "assets"),
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
  return Object.entries(result.metafile.outputs).map(([file, { bytes }]) => ({ file: join(root, file), bytes }));
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const { file, bytes } of await buildConsole()) console.log(`${file.slice(root.length + 1)}: ${(bytes / 1024).toFixed(1)} KiB`);
}
