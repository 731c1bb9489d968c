// Run and step statuses as badges, in one table so every screen colours them alike.
import { Badge, type Tone } from "../../ui/components.tsx";

const TONES: Record<string, Tone> = {
  succeeded: "ok",
  failed: "bad",
  cancelled: "idle",
  running: "warn",
  pending: "warn",
  queued: "idle",
  waiting: "warn",
  skipped: "idle",
};

export const statusTone = (status: string): Tone => TONES[status] ?? "idle";

export function RunStatus({ status }: { status: string }) {
  return <Badge tone={statusTone(status)}>{status}</Badge>;
}
