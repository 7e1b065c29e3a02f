// Types of console-build.mjs for its TypeScript callers (test/deploy/console-bundle.test.ts, scripts/docs.ts).
export const CONSOLE_OUT: string;
export const CONSOLE_BUDGET_GZIP_KIB: number;
export const buildConsole: (out?: string) => Promise<string[]>;
export const consoleSize: (files: string[]) => { rawKiB: number; gzipKiB: number };
