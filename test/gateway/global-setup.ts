import { execFileSync } from "node:child_process";
import { GATEWAY_ROOT, NODE } from "./spawn";

// The tests run the gateway as `npm run gateway` does: the bundle, as its own process.
export default () => {
  execFileSync(NODE, ["gateway/build.ts"], { cwd: GATEWAY_ROOT, stdio: "inherit" });
};
