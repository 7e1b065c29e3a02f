// The Worker bundle as `wrangler deploy` would upload it, measured without deploying: Workers'
// size limit applies to the gzipped script, so that is the figure reported.
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { measureStart, startTimes } from "../scripts/bundle-report.ts";
import { ROOT, throwaway } from "./processes.mjs";

const UPLOADED = /\.(m?js|wasm)$/;

/**
 * The Worker of the project at `root`, built as `wrangler deploy` builds it (with `args`, e.g.
 * `--minify=false`) into `outdir`, without deploying; answers wrangler's output.
 */
export const buildWorker = (root, outdir, args = []) =>
  new Promise((resolve, reject) => {
    const wrangler = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
    const env = { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" };
    // wrangler.toml's [build] (scripts/build-worker.mjs) minifies on its own unless told not to.
    if (args.includes("--minify=false")) env.BUILD_WORKER_MINIFY = "false";
    const child = execFile(
      process.execPath,
      [wrangler, "deploy", "--dry-run", "--outdir", outdir, ...args],
      { cwd: root, env, timeout: 120_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`wrangler deploy --dry-run failed in ${root}:\n${stdout}\n${stderr}`)) : resolve(stdout)),
    );
    // Nothing to answer: a question from wrangler fails the build instead of waiting.
    child.stdin?.end();
  });

/**
 * Builds the bundle the servers run and measures its size. `measureStart` imports it in fresh
 * processes, never beside a running server (that would measure the server's load): the bench calls
 * it before the servers start and again once they have stopped, and each call answers the start
 * times of every sample so far, minutes apart, since the machine has slow spells of its own.
 */
export const bundleSize = async () => {
  const outdir = throwaway("oms-bundle-");
  const discard = () => rmSync(outdir, { recursive: true, force: true });
  try {
    const stdout = await buildWorker(ROOT, outdir);
    const files = readdirSync(outdir).filter((name) => UPLOADED.test(name));
    let raw = 0;
    let gzipped = 0;
    for (const name of files) {
      const bytes = readFileSync(join(outdir, name));
      raw += bytes.length;
      gzipped += gzipSync(bytes).length;
    }
    // Wrangler prints its own estimate ("Total Upload: … / gzip: … KiB"): shown beside ours as a cross-check.
    const wranglerGzipKiB = Number(stdout.match(/gzip: ([\d.]+) KiB/)?.[1]) || undefined;
    const samplesMs = [];
    const measure = async () => {
      samplesMs.push(...(await measureStart(join(outdir, "index.js"))).samplesMs);
      return startTimes(samplesMs);
    };
    return { outdir, files, raw, gzipped, wranglerGzipKiB, measureStart: measure, discard };
  } catch (error) {
    discard();
    throw error;
  }
};
