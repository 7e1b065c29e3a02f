// Builds the Worker's module for wrangler (wrangler.toml's [build] runs it before every
// `wrangler deploy` and `wrangler dev`): src/index.ts and its dependencies bundled by esbuild into
// dist/worker/index.js, then each arrow function at the module's top level written as a
// `function` expression. wrangler bundles and minifies that file as it would the source, and
// follows its source map back to src/.
//
// Why: an isolate compiles the whole script before its first request, and V8 fully parses an
// arrow function at a module's top level where it only pre-parses the same function written with
// `function`. Nearly every function of the service is a top-level `const name = (…) => …`, and
// so are many of its dependencies': rewritten, the module evaluates about a fifth faster
// (docs/benchmarks.md, "Top-level functions written as `function`"). The source keeps its arrows,
// and the tests run it as written. esbuild's own lowering of arrows is not used: it rewrites every
// arrow, and loses `this` in arrows that initialize class fields.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import remapping from "@jridgewell/remapping";
import { parse } from "acorn";
import MagicString from "magic-string";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const WORKER_OUT = join(root, "dist", "worker", "index.js");

/** Builds the Worker's module into `out` (wrangler.toml's `main`); answers its path. */
export const buildWorker = async (out = WORKER_OUT) => {
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [join(root, "src", "index.ts")],
    outfile: out,
    write: false,
    bundle: true,
    format: "esm",
    // wrangler's own target, features and module resolution (conditions), so that only the
    // arrows differ from wrangler's build of the source.
    target: "es2024",
    supported: { "import-source": true, using: true },
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    // Route summaries and descriptions are for /openapi.json, built beforehand
    // (src/build-flags.d.ts): left out of the Worker they are 4 KiB gzipped less to load and
    // parse in every isolate. The tests keep them.
    define: { __DOCS__: "false" },
    // Minified here already (wrangler minifies again, to the same): the edits below are then made
    // to the module as it ships, and the metafile's bytes are the shipped ones (npm run bundle:report).
    // BUILD_WORKER_MINIFY=false keeps the names that `npm run bench:profile` shows (it builds with
    // wrangler's --minify=false, which does not reach this build otherwise).
    minify: process.env.BUILD_WORKER_MINIFY !== "false",
    sourcemap: "external",
    metafile: true,
    logLevel: "warning",
  });
  const code = result.outputFiles.find((file) => file.path === out);
  const map = result.outputFiles.find((file) => file.path === `${out}.map`);
  if (!code || !map) throw new Error("esbuild wrote no module or no source map");
  const functions = withFunctions(code.text, basename(out));
  mkdirSync(dirname(out), { recursive: true });
  // Two builds may run at once (the deploy checks run dry runs side by side): each file is written
  // beside its place and renamed there, so that no reader ever sees half of one. A file that would
  // not change is left as it is, so that a running `wrangler dev` does not reload for nothing.
  const place = (path, text) => {
    if (existsSync(path) && readFileSync(path, "utf8") === text) return;
    const partial = join(dirname(path), `.${basename(path)}.${process.pid}`);
    writeFileSync(partial, text);
    renameSync(partial, path);
  };
  place(`${out}.map`, remapping([functions.map.toString(), map.text], () => null).toString());
  place(`${out}.meta.json`, JSON.stringify(result.metafile));
  place(out, `${functions.code}\n//# sourceMappingURL=${basename(out)}.map\n`);
  return out;
};

/** Calls `visit` on each child node of an ESTree `node`. */
const eachChild = (node, visit) => {
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") visit(value);
  }
};

/** Whether an arrow's parameters or body use what a `function` would bind anew. */
const bindsLexically = (arrow) => {
  let found = false;
  const visit = (node) => {
    if (found || !node || typeof node.type !== "string") return;
    if (node.type === "ThisExpression" || node.type === "Super" || node.type === "MetaProperty" || (node.type === "Identifier" && node.name === "arguments")) {
      found = true;
      return;
    }
    // A function or a class body binds its own; only a computed class key is evaluated outside.
    if (node.type === "FunctionExpression" || node.type === "FunctionDeclaration") return;
    if (node.type === "ClassBody") {
      for (const member of node.body) if (member.computed) visit(member.key);
      return;
    }
    eachChild(node, visit);
  };
  for (const param of arrow.params) visit(param);
  visit(arrow.body);
  return found;
};

/**
 * `code` with each arrow function at its top level (inside no function or class) rewritten as a
 * `function` expression, where that means the same: not when it reads `this`, `arguments`,
 * `super` or `new.target`, nor when it starts a statement (where `function` would declare one).
 * Answers the code and the source map of the rewrite.
 */
export const withFunctions = (code, file) => {
  const program = parse(code, { ecmaVersion: "latest", sourceType: "module" });
  const edited = new MagicString(code);
  const statementStarts = new Set();
  const rewrite = (arrow) => {
    if (statementStarts.has(arrow.start) || bindsLexically(arrow)) return false;
    const paramsEnd = arrow.params.at(-1)?.end ?? arrow.start;
    const arrowAt = code.indexOf("=>", paramsEnd);
    // Only spaces and parentheses between `=>` and the body: an arrow with a comment there is left.
    if (!/^[\s(]*$/.test(code.slice(arrowAt + 2, arrow.body.start))) return false;
    let params = code.slice(arrow.start, arrowAt).trim();
    if (arrow.async) params = params.slice("async".length).trim();
    if (!params.startsWith("(")) params = `(${params})`;
    edited.overwrite(arrow.start, arrowAt + 2, `${arrow.async ? "async " : ""}function${params}`);
    if (arrow.body.type !== "BlockStatement") {
      // At the body's first character, so that a line break after `=>` stays before `return`.
      const start = arrowAt + 2 + code.slice(arrowAt + 2, arrow.end).search(/\S/);
      edited.appendLeft(start, "{return ");
      edited.prependRight(arrow.end, "}");
    }
    return true;
  };
  const visit = (node) => {
    if (!node || typeof node.type !== "string") return;
    if (node.type === "ExpressionStatement") statementStarts.add(node.expression.start);
    if (node.type === "ArrowFunctionExpression" && rewrite(node)) return;
    if (node.type === "ArrowFunctionExpression" || node.type === "FunctionExpression" || node.type === "FunctionDeclaration" || node.type === "ClassBody")
      return;
    eachChild(node, visit);
  };
  visit(program);
  return { code: edited.toString(), map: edited.generateMap({ source: file, hires: true }) };
};

// `node scripts/build-worker.mjs [out]`: into dist/worker/index.js unless told otherwise.
if (process.argv[1] === fileURLToPath(import.meta.url)) await buildWorker(process.argv[2] ? resolve(process.argv[2]) : undefined);
