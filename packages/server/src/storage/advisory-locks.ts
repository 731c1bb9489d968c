// Every PostgreSQL advisory lock the core takes, in one registry so keys never collide:
// the cluster duties as (namespace, purpose) pairs, and the per-row locks as hashed text keys.

/** "VANT" as an int4: the namespace of all Vantage advisory locks. */
export const ADVISORY_NAMESPACE = 0x56414e54;

/** Two-integer form `(ADVISORY_NAMESPACE, purpose)`: one lock per cluster duty. */
export const AdvisoryLock = {
  /** Held (transaction-scoped) while migrations run. */
  migrate: 1,
  /** Held (session-scoped) by the one active entity-change router. */
  entityRouter: 2,
  /** Held (session-scoped) by the one active heartbeat monitor. */
  heartbeatMonitor: 3,
  /** Held (session-scoped) by the one active job lease sweeper. */
  jobLeaseSweeper: 4,
  /** Held (session-scoped) by the one active run retention pruner. */
  runRetention: 5,
  /** Held (session-scoped) by the one active check-result partition maintainer (ahead-creation and retention). */
  checkResultPartitions: 6,
  /** Held (session-scoped) by the one active check-result rollup worker. */
  checkRollups: 7,
  /** Held (transaction-scoped) while a check-result partition is created: two creators never race on one name. */
  checkPartitionCreate: 8,
  /** Held (transaction-scoped) by every rollup pass: two passes never rebuild one hour from different minutes. */
  checkRollupPass: 9,
  /** Held (session-scoped) by the one active check deadline monitor (staleness, offline satellites, missed pings). */
  checkDeadlineMonitor: 10,
  /** Held (session-scoped) by the one active maintenance window boundary duty (starts and ends flip checks' maintenance flag). */
  maintenanceWindows: 12,
} as const;

// Hashed keys are one bigint, `hashtextextended(text, 0)`: PostgreSQL keeps that key space
// apart from the two-integer one above, so the two forms can never meet. Within it, the text
// decides: every key is `<prefix>:<rest>`, where the prefix is a reserved name below or an
// entity kind — and an entity kind may neither contain ":" nor be a reserved name, so an
// entity can never share the lock of a run, a run scope or a run's wakes.

/** The reserved prefixes of hashed keys; no entity kind may be named like one. */
export const HashedLockPrefix = {
  /** Session lock of one run's execution: one execution per run at a time. */
  run: "automation-run",
  /** Transaction lock of a run scope (automation, or automation and context key): admission and ends. */
  runScope: "automation-scope",
  /** Transaction lock between a run's wakes (shared) and its scheduling (exclusive). */
  runWake: "automation-run-wake",
  /** Transaction lock of one config bundle: its plans-in-apply and applies run one at a time. */
  configBundle: "config-bundle",
} as const;

const RESERVED: ReadonlySet<string> = new Set(Object.values(HashedLockPrefix));

/** Why `kind` cannot name an entity (its lock key would be ambiguous), or null when it can. */
export function entityKindProblem(kind: string): string | null {
  if (kind.trim() === "") return "An entity kind must be a non-empty string.";
  if (kind.includes(":")) return `Entity kind "${kind}" contains ":", which separates a lock key's parts.`;
  if (RESERVED.has(kind)) return `Entity kind "${kind}" is reserved for an automation lock; name the kind differently.`;
  return null;
}

/** The text keys of hashed locks; pass them through `hashedLockKey` in SQL. */
export const LockKey = {
  /** One entity, taken by every mutation of it. */
  entity: (kind: string, id: string): string => {
    const problem = entityKindProblem(kind);
    if (problem) throw new Error(problem);
    return `${kind}:${id}`;
  },
  run: (runId: string): string => `${HashedLockPrefix.run}:${runId}`,
  /**
   * A null context key is the whole automation's scope, keyed `…:*` — the same key as a context
   * key that is literally "*". Intended: sharing a lock only makes two admissions wait for each
   * other that need not (a transaction takes one scope lock, or — the router's batch — several
   * in one statement in the order of their hashed keys, so it cannot deadlock), and both
   * scopes exist at once only while an automation's concurrency changes with runs in flight.
   * A different key for one of them would buy nothing and cost a lot: during a rolling upgrade,
   * cores of the two versions would lock an unscoped automation under different keys and admit
   * two runs of a `single` automation at once. Any other two calls give two keys (uuids hold no ":").
   */
  runScope: (automationId: string, contextKey: string | null): string => `${HashedLockPrefix.runScope}:${automationId}:${contextKey ?? "*"}`,
  runWake: (runId: string): string => `${HashedLockPrefix.runWake}:${runId}`,
  configBundle: (bundle: string): string => `${HashedLockPrefix.configBundle}:${bundle}`,
} as const;

/** SQL of the bigint key of a text key expression (a parameter such as `$1`, or a column). */
export const hashedLockKey = (textSql: string): string => `hashtextextended(${textSql}, 0)`;

/** SQL of the bigint key of a prefixed key whose rest is a SQL expression (a column), as `LockKey` builds it. */
export const hashedPrefixedLockKey = (prefix: (typeof HashedLockPrefix)[keyof typeof HashedLockPrefix], restSql: string): string =>
  hashedLockKey(`'${prefix}:' || ${restSql}`);
