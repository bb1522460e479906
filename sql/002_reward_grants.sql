-- The reward ledger: one row per (player, goal, rotation period) for which a claim reached the
-- grant step. It makes "exactly one grant per goal per period" hold across concurrent claims,
-- client retries and crashes: a claim first records its intent here, then calls AGS, then marks
-- the row granted in the same transaction that marks the goal claimed (SPEC §5 claim).
CREATE TABLE reward_grants (
    user_id      varchar(100) NOT NULL,
    goal_id      varchar(100) NOT NULL,
    -- Start of the rotation period being claimed (RFC 3339), or '' for goals without rotation.
    period       varchar(32)  NOT NULL,
    -- What was (to be) granted, copied from the catalog at claim time so the ledger stays
    -- meaningful after the catalog changes.
    reward_type  varchar(16)  NOT NULL CHECK (reward_type IN ('ITEM', 'WALLET')),
    reward_id    varchar(100) NOT NULL,
    quantity     integer      NOT NULL CHECK (quantity > 0),
    -- pending: a grant call is (or was) in flight; if it stays pending after the claim ended, the
    --          process died between calling AGS and recording the outcome: in doubt, an operator
    --          must check AGS before it is retried.
    -- granted: AGS accepted the grant; the goal is claimed.
    -- failed:  AGS refused or could not be reached; the goal stays claimable and a later claim
    --          retries.
    state        varchar(16)  NOT NULL CHECK (state IN ('pending', 'granted', 'failed')),
    -- Number of claim attempts that reached the grant step for this period.
    attempts     integer      NOT NULL DEFAULT 1,
    -- The last failure as reported by the reward client, for operators.
    last_error   text         NOT NULL DEFAULT '',
    created_at   timestamptz  NOT NULL DEFAULT now(),
    updated_at   timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, goal_id, period)
);

-- Operators list in-doubt grants ("pending" long after their claim ended); pending rows are rare,
-- so a partial index keeps that query cheap without indexing the whole ledger.
CREATE INDEX reward_grants_pending_idx ON reward_grants (updated_at) WHERE state = 'pending';
