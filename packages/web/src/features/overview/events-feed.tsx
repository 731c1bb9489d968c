// The overview's latest events: health changes of checks and connection changes of satellites,
// newest first, each with the automations it fired. Live: the feed's query is under "overview",
// which a change of either kind refreshes, and so does a run's start or status (live.ts: the
// automation-run-status kind), since a change's runs are decided and end after it.
import { useQuery } from "@tanstack/react-query";
import { operationsApi } from "../../api/operations-client.ts";
import { ErrorMessage, Loading } from "../../ui/components.tsx";
import { ChangeList } from "../history/change-list.tsx";

export const FEED_KINDS = ["check-health", "satellite-connection"] as const;
const FEED_LENGTH = 20;

export function EventsFeed() {
  const feed = useQuery({ queryKey: ["overview", "events"], queryFn: ({ signal }) => operationsApi.history.latest(FEED_KINDS, FEED_LENGTH, signal) });
  return (
    <section aria-label="Latest events">
      <h2>Latest events</h2>
      {feed.isPending ? <Loading what="events" /> : null}
      <ErrorMessage error={feed.error} title="Could not load the events" />
      {feed.data && feed.data.changes.length === 0 ? <p className="muted">Nothing has happened yet.</p> : null}
      {feed.data && feed.data.changes.length > 0 ? <ChangeList changes={feed.data.changes} label="Latest events" withSubject /> : null}
    </section>
  );
}
