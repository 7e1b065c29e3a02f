// Types for scripts/build-worker.mjs, which Node runs as it is (wrangler.toml's [build]).
export const WORKER_OUT: string;
export const buildWorker: (out?: string) => Promise<string>;
export const withFunctions: (code: string, file: string) => { code: string; map: { toString(): string } };
