// The core's public face for tests, benchmarks and embedding.
export { startCore, runServer, runMigrate } from "./main.ts";
export type { Core } from "./main.ts";
export { loadConfig } from "./config.ts";
export type { Config } from "./config.ts";
