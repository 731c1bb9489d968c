-- When a satellite's last connection edge (last_connection_event) was recorded: a connect, a
-- disconnect, a heartbeat loss or a recovery. The registry shows it, so an offline satellite says
-- since when ("offline since 23:40") instead of only that it is: a disconnect clears
-- last_heartbeat_at, so nothing else kept the moment it went away.
--
-- Written by the edges' own statements (satellites/connection/service.ts), never by the heartbeat
-- flush; not indexed, so those updates stay HOT. NULL before the first edge, and for edges
-- recorded before this migration (nothing to backfill it from but updated_at, which profile
-- edits move too).
ALTER TABLE satellites ADD COLUMN IF NOT EXISTS last_event_at timestamptz;
