import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // .tsx: the web UI's component tests, each naming its DOM environment in a docblock.
    include: ["packages/*/test/**/*.test.{ts,tsx}"],
    // One PostgreSQL for the whole run; each test file clones its own database from a migrated template.
    globalSetup: ["packages/server/test/support/global-setup.ts"],
    // Fails a test file that leaves sockets, servers or timers behind.
    setupFiles: ["packages/server/test/support/leak-check.ts"],
    pool: "forks",
    // Two files at a time even on two cores: most of a test's time is spent waiting on
    // PostgreSQL, sockets and child processes, not computing (vitest's default there is one).
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
