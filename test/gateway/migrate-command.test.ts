import { MongoClient } from "mongodb";
import { describe, expect, it } from "vitest";
import { migrateCommand, redact } from "../../gateway/migrate-command";

const run = async (argv: string[], env: Record<string, string | undefined>) => {
  const out: string[] = [];
  const err: string[] = [];
  let connected = false;
  const code = await migrateCommand(argv, env, {
    connect: (url, serverSelectionTimeoutMS) => {
      connected = true;
      return new MongoClient(url, { serverSelectionTimeoutMS });
    },
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out, err, connected };
};

describe("npm run migrate:fastapi", () => {
  it("answers --help at once, naming its settings, without connecting", async () => {
    const { code, out, connected } = await run(["--help"], {});
    expect(code).toBe(0);
    expect(connected).toBe(false);
    for (const name of ["MONGO_URL", "DATABASE", "DRY_RUN", "--dry-run", "MONGO_SERVER_SELECTION_TIMEOUT_MS"]) expect(out.join("\n")).toContain(name);
  });

  it("says in one line that the server cannot be reached, quickly, and exits non-zero", async () => {
    const started = Date.now();
    const { code, out, err } = await run([], {
      MONGO_URL: "mongodb://someone:secret@127.0.0.1:1/?directConnection=true",
      MONGO_SERVER_SELECTION_TIMEOUT_MS: "300",
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toEqual([
      "migrate:fastapi: cannot reach MongoDB at mongodb://***@127.0.0.1:1/?directConnection=true within 300 ms (set MONGO_URL; see --help)",
    ]);
  });

  it("refuses arguments it does not know", async () => {
    expect((await run(["--wet-run"], {})).code).toBe(2);
  });

  it("never prints credentials", () => {
    expect(redact("mongodb+srv://user:p%40ss@cluster.example.net/db")).toBe("mongodb+srv://***@cluster.example.net/db");
    expect(redact("mongodb://127.0.0.1:27017")).toBe("mongodb://127.0.0.1:27017");
  });

  it.skipIf(!process.env.MONGO_URL)("prints what a dry run would do, and writes nothing", async () => {
    const client = new MongoClient(process.env.MONGO_URL ?? "");
    const database = `legacy_cli_${Date.now().toString(36)}`;
    const db = client.db(database);
    try {
      await db.collection("organizations").insertOne({ organization_name: "Old-Co", collection_name: "org_old-co", admin_email: "a@old.co" });
      await db.collection("admins").insertOne({ email: "a@old.co", organization_name: "Old-Co", hashed_password: "$pbkdf2-sha256$29000$AAEC$AAEC" });
      const { code, out } = await run(["--dry-run"], { MONGO_URL: process.env.MONGO_URL, DATABASE: database });
      expect(code).toBe(0);
      expect(out).toContain("would migrate: Old-Co");
      expect(out.at(-1)).toMatch(/^dry run: nothing written; 1 migrated/);
      expect(await db.collection("organizations").countDocuments({ members: { $exists: true } })).toBe(0);
    } finally {
      await db.dropDatabase();
      await client.close();
    }
  });
});
