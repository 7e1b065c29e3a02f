// `npm run migrate:fastapi`: folds a FastAPI-era master database into this service's layout.
// MONGO_URL and DATABASE (default master_db) name it; DRY_RUN=1 reports without writing.
import { MongoClient } from "mongodb";
import { migrateFastApi } from "./migrate-fastapi";

const client = new MongoClient(process.env.MONGO_URL ?? "mongodb://127.0.0.1:27017", { serverSelectionTimeoutMS: 10_000 });
try {
  const report = await migrateFastApi(client.db(process.env.DATABASE ?? "master_db"), { dryRun: process.env.DRY_RUN === "1" });
  console.log(JSON.stringify(report, null, 2));
  process.exitCode = report.skipped.length > 0 ? 1 : 0;
} finally {
  await client.close();
}
