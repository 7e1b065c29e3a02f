// What the global setups provide to the Worker suites (test/node/receiver.ts).
declare module "vitest" {
  export interface ProvidedContext {
    receiverUrl: string;
  }
}

export {};
