import { join } from "node:path";
import { type Launched, launch } from "../../scripts/processes.ts";

const ROOT = join(import.meta.dirname, "..", "..");

/**
 * `npm run serve` on a port and a state folder of the test's own, its bundle in `outdir` (`build`
 * false reuses what an earlier start built there); resolves once it listens.
 */
export const launchServe = async (options: {
  port: number;
  state: string;
  outdir: string;
  env: NodeJS.ProcessEnv;
  build?: boolean;
  args?: string[];
}): Promise<Launched> => {
  const args = [
    "run",
    "--silent",
    "serve",
    "--",
    "--port",
    String(options.port),
    "--persist",
    options.state,
    "--outdir",
    options.outdir,
    ...(options.args ?? []),
  ];
  const serve = launch("npm", options.build === false ? [...args, "--no-build"] : args, { cwd: ROOT, env: options.env, group: true });
  const began = Date.now();
  while (!serve.output().includes("serve: listening on")) {
    const exited = await Promise.race([serve.exited, new Promise((r) => setTimeout(r, 100))]);
    if (exited) throw new Error(`npm run serve exited: ${serve.output()}`);
    if (Date.now() - began > 45_000) throw new Error(`npm run serve not ready after 45 s: ${serve.output()}`);
  }
  return serve;
};
