// The generated Env (worker-configuration.d.ts, `npm run types`) has the bindings and vars of
// wrangler.toml; the secrets and optional settings it cannot know are merged in here.
type UnlistedEnv = import("./env").Unlisted;

declare namespace Cloudflare {
  interface Env extends UnlistedEnv {}
}
