// GET /api/v1/events: entity changes (automation runs' among them) as server-sent events.
// `kind=a,b` filters; a client that reconnects with Last-Event-ID (or `lastEventId=` for tools)
// first gets every change it missed, then live ones; one whose position the outbox no longer
// holds gets a `reset` event instead.
import type { ServerResponse } from "node:http";
import { Hono } from "hono";
import type pg from "pg";
import { z } from "zod";
import { invalidInput } from "../errors.ts";
import { describeRoute, readQuery } from "../http/index.ts";
import { type ChangeStream, shuttingDown } from "./change-stream.ts";
import type { EventMetrics } from "./event-metrics.ts";
import { type OutboxPosition, positionOfSeq } from "./outbox-pages.ts";
import { parseKinds, seqSchema } from "./query-params.ts";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { createNodeSseStream, createWebSseStream, type SseStream, type SseStreamOptions, sseFrame } from "./sse-stream.ts";

const querySchema = z.strictObject({
  kind: z.string().optional().describe("Entity kinds, comma-separated (e.g. `check-health,satellite-connection`); all when absent."),
  /** For clients that cannot set the header; the header wins (a browser's reconnect sends it beside the original URL). */
  lastEventId: seqSchema.optional().describe("Resume after this event id (the `Last-Event-ID` header wins)."),
});

// No example: the stream does not end, so the examples test could not read it whole.
const doc = describeRoute({
  summary: "Live entity changes (server-sent events)",
  description:
    "Each `change` event's `id` is the change's outbox seq: reconnect with `Last-Event-ID` to receive every change missed, then live ones. " +
    "Automation runs are entities too: kind `automation-run-status` carries each run's creation and every change of its status (pending, running, succeeded, …), so a feed can follow the runs its changes fire. " +
    "A `ready` event names the position sent from; `reset` says the position is no longer kept (reload, then follow). Comment heartbeats every 15 s.",
  query: querySchema,
  responses: { 200: { description: "The stream", schema: z.string(), contentType: "text/event-stream" } },
  errors: { 503: "The core is shutting down; reconnect to another." },
});

export interface EventRoutesOptions {
  pool: pg.Pool;
  stream: ChangeStream;
  /** The entity kinds defined on this core (a live view: modules define theirs at start). */
  kinds: () => Iterable<string>;
  /** Frames that may wait for one client before it is cut off. */
  maxQueuedFrames: number;
  metrics: EventMetrics;
}

const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" };

/** Where the client resumes: the header's seq, else the query's, else nowhere (live only). */
function lastEventIdOf(header: string | undefined, query: number | undefined): number | undefined {
  if (header === undefined || header.trim() === "") return query;
  const parsed = seqSchema.safeParse(header.trim());
  if (!parsed.success) throw invalidInput([{ path: "Last-Event-ID", message: "Last-Event-ID must be the id of an event this stream sent (a whole number)" }]);
  return parsed.data;
}

export function createEventRoutes(options: EventRoutesOptions): Hono {
  const { pool, stream: changes, metrics } = options;
  const routes = new Hono();

  routes.get("/", doc, async (c) => {
    const query = readQuery(c.req.query(), querySchema);
    const kinds = parseKinds(query.kind, options.kinds());
    const lastEventId = lastEventIdOf(c.req.header("last-event-id"), query.lastEventId);
    if (!changes.isRunning()) throw shuttingDown();

    let after: OutboxPosition | null = null;
    let lost = false;
    if (lastEventId !== undefined) {
      after = await positionOfSeq(pool, lastEventId);
      lost = after === null;
    }

    let detach = () => undefined as void;
    const streamOptions: SseStreamOptions = {
      maxQueuedFrames: options.maxQueuedFrames,
      onClose: (reason) => {
        detach();
        metrics.clientClosed(reason);
      },
    };
    // Served by Node (@hono/node-server): frames are written to the response itself.
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    let sse: SseStream;
    let response: Response;
    if (outgoing) {
      // Headers are ours to write now (touching `c.res` would make Hono wrap the response, and the adapter then writes it too).
      const requestId = c.get("requestId" as never) as string | undefined;
      outgoing.writeHead(200, requestId ? { ...SSE_HEADERS, "x-request-id": requestId } : SSE_HEADERS);
      outgoing.flushHeaders();
      sse = createNodeSseStream(outgoing, streamOptions);
      response = RESPONSE_ALREADY_SENT;
    } else {
      const web = createWebSseStream(streamOptions);
      sse = web;
      response = new Response(web.body, { headers: SSE_HEADERS });
    }
    if (lost) {
      // Changes after it may be gone too: the client must reload what it shows, then follow on.
      metrics.resets.inc();
      sse.send(
        sseFrame("reset", {
          reason: "position_not_retained",
          lastEventId,
          message: `Change ${lastEventId} is no longer kept, so changes after it may be missing: reload current state, then follow this stream.`,
        }),
      );
    }
    // `ready` names the position everything before it was sent from: a client that reconnects
    // with it (even one that received no change) misses nothing.
    ({ detach } = changes.attach({ stream: sse, kinds, after, onLive: (position) => sse.send(sseFrame("ready", { seq: position.seq }, position.seq)) }));

    return response;
  });

  return routes;
}
