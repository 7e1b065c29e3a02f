// `npm start`: runs the Worker with `wrangler dev` on the embedded store. Before that it makes
// sure a local JWT_SECRET exists in .dev.vars (random, never committed), and that the docs
// assets are in place. Arguments after `npm start --` go to wrangler unchanged. `npm run
// start:mail` runs it beside a throwaway Mailpit, mailing there.
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
// Under scripts/with-mailpit.sh (`npm run start:mail`): mail goes over SMTP to that Mailpit, and
// its web page shows what arrived. A MAIL_TRANSPORT given with --var wins.
if (process.env.MAILPIT_SMTP_PORT && !args.some((a) => a.startsWith("MAIL_TRANSPORT:"))) {
  const mail = {
    MAIL_TRANSPORT: "smtp",
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: process.env.MAILPIT_SMTP_PORT,
    SMTP_SECURITY: "off",
    // Mailpit takes any credentials, and a server that offers AUTH expects some.
    SMTP_USER: "local",
    SMTP_PASSWORD: "local-only",
    MAIL_FROM: "accounts@localhost.test",
    // The console answers the mailed links (docs/console.md).
    MAIL_LINK_BASE_URL: "http://127.0.0.1:8787/console/",
  };
  args.push(...Object.entries(mail).flatMap(([name, value]) => ["--var", `${name}:${value}`]));
  console.log(`Mail goes to Mailpit: read it at ${process.env.MAILPIT_API_URL}`);
}
const defaults = [...(hasFlag("--ip") ? [] : ["--ip", "127.0.0.1"]), ...(hasFlag("--port") ? [] : ["--port", "8787"])];
const wrangler = join(root, "node_modules", "wrangler", "bin", "wrangler.js");
// Quiet offline: wrangler's banner asks the registry for a newer wrangler (the version is pinned
// in package.json on purpose), its telemetry posts to Cloudflare, and Miniflare fetches a sample
// `request.cf` from workers.cloudflare.com (the service reads no `request.cf`); offline each
// printed a notice or a getaddrinfo stack trace. Any of these set in the environment wins.
const quiet = { WRANGLER_HIDE_BANNER: "true", WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const env = { ...quiet, ...process.env };
const { version } = JSON.parse(readFileSync(join(root, "node_modules", "wrangler", "package.json"), "utf8"));
if (env.WRANGLER_HIDE_BANNER === "true") console.log(`wrangler ${version} dev`);
const child = spawn(process.execPath, [wrangler, "dev", ...defaults, ...args], { stdio: "inherit", cwd: root, env });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
