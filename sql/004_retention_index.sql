-- The retention task (src/challenge_service/retention.py, store/retention.py) deletes rotating rows
-- whose period ended more than RETENTION_DAYS ago, oldest first, a bounded batch per statement:
--   WHERE expires_at < cutoff [AND (expires_at, user_id, goal_id) > last key] ORDER BY expires_at,
--   user_id, goal_id LIMIT n
-- Without an index each batch would scan the whole progress table. This one makes a batch an index
-- range scan that starts at the oldest expiry (or where the previous batch stopped, so rows kept on
-- purpose — claimed rows of non-reselectable goals — are passed over once per cycle, not once per
-- batch). Partial: rows without rotation (expires_at NULL) are never deleted by retention, so they
-- are left out of the index.
CREATE INDEX user_goal_progress_expires_at_idx ON user_goal_progress (expires_at, user_id, goal_id)
    WHERE expires_at IS NOT NULL;
