-- Challenge design beyond the reference (docs/challenges.md): per-player rotation, rotation that
-- deactivates a goal on expiry, time-windowed challenges, several rewards per goal, auto-claim.
--
-- 1. user_goal_progress.auto_claim_at: an automatic claim is owed. The event flush sets it in the
--    very UPDATE that completes an `autoClaim` goal, so a completion and its owed claim commit
--    together; the auto-claimer (src/challenge_service/claims/auto.py) grants the rewards through the
--    ledger and clears it when it marks the goal claimed.
ALTER TABLE user_goal_progress ADD COLUMN auto_claim_at timestamptz;

COMMENT ON COLUMN user_goal_progress.auto_claim_at IS
    'An automatic claim of this row''s period is owed (NULL: none). The auto-claimer takes the row from '
    'this time on and moves it forward while it works on it or waits to retry. A row with an owed claim '
    'does not rotate: the claim is for the period the goal was completed in.';

-- The auto-claimer's lease walks this index; owed rows are few and short-lived, so it stays tiny.
CREATE INDEX user_goal_progress_auto_claim_idx ON user_goal_progress (auto_claim_at)
    WHERE auto_claim_at IS NOT NULL;

-- 2. reward_grants: one row per reward of a goal's period. Existing rows are reward 0 of their period
--    and keep their grant_id, which every attempt to grant them carries to AGS (the fulfillment's
--    transaction id, the wallet credit's mark), so a grant in doubt still settles exactly once.
ALTER TABLE reward_grants
    ADD COLUMN reward_index smallint NOT NULL DEFAULT 0
        CONSTRAINT reward_grants_reward_index_check CHECK (reward_index BETWEEN 0 AND 9);

-- A replica of the previous release names the old key in its claims' ON CONFLICT, which no longer
-- matches a unique index: its claims fail (500) from this migration until it is replaced. Roll the
-- release out quickly, or stop the old replicas first (docs/operations.md, "Deploying as one container").
ALTER TABLE reward_grants DROP CONSTRAINT reward_grants_pkey;
ALTER TABLE reward_grants ADD PRIMARY KEY (user_id, goal_id, period, reward_index);

COMMENT ON COLUMN reward_grants.reward_index IS
    'Which reward of the goal (0 = the first, or the only one): a claim grants each reward of a goal '
    'exactly once, and the goal is claimed when every one is granted.';

-- 3. The extended event flush: 020's statement plus per-user periods (a period restarts `duration`
--    after the reset instead of at the calendar's next boundary), rotation that deactivates on expiry,
--    and the owed claim of a completed `autoClaim` goal (a row with an owed claim does not rotate: the
--    claim is for the period the goal was completed in, while the goal is `autoClaim`). Goals of challenges that are not live are left
--    out of the header by the flusher, so neither statement touches them.
--
--    It is a second function on a second staging table (store/flush.py), not a replacement of 020's:
--    the flusher COPYs a batch into `flush_staging_extended` only when a goal of the batch's keys has a
--    per-user period, deactivates or is auto-claimed, and into `flush_staging` (020's statement)
--    otherwise. The extended statement costs about a fifth more PostgreSQL CPU per event
--    (docs/performance.md), which a catalog that does not use these keys does not pay, and 020's stays
--    untouched, so a replica of the previous release keeps flushing during a rolling upgrade.
--    Only a goal that is `autoClaim` keeps its period while a claim is owed; should a catalog reload
--    drop the flag, the row rotates as any other — in both statements, and in `rules.progress.rotate`.
--
-- The UPDATE mirrors `rules.progress.apply` (the specification) step by step;
-- tests/events/test_flush_matches_rules.py replays random rows and events through both flushes.
CREATE FUNCTION apply_flush_extended() RETURNS trigger
LANGUAGE plpgsql
-- See 020: a nested loop driven by the sorted staged rows keeps index lookups and the lock order.
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

    WITH work AS MATERIALIZED (
        SELECT s.user_id, s.value, s.add, s.inc, k.*, h.flush_time
        FROM staged AS h
        CROSS JOIN LATERAL jsonb_to_recordset(h.goals::jsonb)
            AS k(key text, goal_ids text[], targets bigint[], relative boolean[], rotating boolean[],
                 period_ends timestamptz[], reset_progress boolean[], allow_reselection boolean[],
                 durations bigint[], deactivate boolean[], auto_claim boolean[])
        JOIN staged AS s ON s.stat_code IS NOT DISTINCT FROM k.key
        WHERE h.goals IS NOT NULL
        ORDER BY s.user_id, s.stat_code NULLS FIRST
    )
    UPDATE user_goal_progress AS p
    SET (progress, baseline, status, completed_at, claimed_at, expires_at, is_active, auto_claim_at,
         updated_at) = (
        SELECT n.progress,
               n.baseline,
               CASE WHEN c.completes THEN 'completed' WHEN n.moves AND r.status <> 'completed' THEN 'in_progress'
                    ELSE r.status END,
               CASE WHEN c.completes THEN g.flush_time ELSE r.completed_at END,
               r.claimed_at,
               r.expires_at,
               r.is_active,
               CASE WHEN c.completes AND g.auto_claim THEN coalesce(p.auto_claim_at, g.flush_time)
                    ELSE p.auto_claim_at END,
               g.flush_time
        FROM (SELECT array_position(w.goal_ids, p.goal_id::text) AS i) AS goal
        CROSS JOIN LATERAL (
            SELECT w.targets[goal.i] AS target,
                   w.relative[goal.i] AS relative,
                   w.rotating[goal.i] AS rotating,
                   w.period_ends[goal.i] AS period_end,
                   w.reset_progress[goal.i] AS reset_progress,
                   w.allow_reselection[goal.i] AS allow_reselection,
                   w.durations[goal.i] AS duration_s,
                   coalesce(w.deactivate[goal.i], false) AS deactivate,
                   coalesce(w.auto_claim[goal.i], false) AS auto_claim,
                   w.flush_time,
                   w.value,
                   w.add,
                   w.inc
        ) AS g
        -- t: is a rotation due (not while an `autoClaim` goal's claim is owed)
        CROSS JOIN LATERAL (
            SELECT g.rotating AND coalesce(p.expires_at <= g.flush_time, false)
                   AND (p.auto_claim_at IS NULL OR NOT g.auto_claim) AS due
        ) AS t
        -- x: does it reset the progress
        CROSS JOIN LATERAL (
            SELECT t.due AND CASE WHEN p.status = 'claimed' THEN g.allow_reselection
                                  ELSE g.reset_progress END AS reset
        ) AS x
        -- r: the row after rotation; deactivating keeps the ended period, otherwise the next one
        -- starts: the calendar's (global) or `duration` from now (per user)
        CROSS JOIN LATERAL (
            SELECT CASE WHEN x.reset THEN 'not_started' ELSE p.status END AS status,
                   CASE WHEN x.reset THEN NULL ELSE p.baseline END AS baseline,
                   CASE WHEN x.reset THEN NULL ELSE p.completed_at END AS completed_at,
                   CASE WHEN x.reset THEN NULL ELSE p.claimed_at END AS claimed_at,
                   CASE WHEN NOT t.due OR g.deactivate THEN p.expires_at
                        ELSE coalesce(g.flush_time + make_interval(secs => g.duration_s), g.period_end)
                   END AS expires_at,
                   p.is_active AND NOT (t.due AND g.deactivate) AS is_active
        ) AS r
        -- m: does the row take the events
        CROSS JOIN LATERAL (
            SELECT r.status <> 'claimed' AND r.is_active AS moves,
                   CASE WHEN r.status = 'claimed' OR NOT r.is_active THEN p.progress
                        ELSE coalesce(g.value, p.progress + g.add) END AS raw
        ) AS m
        -- n: after the events
        CROSS JOIN LATERAL (
            SELECT m.moves,
                   m.raw AS progress,
                   CASE WHEN m.moves AND g.relative AND r.baseline IS NULL THEN m.raw - g.inc
                        ELSE r.baseline END AS baseline
        ) AS n
        -- d: the displayed progress
        CROSS JOIN LATERAL (
            SELECT CASE WHEN NOT g.relative THEN n.progress
                        WHEN n.baseline IS NULL THEN 0
                        ELSE greatest(n.progress - n.baseline, 0) END AS shown
        ) AS d
        -- c: do the events complete it now
        CROSS JOIN LATERAL (
            SELECT n.moves AND r.status <> 'completed' AND d.shown >= g.target AS completes
        ) AS c
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
