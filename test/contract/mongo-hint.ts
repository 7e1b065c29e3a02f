// Vitest global setup: says once per run how to reach the suites this run leaves out.
export default () => {
  if (!process.env.DATA_API_URL) {
    console.log("MongoDB suites skipped (no DATA_API_URL): `npm run test:mongo` runs the contract and Worker suites on the gateway over FerretDB (needs Go).");
  }
};
