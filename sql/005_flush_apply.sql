-- The event flush as one statement (SPEC §8). The flusher COPYs a batch — one row per (player, goal),
-- sorted by (user_id, goal_id) — into its per-connection staging table `flush_staging` (created by
-- store/flush.py when the connection is first used), in autocommit. This statement-level trigger on
-- that table then records the batch's event ids and applies every staged row with one set-based
-- UPDATE, inside the COPY's own transaction: one statement and two round trips per flush instead of
-- BEGIN, INSERT ids, COPY, UPDATE, COMMIT (measured in docs/performance.md).
--
-- The UPDATE mirrors `rules.progress.apply` (the specification) step by step;
-- tests/events/test_flush_matches_rules.py replays random rows and events through both. To change a
-- rule, change rules/progress.py and add a migration that replaces this function.
--
-- Event ids ride on the batch's first staged row. If any of them was processed before (a redelivery
-- after a restart, or an event another replica applied), the whole statement fails with SQLSTATE
-- CS001 and rolls back; the flusher then records the ids first, drops those events from the batch and
-- COPYs the rest without ids (events/flusher.py). An id is recorded if and only if its event's
-- progress commits.
CREATE FUNCTION apply_flush_batch() RETURNS trigger
LANGUAGE plpgsql
-- The staging rows have no statistics, and past a few thousand rows the planner would switch to a hash
-- join over a sequential scan of the whole progress table (measured: 26,000 staged rows on a 1.3 M-row
-- table, 12 ms as a nested loop → 1.15 s as a hash join), which also locks rows in table order instead
-- of the staging order. A nested loop driven by the sorted staged rows keeps both: index lookups only,
-- and every flusher (every replica) locks rows in the same order, so they never deadlock.
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
DECLARE
    expected bigint;
    recorded bigint;
BEGIN
    SELECT coalesce(sum(cardinality(event_ids)), 0) INTO expected FROM staged;
    IF expected > 0 THEN
        INSERT INTO processed_events (event_id)
        SELECT unnest(event_ids) FROM staged
        ON CONFLICT (event_id) DO NOTHING;
        GET DIAGNOSTICS recorded = ROW_COUNT;
        IF recorded < expected THEN
            RAISE EXCEPTION 'the batch holds events that were processed before'
                USING ERRCODE = 'CS001';
        END IF;
    END IF;

    -- Step by step as rules.progress.apply: t = is a rotation due, x = does it reset, r = the row
    -- after rotation, n = after the events, d = displayed progress. Every input is the row's current
    -- value (p.*), which PostgreSQL re-reads if a concurrent writer updated the row before we locked
    -- it. Only active rows move; a claimed row moves only when a due rotation resets it or moves its
    -- expiry.
    UPDATE user_goal_progress AS p
    SET (progress, baseline, status, completed_at, claimed_at, expires_at, updated_at) = (
        SELECT n.progress,
               n.baseline,
               CASE WHEN NOT n.moves OR r.status = 'completed' THEN r.status
                    WHEN d.shown >= s.target THEN 'completed'
                    ELSE 'in_progress' END,
               CASE WHEN n.moves AND r.status <> 'completed' AND d.shown >= s.target THEN s.flush_time
                    ELSE r.completed_at END,
               r.claimed_at,
               r.expires_at,
               s.flush_time
        FROM (SELECT s.rotating AND coalesce(p.expires_at <= s.flush_time, false) AS due) AS t
        CROSS JOIN LATERAL (
            SELECT t.due AND CASE WHEN p.status = 'claimed' THEN s.allow_reselection
                                  ELSE s.reset_progress END AS reset
        ) AS x
        CROSS JOIN LATERAL (
            SELECT CASE WHEN x.reset THEN 'not_started' ELSE p.status END AS status,
                   CASE WHEN x.reset THEN NULL ELSE p.baseline END AS baseline,
                   CASE WHEN x.reset THEN NULL ELSE p.completed_at END AS completed_at,
                   CASE WHEN x.reset THEN NULL ELSE p.claimed_at END AS claimed_at,
                   CASE WHEN t.due THEN s.period_end ELSE p.expires_at END AS expires_at
        ) AS r
        CROSS JOIN LATERAL (
            SELECT r.status <> 'claimed' AS moves,
                   CASE WHEN r.status = 'claimed' THEN p.progress
                        ELSE coalesce(s.value, p.progress + s.add) END AS raw
        ) AS m
        CROSS JOIN LATERAL (
            SELECT m.moves,
                   m.raw AS progress,
                   CASE WHEN m.moves AND s.relative AND r.baseline IS NULL THEN m.raw - s.inc
                        ELSE r.baseline END AS baseline
        ) AS n
        CROSS JOIN LATERAL (
            SELECT CASE WHEN NOT s.relative THEN n.progress
                        WHEN n.baseline IS NULL THEN 0
                        ELSE greatest(n.progress - n.baseline, 0) END AS shown
        ) AS d
    )
    FROM staged AS s
    WHERE p.user_id = s.user_id
      AND p.goal_id = s.goal_id
      AND p.is_active
      AND (p.status <> 'claimed' OR (s.rotating AND p.expires_at <= s.flush_time));
    RETURN NULL;
END
$$;
