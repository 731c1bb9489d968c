// A check's and a location's health as badges and dots, and location names (a satellite's
// name for its id, `core` for the core) — what the list and the detail share.
import { useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import type { CheckHealth, CheckHealthStatus, LocationHealthStatus } from "../../api/client.ts";
import { Badge, type Tone } from "../../ui/components.tsx";
import { satellitesQuery } from "../satellites/satellites-page.tsx";

export const STATUS_TONE: Record<CheckHealthStatus | LocationHealthStatus, Tone> = {
  healthy: "ok",
  degraded: "warn",
  unhealthy: "bad",
  unknown: "idle",
  unobservable: "idle",
};

export function CheckStatusBadge({ status }: { status: CheckHealthStatus | LocationHealthStatus }) {
  return <Badge tone={STATUS_TONE[status]}>{status}</Badge>;
}

/** Location id → what people call it: `core`, a satellite's name, or the id's start while names load. */
export function useLocationNames(): (location: string) => string {
  const satellites = useQuery(satellitesQuery).data?.satellites;
  // The same function while the satellites are the same: the checks list passes it to every
  // memoized row, and a new one each render re-rendered every row on screen at each scroll event.
  return useMemo(() => {
    const names = new Map((satellites ?? []).map((satellite) => [satellite.id, satellite.name]));
    return (location: string) => (location === "core" ? "core" : (names.get(location) ?? location.slice(0, 8)));
  }, [satellites]);
}

/** One dot per location, coloured by its status, named for screen readers and on hover. */
export function LocationDots({
  locations,
  nameOf,
}: {
  locations: Readonly<Record<string, Pick<CheckHealth["locations"][string], "status">>>;
  nameOf: (location: string) => string;
}) {
  const entries = Object.entries(locations).sort(([a], [b]) => nameOf(a).localeCompare(nameOf(b)));
  if (entries.length === 0) return <span className="muted">—</span>;
  return (
    <span className="dots" role="list" aria-label="Locations">
      {entries.map(([location, state]) => (
        <span key={location} role="listitem" className={`dot ${STATUS_TONE[state.status]}`} title={`${nameOf(location)}: ${state.status}`}>
          <span className="visually-hidden">
            {nameOf(location)}: {state.status}
          </span>
        </span>
      ))}
    </span>
  );
}
