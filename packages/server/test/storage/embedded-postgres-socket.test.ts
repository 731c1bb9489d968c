// Where the embedded PostgreSQL puts its Unix socket, and when it serves TCP only.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { socketDirectoryFor } from "../../src/storage/postgres/embedded-postgres.ts";

describe("the embedded PostgreSQL's Unix socket directory", () => {
  it("is the cluster's own directory, made absolute", () => {
    expect(socketDirectoryFor("/tmp/vantage-data/postgres", 54321)).toBe("/tmp/vantage-data/postgres");
    expect(socketDirectoryFor("data/postgres", 5432)).toBe(path.resolve("data/postgres"));
  });

  it("is none (TCP only) when the socket's path would pass Linux's 107 bytes", () => {
    // "/.s.PGSQL.54321" is 15 bytes: a directory of 92 bytes is the longest that fits.
    const fits = `/${"d".repeat(91)}`;
    expect(socketDirectoryFor(fits, 54321)).toBe(fits);
    expect(socketDirectoryFor(`${fits}d`, 54321)).toBeUndefined();
  });

  it("is none when the path holds characters unix_socket_directories would split or misread", () => {
    for (const directory of ["/tmp/with space/postgres", "/tmp/a,b/postgres", "/tmp/quote'd/postgres", "/tmp/dollar$/postgres"]) {
      expect(socketDirectoryFor(directory, 5432)).toBeUndefined();
    }
  });
});
