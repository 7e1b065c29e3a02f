// `npm start`: runs the Worker with `wrangler dev` on the embedded store. Before that it makes
// sure a local JWT_SECRET exists in .dev.vars (random, never committed), and that the docs
// assets are in place. Arguments after `npm start --` go to wrangler unchanged.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const devVars = join(root, ".dev.vars");
const current = existsSync(devVars) ? readFileSync(devVars, "utf8") : "";
if (!/^JWT_SECRET\s*=/m.test(current)) {
  const line = `JWT_SECRET="${randomBytes(32).toString("hex")}"\n`;
  writeFileSync(devVars, current && !current.endsWith("\n") ? `${current}\n${line}` : current + line, { mode: 0o600 });
  console.log("Wrote a random local JWT_SECRET to .dev.vars");
}
await import("./docs-assets.mjs");

const args = process.argv.slice(2);
const hasFlag = (flag) => args.some((a) => a === flag || a.startsWith(`${flag}=`));
const defaults = [...(hasFlag("--ip") ? [] : ["--ip", "127.0.0.1"]), ...(hasFlag("--port") ? [] : ["--port", "8787"])];
const wrangler = join(root, "node_modules", "wrangler", "bin", "wrangler.js");
const child = spawn(process.execPath, [wrangler, "dev", ...defaults, ...args], { stdio: "inherit", cwd: root });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
