-- The outbox insert is on every mutation's path; two of its constraints cost index or trigger
-- work on every insert and guard nothing that can happen (docs/architecture.md, "What the
-- outbox's constraints guard").
--
-- change_id's UNIQUE index: every change id is a fresh random UUID (crypto.randomUUID() in
-- `mutate`, gen_random_uuid() in the run-status trigger), drawn once per recorded change and
-- inserted in the same statement that records it; a retried transaction draws a new one. No
-- reader looks a change up by it (they go by seq, entity, kind, time or cause), and the run
-- idempotency key (automation_id, trigger_id, change_id) keeps its own unique constraint on
-- automation_runs. A random-UUID index is also the costliest kind to maintain: each insert
-- lands on a random leaf page.
ALTER TABLE entity_changes DROP CONSTRAINT IF EXISTS entity_changes_change_id_key;

-- The transitions' foreign key to entity_changes(seq): its check runs a locking lookup of the
-- outbox row (and writes WAL for the lock) for every transition. Transitions are inserted only
-- in the statement (or trigger) that inserts their outbox row, from that row's RETURNING seq,
-- and nothing deletes outbox rows, so the ON DELETE CASCADE never fires either.
ALTER TABLE entity_transitions DROP CONSTRAINT IF EXISTS entity_transitions_seq_fkey;
