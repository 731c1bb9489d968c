// The checks that run on satellites, in memory on every core: loaded once at start, then one
// check reloaded per change notice (all of them again after the notice connection was lost),
// so a satellite's set — at its welcome, in a reconnect storm — is computed without a query.
// Each check is held as the assignment satellites receive (its definition opened: credential
// headers in clear, which only the satellite needs) and its compiled selector.
import type { Assignment, CheckDefinition } from "@vantage/protocol";
import type pg from "pg";
import type { NotificationHub } from "../../cluster/index.ts";
import type { Logger } from "../../log.ts";
import { CHECKS_CHANNEL, type CheckChangeNotice, parseCheckChange } from "../definitions/check-changes.ts";
import { assignmentOf } from "./assignment-of.ts";
import { KeyIndex } from "./key-index.ts";
import { createSerialReloader } from "./serial-reloader.ts";
import { readSatelliteChecks, readSatelliteChecksById, type StoredCheckRow } from "./satellite-check-rows.ts";
import { type CompiledSelector, compileSelector, type SelectableSatellite, selects } from "./satellite-selector.ts";

/**
 * A stored check's definition with its sealed fields opened (the definitions store's
 * `openDefinition`). Throws when it cannot be opened (e.g. sealed under another key): that
 * check is then assigned to no satellite, and the error is logged.
 */
export type OpenDefinition = (row: StoredCheckRow) => CheckDefinition;

export interface IndexedCheck {
  id: string;
  revision: number;
  selector: CompiledSelector;
  assignment: Assignment;
}

/** One check that entered, left or changed in the index. */
export interface CheckIndexChange {
  before: IndexedCheck | undefined;
  after: IndexedCheck | undefined;
}

export interface SatelliteCheckIndexOptions {
  pool: Pick<pg.Pool, "query">;
  hub: NotificationHub;
  logger: Logger;
  openDefinition: OpenDefinition;
  /** Told of every batch of changes, right after they are in place. */
  onChange(changes: readonly CheckIndexChange[]): void;
  /** Delay before a failed reload is tried again (default 1 s). */
  retryMs?: number;
}

export interface SatelliteCheckIndex {
  /** The satellite's full set, ordered by check id: the checks it is selected for, of the types it can run. */
  assignmentsFor(satellite: SelectableSatellite): Assignment[];
  /** Checks held (enabled, on satellites, opened). */
  size(): number;
  /** A held check's type (what its satellites' results are counted under), if held. */
  typeOf(checkId: string): string | undefined;
  /** Listens for change notices, then loads every check; resolves once loaded. */
  start(): Promise<void>;
  /** Resolves once no reload is in progress. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

const byCheckId = (a: IndexedCheck, b: IndexedCheck) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function createSatelliteCheckIndex(options: SatelliteCheckIndexOptions): SatelliteCheckIndex {
  const { pool, hub } = options;
  const log = options.logger.child({ component: "satellite-check-index" });
  const checks = new Map<string, IndexedCheck>();
  const byAnchor = new KeyIndex<IndexedCheck>();
  let unsubscribe: (() => Promise<void>) | undefined;
  let unsubscribeReconnect: (() => void) | undefined;
  /** Notices that arrived during the first load: reloaded after it, never applied before it. */
  let early: CheckChangeNotice[] | undefined = [];

  const indexed = (row: StoredCheckRow): IndexedCheck | undefined => {
    let definition: CheckDefinition;
    try {
      definition = options.openDefinition(row);
    } catch (error) {
      log.error(
        { err: error, checkId: row.id },
        "cannot open a check's definition; no satellite runs it until it can be opened (is every core started with the same secret key?)",
      );
      return undefined;
    }
    const selector = definition.runOn.satellites;
    if (!selector) return undefined;
    return {
      id: row.id,
      revision: row.revision,
      selector: compileSelector(selector),
      assignment: assignmentOf(row.id, definition, row.revision),
    };
  };

  /** Puts what was read for `ids` in place (an id not read leaves) and reports what changed. */
  const apply = (ids: Iterable<string>, rows: readonly StoredCheckRow[]) => {
    const read = new Map(rows.map((row) => [row.id, row]));
    const changes: CheckIndexChange[] = [];
    for (const id of ids) {
      const before = checks.get(id);
      const row = read.get(id);
      // Nothing to do for a revision already held (a notice echoing a load that saw its write).
      if (before && row && before.revision === row.revision) continue;
      const after = row && indexed(row);
      if (!before && !after) continue;
      if (before) byAnchor.delete(before);
      if (after) {
        checks.set(id, after);
        byAnchor.set(after, after.selector.anchors);
      } else checks.delete(id);
      changes.push({ before, after });
    }
    if (changes.length > 0) options.onChange(changes);
  };

  const reloader = createSerialReloader({
    what: "the checks assigned to satellites",
    logger: log,
    retryMs: options.retryMs,
    async loadSome(ids) {
      apply(ids, await readSatelliteChecksById(pool, ids));
    },
    async loadAll() {
      const rows = await readSatelliteChecks(pool);
      apply(new Set([...checks.keys(), ...rows.map((row) => row.id)]), rows);
    },
  });

  const follow = (notice: CheckChangeNotice) => {
    const { id } = notice;
    // A notice of a revision already held is the echo of a load that read it.
    if (!notice.deleted && notice.revision !== undefined && (checks.get(id)?.revision ?? -1) >= notice.revision) return;
    reloader.request(id);
  };

  const onNotice = (payload: string) => {
    const notice = parseCheckChange(payload);
    if (!notice) return log.warn({ payload }, "ignored a malformed check change notice");
    if (early) early.push(notice);
    else follow(notice);
  };

  return {
    assignmentsFor(satellite) {
      const selected = [...byAnchor.collect(satellite.keys, new Set())].filter(
        (check) => satellite.capabilities.has(check.assignment.type) && selects(check.selector, satellite),
      );
      return selected.sort(byCheckId).map((check) => check.assignment);
    },
    size: () => checks.size,
    typeOf: (checkId) => checks.get(checkId)?.assignment.type,
    async start() {
      // Listening before the first load: a change saved meanwhile is reloaded after it.
      unsubscribe = await hub.subscribe(CHECKS_CHANNEL, onNotice);
      unsubscribeReconnect = hub.onReconnect(() => reloader.requestAll());
      const rows = await readSatelliteChecks(pool);
      apply(
        rows.map((row) => row.id),
        rows,
      );
      const arrived = early ?? [];
      early = undefined;
      arrived.forEach(follow);
    },
    settled: () => reloader.settled(),
    async stop() {
      unsubscribeReconnect?.();
      unsubscribeReconnect = undefined;
      await unsubscribe?.();
      unsubscribe = undefined;
      await reloader.stop();
    },
  };
}
