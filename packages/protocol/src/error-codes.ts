// Every stable error code of the core, in one list: API answers carry one in `error.code`,
// and the core's errors (logged, or ending the process) carry one too. Clients branch on
// these, so a code never changes meaning; a new one is added here (VantageError takes no other).
export const ERROR_CODES = [
  // The request as a whole (HTTP status in brackets).
  "invalid_input", // 400: the body, a path parameter or a value is wrong; details.issues lists each
  "invalid_query", // 400: the query string is wrong; details.issues lists each
  "unauthorized", // 401: no credentials (bearer token or session cookie), or wrong, expired or revoked ones
  "forbidden", // 403: the caller's role may not do this (a viewer writing, an editor on users, tokens or settings)
  "csrf_token_invalid", // 403: a write authenticated by the session cookie without the session's X-CSRF-Token header
  "not_found", // 404: no such route
  "method_not_allowed", // 405: the route exists for other methods (the Allow header names them)
  "payload_too_large", // 413: the body is over the API's limit
  "too_many_auth_failures", // 429: too many wrong admin tokens from this address; retry later
  "internal", // 500: a bug; the core's log has the details
  "routes_mounted_twice", // startup: two modules mount one path (a wiring bug)

  // Checks and their results.
  "check_not_found", // 404
  "invalid_check", // 400: a check definition breaks the schema or a rule (private targets, <redacted> with nothing stored); details.issues lists each
  "check_changed", // 409: a PUT/PATCH carries a revision or updatedAt older than the stored check; GET it again
  "check_name_taken", // 409
  "maintenance_window_not_found", // 404
  "invalid_maintenance_window", // 400: a maintenance window breaks the schema; details.issues lists each
  "maintenance_window_name_taken", // 409
  "maintenance_window_changed", // 409: a PUT carries a revision or updatedAt older than the stored window; GET it again
  "invalid_range", // 400: a stats range whose from is not before its to
  "invalid_cursor", // 400: a page cursor this list did not give
  "invalid_status", // 400: a result status filter names no status
  "invalid_buckets", // 400: an uptime bar asks for too few or too many buckets
  "too_many_checks", // 400: one read asks for more checks than a page holds
  "ping_not_found", // 404: /hb/:token names no heartbeat check (unknown, rotated or deleted token)
  "too_many_pings", // 429: pings of one check, or unknown tokens from one address, over the limit; retry after Retry-After
  "not_a_heartbeat_check", // 409: a ping token is asked of a check whose type is not heartbeat
  "invalid_check_result", // a result handed to ingest breaks the result schema (a bug upstream)
  "check_result_resent", // internal: a batch of results inserted without ON CONFLICT held one already stored; the ingest redoes it with ON CONFLICT
  "ingest_stopped", // a result submitted after the ingest stopped; it is not acknowledged and is sent again
  "core_stopping", // 503: the core stopped during a run on demand; run it again
  "satellite_offline", // 409: a run on demand asked of a satellite that is not connected (or left during the run); start its agent or pick another location
  "satellite_upgrade_required", // 409: a run on demand asked of a satellite whose agent predates the `run` frame; upgrade the agent
  "satellite_run_timeout", // 504: the satellite did not answer a run on demand within the check's timeout and a margin; nothing was stored
  "satellite_run_failed", // 503: the core holding the satellite could not carry out or store the run on demand; run it again

  // Users, API tokens and sessions.
  "invalid_credentials", // 401: login with a wrong e-mail or password, or a disabled account
  "user_not_found", // 404
  "user_email_taken", // 409
  "api_token_not_found", // 404
  "role_above_own", // 403: a token may not get a role above its creator's

  // Satellites.
  "satellite_not_found", // 404
  "satellite_name_taken", // 409
  "invalid_offline_threshold", // 400
  "invalid_satellite_id", // a satellite id inside the core is not a lower-case uuid
  "invalid_session_id", // a connection's session id inside the core is not a lower-case uuid
  "duplicate_satellite_connect", // one batch of connects names a satellite twice
  "invalid_limit", // the heartbeat monitor asked for a page size that is not a positive whole number

  // Notification channels.
  "notification_channel_not_found", // 404
  "notification_channel_name_taken", // 409
  "channel_in_use", // 409: automations' notify steps name the channel
  "notification_rejected", // the receiver refused the notification; sending it again fails the same way
  "notification_undeliverable", // the receiver could not be reached; try again later

  // Automations and their runs.
  "invalid_automation", // 400: details.issues lists each problem of the definition at its path
  "automation_not_found", // 404
  "automation_name_taken", // 409
  "automation_changed", // 409: replaced since the client read it; read it again and redo the edit
  "run_not_found", // 404
  "run_not_active", // 409: only a queued, pending or running run can be cancelled
  "run_busy", // 409: mode single, a run is active
  "run_max_runs", // 409: modes queued and parallel, maxRuns runs are active
  "run_not_started", // 409: the run was refused for another reason (details say which)
  "trigger_exists", // a trigger id registered twice
  "replay_not_found", // 404: no replay job with that id was started by the caller
  "replay_running", // 409: the caller has a replay running already; wait for it or cancel it
  "replay_not_running", // 409: only a running replay can be cancelled
  "invalid_replay_range", // 400: from must be before to, and the range at most the limit
  "replay_never_sends", // a replayed action asked to send (a bug: a replay only renders)

  // Config as code.
  "invalid_bundle", // 400: a bundle's resources break their kind's schema; details.issues lists each at resources.<index>.…
  "config_plan_stale", // 409: apply --plan: the state changed since the plan was made; plan again
  "config_apply_failed", // 409: a write of the apply was refused (details say which resource); nothing was applied
  "config_secret_not_found", // 404: no stored secret has that name (`vantage secret list` shows them)

  // Secrets at rest.
  "secret_key_missing", // 409 (or fatal at start): stored secrets exist but no key is configured
  "secret_key_mismatch", // the secrets were sealed under another key
  "secret_undecryptable", // a stored secret cannot be opened; enter it again
  "bad_secret_key", // the configured key has the wrong length
  "bad_secret_key_file", // the key file holds no valid key
  "secret_key_unreadable", // the key file cannot be read
  "secret_key_unwritable", // a new key file cannot be written

  // Entities.
  "invalid_entity_state", // an owner's state does not match its entity schema
  "invalid_entity_kind", // an entity kind named like a reserved lock prefix or containing ':'
  "entity_kind_exists", // an entity kind defined twice
  "entity_schema_not_object", // an entity schema that is not a zod object
  "payload_mapper_exists", // a second payload mapper for one entity kind
  "entity_kind_not_found", // 404: no entity kind of that name is defined (the message lists the known ones)
  "change_not_retained", // 400: a change position (seq) the outbox does not hold (pruned, or another database's); start again from a time
  "shutting_down", // 503: this core is stopping; reconnect (to another core)

  // Starting the core (fatal: the process ends and says what to change).
  "invalid_config",
  "cannot_listen",
  "embedded_postgres_failed",
  "data_dir_unreachable",
  "data_dir_in_use",
  "orphan_postgres",
  "bad_migration_name",
  "migration_gap",
  "schema_too_new",
  "schema_mismatch",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
