import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkContext, FORBIDDEN, REQUIRED } from "../../scripts/check-image-context";

const ROOT = join(import.meta.dirname, "..", "..");

/**
 * What a developer's checkout holds after `npm start`, `npm test` and `npm run test:mongo`, plus
 * the same kinds of files one folder down, where a .gitignore-style rule would miss them.
 */
const LEFT_BEHIND = [
  ".dev.vars",
  ".dev.vars.production",
  ".env",
  ".wrangler/state/v3/do/org-management-service-DataStore/abc.sqlite",
  ".wrangler/tmp/bundle/index.js",
  ".cache/ferretdb/ferretdb",
  "node_modules/zod/package.json",
  "node_modules/.bin/wrangler",
  ".git/HEAD",
  "dist/gateway/server.mjs",
  "coverage/index.html",
  "npm-debug.log",
  "public/docs-assets/swagger-ui-bundle.js",
  "gateway/gateway.log",
  "gateway/node_modules/x/index.js",
  "src/.dev.vars",
  "src/.env.local",
  "scripts/dist/x.js",
  "server.pem",
];

let checkout: string;

beforeAll(() => {
  // The tracked files as a fresh clone has them, then everything a working checkout adds.
  checkout = mkdtempSync(join(tmpdir(), "image-context-"));
  const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter(Boolean);
  for (const file of tracked) {
    mkdirSync(dirname(join(checkout, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(checkout, file));
  }
  // The .dockerignore under test is the working tree's, committed or not.
  copyFileSync(join(ROOT, ".dockerignore"), join(checkout, ".dockerignore"));
  for (const file of LEFT_BEHIND) {
    mkdirSync(dirname(join(checkout, file)), { recursive: true });
    writeFileSync(join(checkout, file), "JWT_SECRET=not-for-images\n");
  }
});

afterAll(() => rmSync(checkout, { recursive: true, force: true }));

describe(".dockerignore", () => {
  it("sends none of what a used checkout holds besides the code, and all the Dockerfile needs", () => {
    const { context, problems } = checkContext(checkout);
    expect(problems).toEqual([]);
    expect(context.filter((path) => LEFT_BEHIND.includes(path))).toEqual([]);
    expect(context).toEqual(expect.arrayContaining(REQUIRED));
  });

  it("sends only the folders the images are built from", () => {
    const tops = new Set(checkContext(checkout).context.map((path) => path.split("/")[0]));
    expect([...tops].sort()).toEqual([
      "clients",
      "console",
      "gateway",
      "package-lock.json",
      "package.json",
      "scripts",
      "src",
      "tsconfig.json",
      "wrangler.toml",
    ]);
  });

  it("is refused when written with .gitignore's rules, which Docker reads as root-only", () => {
    writeFileSync(join(checkout, ".dockerignore"), readFileSync(join(ROOT, ".gitignore"), "utf8"));
    try {
      const { problems } = checkContext(checkout);
      expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/^src\/\.dev\.vars /), expect.stringMatching(/^gateway\/gateway\.log /)]));
    } finally {
      copyFileSync(join(ROOT, ".dockerignore"), join(checkout, ".dockerignore"));
    }
  });

  it("is refused when it leaves out what the image builds from", () => {
    writeFileSync(join(checkout, ".dockerignore"), `${readFileSync(join(ROOT, ".dockerignore"), "utf8")}\nsrc\n`);
    try {
      expect(checkContext(checkout).problems).toContain("src/index.ts is needed by the image but excluded");
    } finally {
      copyFileSync(join(ROOT, ".dockerignore"), join(checkout, ".dockerignore"));
    }
  });

  it("probes every kind of forbidden file, whether or not this checkout has one", () => {
    writeFileSync(join(checkout, ".dockerignore"), "");
    try {
      const { problems } = checkContext(checkout);
      for (const { probe } of FORBIDDEN) expect(problems.some((p) => p.startsWith(`${probe} `))).toBe(true);
    } finally {
      copyFileSync(join(ROOT, ".dockerignore"), join(checkout, ".dockerignore"));
    }
  });
});
