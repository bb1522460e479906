-- The reward ledger: one row per (player, goal, rotation period) for which a claim reached the
-- grant step. It makes "exactly one grant per goal per period" hold across concurrent claims,
-- client retries and crashes (SPEC §5 claim):
--   1. with the progress row locked, the claim records its intent here as 'pending' and commits;
--   2. it calls AGS outside any transaction;
--   3. it records the outcome: 'granted' in the same transaction that marks the goal claimed, or
--      'failed' / 'in_doubt'.
-- A claim finding 'pending', 'in_doubt' or 'granted' never calls AGS; only 'failed' is retried.
-- Lock order, everywhere: the user_goal_progress row first, then this row (no deadlocks).
CREATE TABLE reward_grants (
    -- AGS user id (as in user_goal_progress).
    user_id      varchar(100) NOT NULL,
    -- goalId from challenges.json.
    goal_id      varchar(100) NOT NULL,
    -- The rotation period being claimed: the start (RFC 3339 UTC, e.g. '2025-03-10T00:00:00Z') of
    -- the period that ends at the progress row's expires_at; '' for goals without rotation (one
    -- grant ever). A new period after a reselection reset gets a new row, so it grants again.
    period       varchar(32)  NOT NULL,
    -- The progress row's expires_at when the claim started (NULL without rotation). Marking the
    -- goal claimed (by the claim or by an operator) only touches the progress row if it still has
    -- this expiry, so a grant of an old period never marks a newer period claimed.
    expires_at   timestamptz,
    -- What was (to be) granted, copied from the catalog at claim time so the ledger stays
    -- meaningful after the catalog changes.
    reward_type  varchar(16)  NOT NULL CHECK (reward_type IN ('ITEM', 'WALLET')),
    reward_id    varchar(100) NOT NULL,
    quantity     integer      NOT NULL CHECK (quantity > 0),
    -- pending:  a grant call is in flight. Still pending long after (see updated_at), the process
    --           died between calling AGS and recording the outcome: in doubt, like in_doubt.
    -- in_doubt: the reward client could not tell whether AGS applied the grant (timeout, dropped
    --           connection, 5xx after the request was sent).
    -- granted:  AGS accepted the grant; the goal is claimed.
    -- failed:   AGS verifiably did not grant (refused, unreachable); the goal stays claimable and
    --           the next claim retries (attempts + 1).
    -- Claims never leave pending/in_doubt: an operator checks AGS and runs
    -- `challenge-service grants resolve USER GOAL PERIOD --as granted|failed`.
    state        varchar(16)  NOT NULL
                 CONSTRAINT reward_grants_state_check
                 CHECK (state IN ('pending', 'in_doubt', 'granted', 'failed')),
    -- Number of claims that reached the grant step (called AGS) for this period.
    attempts     integer      NOT NULL DEFAULT 1,
    -- The last failure as reported by the reward client (or the operator's resolution), for
    -- operators; '' when none.
    last_error   text         NOT NULL DEFAULT '',
    -- Database time of the first attempt and of the last state change.
    created_at   timestamptz  NOT NULL DEFAULT now(),
    updated_at   timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, goal_id, period)
);

-- Operators list unresolved grants (pending long after their claim ended, or in doubt); such rows
-- are rare, so a partial index keeps that query cheap without indexing the whole ledger.
CREATE INDEX reward_grants_unresolved_idx ON reward_grants (updated_at)
    WHERE state IN ('pending', 'in_doubt');
