-- One row per (player, goal) the player has been assigned. Rows are created by initialize,
-- set-active and the select endpoints; events only ever UPDATE existing active rows (SPEC §6).
CREATE TABLE user_goal_progress (
    -- AGS user id: the JWT `sub` claim on REST, `user_id` on events.
    user_id      varchar(100) NOT NULL,
    -- goalId from challenges.json; unique across all challenges, so it identifies the goal alone.
    goal_id      varchar(100) NOT NULL,
    -- The goal's challengeId at assignment time, for operators and per-challenge queries.
    challenge_id varchar(100) NOT NULL,
    -- Raw progress: the latest stat value (statistic goals) or the login count (login goals).
    progress     bigint       NOT NULL DEFAULT 0,
    -- Relative mode only: raw value at the start of the period, set by the first event after
    -- activation or a rotation reset to (raw − inc). NULL = not yet known, displayed progress 0.
    baseline     bigint,
    status       varchar(16)  NOT NULL DEFAULT 'not_started'
                 CONSTRAINT user_goal_progress_status_check
                 CHECK (status IN ('not_started', 'in_progress', 'completed', 'claimed')),
    -- Only active rows move on events; deactivating keeps progress.
    is_active    boolean      NOT NULL DEFAULT false,
    -- When the goal was last activated for this player.
    assigned_at  timestamptz,
    -- First time the goal reached its target in the current period (kept until claim or reset).
    completed_at timestamptz,
    -- When the reward was claimed.
    claimed_at   timestamptz,
    -- Rotating goals: the end of the rotation period this row belongs to. A row whose expires_at
    -- has passed has rotated and is reset on its next event or initialize (SPEC §7). NULL for
    -- goals without rotation.
    expires_at   timestamptz,
    created_at   timestamptz  NOT NULL DEFAULT now(),
    updated_at   timestamptz  NOT NULL DEFAULT now(),
    -- Every query is "this user's rows" or "this user + these goals": the primary key serves both,
    -- so no further index is needed.
    PRIMARY KEY (user_id, goal_id)
);
