// A satellite's presence as a badge: online, or offline with what the core last saw.
import type { Satellite } from "../../api/client.ts";
import { Badge } from "../../ui/components.tsx";

const OFFLINE_WHY: Record<string, string> = { disconnected: "disconnected", heartbeat_lost: "heartbeat lost" };

export function SatelliteStatus({ satellite }: { satellite: Pick<Satellite, "status" | "lastEvent"> }) {
  if (satellite.status === "online") return <Badge tone="ok">online</Badge>;
  if (satellite.lastEvent === null) return <Badge tone="idle">never connected</Badge>;
  return (
    <Badge tone={satellite.lastEvent === "heartbeat_lost" ? "bad" : "idle"}>
      offline{OFFLINE_WHY[satellite.lastEvent] ? ` · ${OFFLINE_WHY[satellite.lastEvent]}` : ""}
    </Badge>
  );
}
