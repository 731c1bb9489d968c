// A heartbeat check's ping URL, shown the one time the API answers it (on create and on
// rotation: the core keeps only its hash), with how a job pings it. Closing it loses the URL
// for good: only a rotation makes another, and that ends the old one.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { api, type PingToken } from "../../api/client.ts";
import { CopyableText, ErrorMessage } from "../../ui/components.tsx";

/** The ping URL as a job calls it: the API answers a path on this core (`/hb/vhb_…`). */
export const absolutePingUrl = (pingUrl: string): string => new URL(pingUrl, window.location.origin).href;

export function PingUrl({ ping, onDone, doneLabel }: { ping: PingToken; onDone: () => void; doneLabel: string }) {
  const url = absolutePingUrl(ping.pingUrl);
  return (
    <div className="success-box" role="status" aria-label="New ping URL">
      <strong>Ping URL</strong> — shown only now; copy it before closing.
      <CopyableText text={url} label="Ping URL" />
      <p className="muted" style={{ margin: "8px 0 0" }}>
        At the end of each run the job calls it (GET or POST); <code>/fail</code> records a failure, <code>/start</code> times the run:
      </p>
      <CopyableText text={`curl -fsS -m 10 --retry 3 ${url}`} label="Ping command" />
      <button type="button" onClick={onDone}>
        {doneLabel}
      </button>
    </div>
  );
}

/** On a heartbeat check's screen: how it is pinged, and a new URL when the old one leaked or was lost. */
export function PingUrlPanel({ checkId, canEdit }: { checkId: string; canEdit: boolean }) {
  const [ping, setPing] = useState<PingToken | null>(null);
  const rotate = useMutation({ mutationFn: () => api.checks.rotatePingToken(checkId), onSuccess: setPing });
  return (
    <section className="card" aria-label="Pings">
      <h2 style={{ marginTop: 0 }}>Pings</h2>
      <p className="muted" style={{ marginTop: 0 }}>
        Nothing probes this check: a job calls its ping URL (<code>{window.location.origin}/hb/vhb_…</code>, shown once when the check was created). A late ping
        makes it unhealthy.
      </p>
      {ping ? <PingUrl ping={ping} onDone={() => setPing(null)} doneLabel="I have copied it" /> : null}
      <ErrorMessage error={rotate.error} title="No new ping URL" />
      {canEdit && !ping ? (
        <button
          type="button"
          disabled={rotate.isPending}
          onClick={() => {
            if (window.confirm("Make a new ping URL? The current one stops working at once: update the job that pings it.")) rotate.mutate();
          }}
        >
          New ping URL
        </button>
      ) : null}
    </section>
  );
}
