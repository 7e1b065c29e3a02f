// Tells the platform types what this Worker exports, so `ctx.exports` and the test harness's
// `exports` are typed (what `wrangler types` would generate).
type WorkerEnv = import("./env").Env;

declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("./index");
    durableNamespaces: "DataStore";
  }
  interface Env extends WorkerEnv {}
}
