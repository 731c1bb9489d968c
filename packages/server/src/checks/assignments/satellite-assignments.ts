// Satellite assignments on one core process: each connected satellite's set follows from the
// checks' `runOn.satellites` selectors. Its welcome carries the full set; afterwards a change
// of a check (on any core: NOTIFY) or of the satellite's region or tags sends `assignments` to
// the satellites here whose set it changed, and to no other.
import type { Assignment } from "@vantage/protocol";
import type pg from "pg";
import type { Registry } from "prom-client";
import type { NotificationHub } from "../../cluster/index.ts";
import type { Logger } from "../../log.ts";
import {
  type AssignmentsFor,
  parseProfileChange,
  SATELLITE_PROFILE_CHANGED_CHANNEL,
  type SatelliteProfile,
  type SessionObserver,
} from "../../satellites/index.ts";
import { createAssignmentMetrics } from "./assignment-metrics.ts";
import { type ConnectedSatellite, ConnectedSatellites } from "./connected-satellites.ts";
import { type CheckIndexChange, createSatelliteCheckIndex, type OpenDefinition } from "./satellite-check-index.ts";
import { selectableSatellite } from "./satellite-selector.ts";
import { createSerialReloader } from "./serial-reloader.ts";

/** Satellites whose edit notice arrived while their socket was not here, remembered at most. */
const MAX_EDITED_ELSEWHERE = 10_000;

export interface SatelliteAssignmentsOptions {
  pool: Pick<pg.Pool, "query">;
  hub: NotificationHub;
  logger: Logger;
  /** Opens a stored definition's sealed fields: the definitions store's `openDefinition`. */
  openDefinition: OpenDefinition;
  /** The current region and tags of satellites (the registry's `profiles`). */
  profiles(ids: readonly string[]): Promise<SatelliteProfile[]>;
  registry?: Registry;
  /** Delay before a failed reload is tried again (default 1 s). */
  retryMs?: number;
}

export interface SatelliteAssignments {
  /** The gateway's seam: the full set for a satellite's welcome, computed in memory. */
  assignmentsFor: AssignmentsFor;
  /** The gateway's observer: sessions opened and closed on this process. */
  sessionObserver: SessionObserver;
  /** The type of a check satellites run, if it is one (for counting their results by type). */
  typeOf(checkId: string): string | undefined;
  /** Loads the checks and listens for changes; before the gateway accepts sockets. */
  start(): Promise<void>;
  /** Resolves once no reload (of checks or of profiles) is in progress. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

/** Equal when they name the same checks at the same revisions (both ordered by check id). */
function sameSet(a: readonly Assignment[], b: readonly Assignment[]): boolean {
  return a.length === b.length && a.every((assignment, i) => assignment.checkId === b[i]!.checkId && assignment.revision === b[i]!.revision);
}

export function createSatelliteAssignments(options: SatelliteAssignmentsOptions): SatelliteAssignments {
  const log = options.logger.child({ component: "satellite-assignments" });
  const connected = new ConnectedSatellites();
  const editedElsewhere = new Set<string>();
  let unsubscribe: (() => Promise<void>) | undefined;
  let unsubscribeReconnect: (() => void) | undefined;

  const checks = createSatelliteCheckIndex({ ...options, onChange: (changes) => checksChanged(changes) });
  const metrics = createAssignmentMetrics(options.registry, () => checks.size());

  /** Sends the satellite its set if that differs from the one it holds. */
  const refresh = (satellite: ConnectedSatellite) => {
    const next = checks.assignmentsFor(satellite.satellite);
    if (sameSet(satellite.session.assignments, next)) return;
    if (satellite.session.setAssignments(next)) metrics.pushes.inc();
  };

  /** The satellites the old or the new selector of a changed check may select: only those can have a new set. */
  const checksChanged = (changes: readonly CheckIndexChange[]) => {
    const selectors = changes.flatMap(({ before, after }) => [before?.selector, after?.selector].filter((selector) => selector !== undefined));
    connected.candidatesOf(selectors).forEach(refresh);
  };

  const loadProfiles = async (ids: readonly string[]) => {
    for (const profile of await options.profiles(ids)) {
      const satellite = connected.get(profile.id);
      if (!satellite) continue;
      connected.update(satellite, profile);
      refresh(satellite);
    }
  };
  const profiles = createSerialReloader({
    what: "the region and tags of connected satellites",
    logger: log,
    retryMs: options.retryMs,
    loadSome: loadProfiles,
    async loadAll() {
      const ids = connected.ids();
      for (let i = 0; i < ids.length; i += 1000) await loadProfiles(ids.slice(i, i + 1000));
    },
  });

  const onProfileChange = (payload: string) => {
    const change = parseProfileChange(payload);
    if (!change) return log.warn({ payload }, "ignored a malformed satellite profile change notice");
    const id = change.satelliteId;
    if (connected.get(id)) return profiles.request(id);
    // Its socket may be between hello (which read its profile) and welcome here: it is read
    // again once open. Most of these are satellites held by other cores; the set is bounded.
    editedElsewhere.delete(id);
    editedElsewhere.add(id);
    if (editedElsewhere.size > MAX_EDITED_ELSEWHERE) editedElsewhere.delete(editedElsewhere.values().next().value!);
  };

  return {
    assignmentsFor: async (satellite, capabilities) => checks.assignmentsFor(selectableSatellite(satellite, capabilities)),
    typeOf: (checkId) => checks.typeOf(checkId),
    sessionObserver: {
      opened(session) {
        const satellite = connected.open(session);
        if (editedElsewhere.delete(session.satelliteId)) profiles.request(session.satelliteId);
        // Whatever changed between computing its welcome and now.
        refresh(satellite);
      },
      closed: (session) => connected.close(session),
    },
    async start() {
      unsubscribe = await options.hub.subscribe(SATELLITE_PROFILE_CHANGED_CHANNEL, onProfileChange);
      unsubscribeReconnect = options.hub.onReconnect(() => profiles.requestAll());
      await checks.start();
    },
    async settled() {
      await checks.settled();
      await profiles.settled();
    },
    async stop() {
      unsubscribeReconnect?.();
      unsubscribeReconnect = undefined;
      await unsubscribe?.();
      unsubscribe = undefined;
      await checks.stop();
      await profiles.stop();
    },
  };
}
