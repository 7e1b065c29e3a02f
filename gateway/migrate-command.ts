import { type MongoClient, MongoServerSelectionError } from "mongodb";
import { type MigrationReport, migrateFastApi } from "./migrate-fastapi";

export const USAGE = `npm run migrate:fastapi [-- --dry-run]

Folds a FastAPI-era master database (organizations plus a separate admins collection) into this
service's layout, in place, talking to MongoDB directly (not through the gateway). Each admin
becomes the owner of its organization with an account of their own; password hashes are kept;
a tenant collection not named org_<slug> is renamed. Run it once, before the Worker serves the
database; running it again only repeats what is left.

Environment:
  MONGO_URL                           the MongoDB connection string (mongodb://127.0.0.1:27017)
  DATABASE                            the master database (master_db)
  DRY_RUN=1, or --dry-run             print what it would do, write nothing
  MONGO_SERVER_SELECTION_TIMEOUT_MS   how long to wait for the server before giving up (5000)

Exit status: 0 done, 1 some organizations skipped (listed), 2 MongoDB unreachable or refused.`;

export interface CommandIo {
  connect: (url: string, serverSelectionTimeoutMS: number) => MongoClient;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** The connection string without credentials, for messages. */
export const redact = (url: string): string => url.replace(/\/\/[^@/]*@/, "//***@");

const describe = (report: MigrationReport, dryRun: boolean): string[] => {
  const verb = dryRun ? "would " : "";
  return [
    ...report.migrated.map((name) => `${verb}${dryRun ? "migrate" : "migrated"}: ${name}`),
    ...report.renamedCollections.map(([from, to]) => `${verb}${dryRun ? "rename" : "renamed"} collection ${from} to ${to}`),
    ...report.skipped.map(({ organization, reason }) => `${dryRun ? "would skip" : "skipped"}: ${organization} (${reason})`),
    `${dryRun ? "dry run: nothing written; " : ""}${report.migrated.length} migrated, ${report.renamedCollections.length} collections renamed, ${report.skipped.length} skipped`,
  ];
};

/** `npm run migrate:fastapi`: answers its exit status; every outcome is a line or a few, never a stack. */
export const migrateCommand = async (argv: string[], env: Record<string, string | undefined>, io: CommandIo): Promise<number> => {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.out(USAGE);
    return 0;
  }
  const unknown = argv.filter((a) => a !== "--dry-run");
  if (unknown.length > 0) {
    io.err(`migrate:fastapi: unknown argument ${unknown.join(" ")} (see --help)`);
    return 2;
  }
  const url = env.MONGO_URL ?? "mongodb://127.0.0.1:27017";
  const database = env.DATABASE ?? "master_db";
  const dryRun = env.DRY_RUN === "1" || argv.includes("--dry-run");
  const timeoutMs = Number(env.MONGO_SERVER_SELECTION_TIMEOUT_MS ?? 5000);
  const client = io.connect(url, Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 5000);
  try {
    const report = await migrateFastApi(client.db(database), { dryRun });
    for (const line of describe(report, dryRun)) io.out(line);
    return report.skipped.length > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof MongoServerSelectionError) {
      io.err(`migrate:fastapi: cannot reach MongoDB at ${redact(url)} within ${timeoutMs} ms (set MONGO_URL; see --help)`);
    } else {
      io.err(`migrate:fastapi: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    }
    return 2;
  } finally {
    await client.close().catch(() => {});
  }
};
