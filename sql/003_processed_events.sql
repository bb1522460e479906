-- Ids of gRPC events already applied, so a redelivered event (AGS retries, a client retrying after
-- UNAVAILABLE, a replay after a restart, the same event sent to two replicas) is applied once
-- (SPEC §6). An id is inserted by the very flush transaction that applies the event, with
-- ON CONFLICT DO NOTHING RETURNING: only the ids that transaction inserted are applied, so an id is
-- recorded if and only if its event's progress is committed (see events/buffer.py).
CREATE TABLE processed_events (
    -- The event's `id` field (only events with a non-empty id are recorded). Unique across event
    -- kinds: AGS ids are UUIDs.
    event_id     varchar(100) PRIMARY KEY,
    -- When the applying flush committed (its transaction time). Rows older than the dedup window
    -- (EVENT_DEDUP_HOURS, ≥ 24 h) are deleted in bounded batches by the flusher's cleanup.
    processed_at timestamptz  NOT NULL DEFAULT now()
);

-- The cleanup deletes the oldest rows first; this index makes each batch an index range scan.
CREATE INDEX processed_events_processed_at_idx ON processed_events (processed_at);
