// The admin token: generated once (two processes agree), stored only as a hash, a configured one wins, and verification pays scrypt once per token.
import { scrypt } from "node:crypto";
import type pg from "pg";
import { pino } from "pino";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createAdminTokenVerifier, ensureAdminToken } from "../../src/auth/index.ts";
import { silentLogger } from "../../src/log.ts";
import { createPool } from "../../src/storage/index.ts";
import { createTestDatabase } from "../support/database.ts";

vi.mock("node:crypto", async (importOriginal) => (await import("../support/scrypt-spy.ts")).withScryptSpy(importOriginal));

const ADMIN_TOKEN_PATTERN = /vadm_[A-Za-z0-9_-]{43}/;
const pools: pg.Pool[] = [];

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
});

/** A fresh database and `count` pools on it: one per simulated core process. */
async function processesOnNewDatabase(count: number): Promise<pg.Pool[]> {
  const { url } = await createTestDatabase();
  const created = Array.from({ length: count }, () => createPool(url, silentLogger(), { max: 2 }));
  pools.push(...created);
  return created;
}

/** A logger whose lines the test reads. */
function capturingLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
  return { logger, lines };
}

async function storedHash(pool: pg.Pool): Promise<string | undefined> {
  const { rows } = await pool.query<{ value: string }>("SELECT value FROM settings WHERE key = 'admin_token_hash'");
  return rows[0]?.value;
}

let clock = 0;
beforeEach(() => {
  clock = Date.parse("2025-01-01T12:00:00Z");
});

describe("ensureAdminToken", () => {
  it("generates a token on first start, logs it in one warning line, and stores only its hash", async () => {
    const [pool] = await processesOnNewDatabase(1);
    const { logger, lines } = capturingLogger();

    expect(await ensureAdminToken({ pool: pool!, logger })).toEqual({ source: "generated" });

    const tokenLines = lines.filter((line) => ADMIN_TOKEN_PATTERN.test(line.msg));
    expect(tokenLines).toHaveLength(1);
    expect(tokenLines[0]!.level).toBe(40);
    expect(tokenLines[0]!.msg).toMatch(/save it now/);
    const token = ADMIN_TOKEN_PATTERN.exec(tokenLines[0]!.msg)![0];
    const hash = await storedHash(pool!);
    expect(hash).toMatch(/^sha256\$/); // 256 random bits: no key stretching
    expect(hash).not.toContain(token.slice(5));
    expect(await createAdminTokenVerifier({ pool: pool! })(token)).toBe("valid");
  });

  it("keeps the stored token on later starts and never prints it again", async () => {
    const [pool] = await processesOnNewDatabase(1);
    await ensureAdminToken({ pool: pool!, logger: silentLogger() });
    const hash = await storedHash(pool!);
    const { logger, lines } = capturingLogger();

    expect(await ensureAdminToken({ pool: pool!, logger })).toEqual({ source: "stored" });
    expect(lines.filter((line) => ADMIN_TOKEN_PATTERN.test(line.msg))).toEqual([]);
    expect(await storedHash(pool!)).toBe(hash);
  });

  it("lets two processes starting at once on an empty database agree on one token", async () => {
    const [a, b] = await processesOnNewDatabase(2);
    const logs = [capturingLogger(), capturingLogger()];

    const results = await Promise.all([ensureAdminToken({ pool: a!, logger: logs[0]!.logger }), ensureAdminToken({ pool: b!, logger: logs[1]!.logger })]);

    expect(results.map((result) => result.source).sort()).toEqual(["generated", "stored"]);
    const printed = logs.flatMap(({ lines }) => lines).flatMap((line) => ADMIN_TOKEN_PATTERN.exec(line.msg) ?? []);
    expect(printed).toHaveLength(1);
    const { rows } = await a!.query<{ n: number }>("SELECT count(*)::int AS n FROM settings");
    expect(rows[0]!.n).toBe(1);
    for (const pool of [a!, b!]) expect(await createAdminTokenVerifier({ pool })(printed[0]!)).toBe("valid");
  });

  it("stores the configured token's hash, replacing a generated one, so VANTAGE_ADMIN_TOKEN wins", async () => {
    const [pool] = await processesOnNewDatabase(1);
    const { logger, lines } = capturingLogger();
    await ensureAdminToken({ pool: pool!, logger });
    const generated = ADMIN_TOKEN_PATTERN.exec(lines.map((line) => line.msg).join("\n"))![0];

    expect(await ensureAdminToken({ pool: pool!, logger: silentLogger(), configuredToken: "operator-chosen-token-1" })).toEqual({ source: "configured" });

    const verify = createAdminTokenVerifier({ pool: pool! });
    expect(await verify("operator-chosen-token-1")).toBe("valid");
    expect(await verify(generated)).toBe("invalid");
  });

  it("leaves the stored hash alone when it already matches the configured token", async () => {
    const [pool] = await processesOnNewDatabase(1);
    await ensureAdminToken({ pool: pool!, logger: silentLogger(), configuredToken: "operator-chosen-token-1" });
    const hash = await storedHash(pool!);
    await ensureAdminToken({ pool: pool!, logger: silentLogger(), configuredToken: "operator-chosen-token-1" });
    expect(await storedHash(pool!)).toBe(hash);
  });
});

