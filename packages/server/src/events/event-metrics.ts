// The live event stream's Prometheus metrics on the instance's registry: clients attached,
// clients cut off for not reading, and resets sent for positions the outbox no longer holds.
import { Counter, Gauge, type Registry } from "prom-client";

export interface EventMetrics {
  resets: Counter;
  /** Counts a client's end by why it ended. */
  clientClosed(reason: string): void;
}

/** Why a stream ended, as a label: few values, whatever the reason's wording. */
function closeReason(reason: string): string {
  if (reason.startsWith("slow client")) return "slow_client";
  if (reason === "client went away") return "client_left";
  if (reason === "server shutting down" || reason === "ended") return "shutdown";
  return "error";
}

export function createEventMetrics(registry: Registry, clientsNow: () => number): EventMetrics {
  new Gauge({
    name: "vantage_event_stream_clients",
    help: "Server-sent event clients attached to this process's change stream",
    registers: [registry],
    collect() {
      this.set(clientsNow());
    },
  });
  const closed = new Counter({
    name: "vantage_event_stream_closed_total",
    help: "Server-sent event streams ended, by reason (slow_client: cut off because it did not read)",
    labelNames: ["reason"],
    registers: [registry],
  });
  for (const reason of ["slow_client", "client_left", "shutdown", "error"]) closed.inc({ reason }, 0);
  return {
    resets: new Counter({
      name: "vantage_event_stream_resets_total",
      help: "Reconnects whose Last-Event-ID the outbox no longer holds (told to reload)",
      registers: [registry],
    }),
    clientClosed: (reason) => closed.inc({ reason: closeReason(reason) }),
  };
}
