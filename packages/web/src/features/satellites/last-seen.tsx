// When the core last heard from a satellite: its last heartbeat while connected, and since when
// it is away once it is not (a disconnect clears the heartbeat; the edge's time remains).
import type { Satellite } from "../../api/client.ts";
import { TimeAgo } from "../../ui/components.tsx";

export function LastSeen({ satellite }: { satellite: Pick<Satellite, "lastSeenAt" | "lastEvent" | "lastEventAt"> }) {
  if (satellite.lastSeenAt !== null || satellite.lastEvent === null) return <TimeAgo at={satellite.lastSeenAt} />;
  // Disconnected: no heartbeat kept. An edge recorded before lastEventAt existed has no time.
  if (satellite.lastEventAt === null) return <span className="muted">not since it went offline</span>;
  return (
    <span className="muted">
      went offline <TimeAgo at={satellite.lastEventAt} />
    </span>
  );
}
