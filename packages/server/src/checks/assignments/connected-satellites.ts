// The satellites whose sockets this core process holds, with their current profile (region
// and tags, kept up to date after edits), filed by their keys: the ones a changed check can
// concern are looked up by its selectors' anchors, not by visiting every socket.
import type { SatelliteProfile, SatelliteSession } from "../../satellites/index.ts";
import { KeyIndex } from "./key-index.ts";
import { type CompiledSelector, type SelectableSatellite, selectableSatellite } from "./satellite-selector.ts";

export interface ConnectedSatellite {
  session: SatelliteSession;
  satellite: SelectableSatellite;
}

export class ConnectedSatellites {
  private readonly byId = new Map<string, ConnectedSatellite>();
  private readonly byKey = new KeyIndex<ConnectedSatellite>();

  /** The session is the satellite's socket here now (a newer one replaces an older). */
  open(session: SatelliteSession): ConnectedSatellite {
    const previous = this.byId.get(session.satelliteId);
    if (previous) this.byKey.delete(previous);
    const connected = { session, satellite: selectableSatellite(session.satellite, session.capabilities) };
    this.byId.set(session.satelliteId, connected);
    this.byKey.set(connected, connected.satellite.keys);
    return connected;
  }

  /** Forgets the satellite, unless `session` was already replaced by a newer one. */
  close(session: SatelliteSession): void {
    const connected = this.byId.get(session.satelliteId);
    if (connected?.session !== session) return;
    this.byId.delete(session.satelliteId);
    this.byKey.delete(connected);
  }

  get(satelliteId: string): ConnectedSatellite | undefined {
    return this.byId.get(satelliteId);
  }

  /** Refiles a satellite under its edited region and tags. */
  update(connected: ConnectedSatellite, profile: SatelliteProfile): void {
    connected.satellite = selectableSatellite(profile, connected.session.capabilities);
    this.byKey.set(connected, connected.satellite.keys);
  }

  /** Every connected satellite that any of `selectors` may select (a superset: check with `selects`). */
  candidatesOf(selectors: Iterable<CompiledSelector>): Set<ConnectedSatellite> {
    const found = new Set<ConnectedSatellite>();
    for (const selector of selectors) this.byKey.collect(selector.anchors, found);
    return found;
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  get size(): number {
    return this.byId.size;
  }
}