describe("createAdminTokenVerifier", () => {
  it("rejects everything while no admin token exists", async () => {
    const [pool] = await processesOnNewDatabase(1);
    expect(await createAdminTokenVerifier({ pool: pool! })("anything-at-all-here")).toBe("invalid");
  });

  it("pays scrypt once per token: a verified token is remembered, a wrong one is not", async () => {
    const [pool] = await processesOnNewDatabase(1);
    await ensureAdminToken({ pool: pool!, logger: silentLogger(), configuredToken: "operator-chosen-token-1" });
    const verify = createAdminTokenVerifier({ pool: pool!, now: () => clock });
    vi.mocked(scrypt).mockClear();

    for (let i = 0; i < 5; i++) expect(await verify("operator-chosen-token-1")).toBe("valid");
    expect(vi.mocked(scrypt)).toHaveBeenCalledTimes(1);

    for (let i = 0; i < 2; i++) expect(await verify("operator-chosen-token-2")).toBe("invalid");
    expect(vi.mocked(scrypt)).toHaveBeenCalledTimes(3);
  });

  it("follows a token changed by another process once its cached hash is older than the TTL", async () => {
    const [a, b] = await processesOnNewDatabase(2);
    await ensureAdminToken({ pool: a!, logger: silentLogger(), configuredToken: "first-token-0123456" });
    const verify = createAdminTokenVerifier({ pool: a!, now: () => clock, hashTtlMs: 5_000 });
    expect(await verify("first-token-0123456")).toBe("valid");

    await ensureAdminToken({ pool: b!, logger: silentLogger(), configuredToken: "second-token-0123456" });
    clock += 4_999;
    expect(await verify("first-token-0123456")).toBe("valid");
    clock += 1;
    expect(await verify("first-token-0123456")).toBe("invalid");
    expect(await verify("second-token-0123456")).toBe("valid");
  });

  it("stores a chosen token as scrypt, and with slow: false refuses to check it until it verified once", async () => {
    const [pool] = await processesOnNewDatabase(1);
    await ensureAdminToken({ pool: pool!, logger: silentLogger(), configuredToken: "operator-chosen-token-1" });
    expect(await storedHash(pool!)).toMatch(/^scrypt\$/);
    const verify = createAdminTokenVerifier({ pool: pool!, now: () => clock });
    vi.mocked(scrypt).mockClear();
    expect(await verify("operator-chosen-token-1", { slow: false })).toBe("refused");
    expect(await verify("operator-chosen-token-2", { slow: false })).toBe("refused");
    expect(vi.mocked(scrypt)).not.toHaveBeenCalled();
    expect(await verify("operator-chosen-token-1")).toBe("valid");
    expect(await verify("operator-chosen-token-1", { slow: false })).toBe("valid");
  });

  it("checks the token it was started with once per stored hash, so it verifies without scrypt from the first request", async () => {
    const [pool] = await processesOnNewDatabase(1);
    await ensureAdminToken({ pool: pool!, logger: silentLogger(), configuredToken: "operator-chosen-token-1" });
    const verify = createAdminTokenVerifier({ pool: pool!, now: () => clock, knownToken: "operator-chosen-token-1" });
    expect(await verify("operator-chosen-token-1", { slow: false })).toBe("valid");
    expect(await verify("operator-chosen-token-2", { slow: false })).toBe("refused");
    vi.mocked(scrypt).mockClear();
    clock += 60_000; // the stored hash is read again; it has not changed, so nothing is hashed again
    expect(await verify("operator-chosen-token-1", { slow: false })).toBe("valid");
    expect(vi.mocked(scrypt)).not.toHaveBeenCalled();
  });

  it("checks a generated token with SHA-256 alone, even with slow: false", async () => {
    const [pool] = await processesOnNewDatabase(1);
    const { logger, lines } = capturingLogger();
    await ensureAdminToken({ pool: pool!, logger });
    const token = ADMIN_TOKEN_PATTERN.exec(lines.map((line) => line.msg).join("\n"))![0];
    const verify = createAdminTokenVerifier({ pool: pool!, now: () => clock });
    vi.mocked(scrypt).mockClear();
    expect(await verify(token, { slow: false })).toBe("valid");
    expect(await verify(`${token.slice(0, -1)}x`, { slow: false })).toBe("invalid");
    expect(vi.mocked(scrypt)).not.toHaveBeenCalled();
  });

  it("refuses absurdly long bearer values without hashing them", async () => {
    const [pool] = await processesOnNewDatabase(1);
    await ensureAdminToken({ pool: pool!, logger: silentLogger(), configuredToken: "operator-chosen-token-1" });
    vi.mocked(scrypt).mockClear();
    expect(await createAdminTokenVerifier({ pool: pool! })("x".repeat(10_000))).toBe("invalid");
    expect(vi.mocked(scrypt)).not.toHaveBeenCalled();
  });
});
