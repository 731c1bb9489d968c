// Every PostgreSQL advisory lock the core takes, in one table so keys never collide.
// Two-integer form: (namespace, purpose). Entity locks use a different form (see entities/).

/** "VANT" as an int4: the namespace of all Vantage advisory locks. */
export const ADVISORY_NAMESPACE = 0x56414e54;

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
} as const;
