// Types of the parts of processes.mjs that TypeScript callers use (bench/latency.ts).
export interface Started {
  origin: string;
  stop: () => Promise<void>;
  groups: number[];
}
export const startService: (label: string, vars?: Record<string, string>, readyPath?: string) => Promise<Started>;
export const stopEverything: () => Promise<unknown>;
