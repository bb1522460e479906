-- The event flush as one statement, fanned out to the goals in SQL. The flusher COPYs a
-- batch — one row per (player, key), a key being a stat code or NULL for logins — into its
-- per-connection staging table `flush_staging` (created by store/flush.py when the connection
-- opens), in autocommit. This statement-level trigger on that table then records the
-- batch's event ids and applies every staged row to every goal of its key with one set-based UPDATE,
-- inside the COPY's own transaction.
--
-- It replaces 005's apply_flush_batch, which took one staged row per (player, goal): a stat code is
-- shared by ~10 goals in a typical catalog, and only the few a player has active exist as rows, so
-- staging per goal made the flusher build, send and look up ~7 rows per event, most of them for rows
-- that do not exist (measured in docs/performance.md). Now a staged row finds its player's rows of
-- its key with one index scan (`goal_id = ANY (…)` on the primary key). 005's function stays for
-- replicas of the previous release during a rolling upgrade; their staging tables still call it.
--
-- The batch's header rides on its first staged row: the event ids (one string, separated by U+001F,
-- which an id never contains: one C join in Python instead of an array of thousands to encode), the
-- flush time, and the parameters of the goals of the batch's keys as a JSON array (computed in
-- Python from the catalog and cached per key, so the SQL needs no catalog table and the flusher
-- encodes nothing per goal).
--
-- The UPDATE mirrors `rules.progress.apply` (the specification) step by step;
-- tests/events/test_flush_matches_rules.py replays random rows and events through both. To change a
-- rule, change rules/progress.py and add a migration that replaces this function.
--
-- If any of the batch's event ids was processed before (a redelivery after a restart, or an event
-- another replica applied), the whole statement fails with SQLSTATE CS001 and rolls back; the flusher
-- then records the ids first, drops those events from the batch and COPYs the rest without ids
-- (events/flusher.py). An id is recorded if and only if its event's progress commits.
CREATE FUNCTION apply_flush_by_key() RETURNS trigger
LANGUAGE plpgsql
-- The staging rows have no statistics; a hash or merge join would scan the whole progress table
-- (measured with 005: 26,000 staged rows on a 1.3 M-row table, 12 ms as a nested loop → 1.15 s as a
-- hash join) and lock rows in table order instead of the staging order. A nested loop driven by the
-- sorted staged rows keeps both: index lookups only, and every flusher (every replica) locks a
-- player's rows in the same order (user, key, goal), so they never deadlock.
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
DECLARE
    ids text[];
    recorded bigint;
BEGIN
    SELECT string_to_array(event_ids, E'\x1f') INTO ids FROM staged WHERE event_ids IS NOT NULL;
    IF ids IS NOT NULL THEN
        INSERT INTO processed_events (event_id)
        SELECT unnest(ids)
        ON CONFLICT (event_id) DO NOTHING;
        GET DIAGNOSTICS recorded = ROW_COUNT;
        IF recorded < cardinality(ids) THEN
            RAISE EXCEPTION 'the batch holds events that were processed before'
                USING ERRCODE = 'CS001';
        END IF;
    END IF;

    -- work: each staged row with the goals of its key (the header's KeyGoals objects: the goals'
    -- ids and parameters as parallel arrays in goal id order), in (user, key) order — the order the
    -- UPDATE below locks rows in.
    WITH work AS MATERIALIZED (
        SELECT s.user_id, s.value, s.add, s.inc, k.*, h.flush_time
        FROM staged AS h
        CROSS JOIN LATERAL jsonb_to_recordset(h.goals::jsonb)
            AS k(key text, goal_ids text[], targets bigint[], relative boolean[], rotating boolean[],
                 period_ends timestamptz[], reset_progress boolean[], allow_reselection boolean[])
        JOIN staged AS s ON s.stat_code IS NOT DISTINCT FROM k.key
        WHERE h.goals IS NOT NULL
        ORDER BY s.user_id, s.stat_code NULLS FIRST
    )
    UPDATE user_goal_progress AS p
    SET (progress, baseline, status, completed_at, claimed_at, expires_at, updated_at) = (
        SELECT n.progress,
               n.baseline,
               CASE WHEN NOT n.moves OR r.status = 'completed' THEN r.status
                    WHEN d.shown >= g.target THEN 'completed'
                    ELSE 'in_progress' END,
               CASE WHEN n.moves AND r.status <> 'completed' AND d.shown >= g.target THEN g.flush_time
                    ELSE r.completed_at END,
               r.claimed_at,
               r.expires_at,
               g.flush_time
        FROM (SELECT array_position(w.goal_ids, p.goal_id::text) AS i) AS goal
        CROSS JOIN LATERAL (
            SELECT w.targets[goal.i] AS target,
                   w.relative[goal.i] AS relative,
                   w.rotating[goal.i] AS rotating,
                   w.period_ends[goal.i] AS period_end,
                   w.reset_progress[goal.i] AS reset_progress,
                   w.allow_reselection[goal.i] AS allow_reselection,
                   w.flush_time,
                   w.value,
                   w.add,
                   w.inc
        ) AS g
        CROSS JOIN LATERAL (
            SELECT g.rotating AND coalesce(p.expires_at <= g.flush_time, false) AS due
        ) AS t
        CROSS JOIN LATERAL (
            SELECT t.due AND CASE WHEN p.status = 'claimed' THEN g.allow_reselection
                                  ELSE g.reset_progress END AS reset
        ) AS x
        CROSS JOIN LATERAL (
            SELECT CASE WHEN x.reset THEN 'not_started' ELSE p.status END AS status,
                   CASE WHEN x.reset THEN NULL ELSE p.baseline END AS baseline,
                   CASE WHEN x.reset THEN NULL ELSE p.completed_at END AS completed_at,
                   CASE WHEN x.reset THEN NULL ELSE p.claimed_at END AS claimed_at,
                   CASE WHEN t.due THEN g.period_end ELSE p.expires_at END AS expires_at
        ) AS r
        CROSS JOIN LATERAL (
            SELECT r.status <> 'claimed' AS moves,
                   CASE WHEN r.status = 'claimed' THEN p.progress
                        ELSE coalesce(g.value, p.progress + g.add) END AS raw
        ) AS m
        CROSS JOIN LATERAL (
            SELECT m.moves,
                   m.raw AS progress,
                   CASE WHEN m.moves AND g.relative AND r.baseline IS NULL THEN m.raw - g.inc
                        ELSE r.baseline END AS baseline
        ) AS n
        CROSS JOIN LATERAL (
            SELECT CASE WHEN NOT g.relative THEN n.progress
                        WHEN n.baseline IS NULL THEN 0
                        ELSE greatest(n.progress - n.baseline, 0) END AS shown
        ) AS d
    )
    FROM work AS w
    WHERE p.user_id = w.user_id
      AND p.goal_id = ANY (w.goal_ids)
      AND p.is_active
      AND (p.status <> 'claimed'
           OR (w.rotating[array_position(w.goal_ids, p.goal_id::text)] AND p.expires_at <= w.flush_time));
    RETURN NULL;
END
$$;
