-- The audit trail of operator writes: the admin API's set-progress, reset and grant resolution, and
-- `challenge-service grants resolve`. A row is written in the transaction that makes the change, so
-- the trail holds a change if and only if it was committed (src/challenge_service/admin/audit.py).
CREATE TABLE admin_audit (
    id        bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Database time of the change.
    at        timestamptz  NOT NULL DEFAULT now(),
    -- Who: the token's `sub`, `mock:<user>` in mock-auth mode, `cli:<login>` for the command.
    actor     varchar(200) NOT NULL,
    action    varchar(32)  NOT NULL
              CONSTRAINT admin_audit_action_check
              CHECK (action IN ('set_progress', 'reset_goal', 'resolve_grant')),
    -- The player concerned; '' once that player's data was erased (GDPR), which also clears
    -- before/after. What the operator did, and who, stays accountable.
    user_id   varchar(100) NOT NULL,
    goal_id   varchar(100) NOT NULL,
    -- The ledger row a resolution settled (reward_grants.grant_id); NULL for progress changes.
    grant_id  uuid,
    -- What the operator asked for, e.g. {"progress": 5} or {"as": "granted"}.
    request   jsonb        NOT NULL DEFAULT '{}',
    -- The changed row before and after (user_goal_progress or reward_grants columns); NULL when
    -- there was no row, or after an erasure.
    before    jsonb,
    after     jsonb
);

-- `GET /v1/admin/audit?userId=` and the player's data export read one player's rows, newest first.
CREATE INDEX admin_audit_user_id_idx ON admin_audit (user_id, id);
