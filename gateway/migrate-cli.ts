// `npm run migrate:fastapi`: folds a FastAPI-era master database into this service's layout.
// `-- --help` lists its settings (MONGO_URL, DATABASE, DRY_RUN); gateway/migrate-command.ts.
import { MongoClient } from "mongodb";
import { migrateCommand } from "./migrate-command";

process.exitCode = await migrateCommand(process.argv.slice(2), process.env, {
  connect: (url, serverSelectionTimeoutMS) => new MongoClient(url, { serverSelectionTimeoutMS }),
  out: (line) => console.log(line),
  err: (line) => console.error(line),
});
