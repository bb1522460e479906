-- Grants that settle themselves. This supersedes what 002_reward_grants.sql says about 'pending' and
-- 'in_doubt' rows waiting for an operator (an applied migration is never edited; the column comments
-- below carry the current rules):
--   * every ledger row gets an opaque id, fixed for its life, that every attempt to grant it carries
--     to AGS: the transaction id of an ITEM fulfillment (AGS fulfils a transaction id once) and the
--     mark on a WALLET credit (AGS keeps it in the wallet's history, where it can be looked up);
--   * a background reconciler in every replica (src/challenge_service/claims/reconciler.py) takes
--     rows in doubt, and rows left pending by a claim that died, and settles them with AGS: it repeats
--     the fulfillment, or looks the credit up and credits only when it is not there. Claims still
--     never call AGS for such a row.
ALTER TABLE reward_grants
    ADD COLUMN grant_id uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN reconcile_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz;

CREATE UNIQUE INDEX reward_grants_grant_id_key ON reward_grants (grant_id);

COMMENT ON COLUMN reward_grants.grant_id IS
    'Opaque id of this row, shown as 32 hex digits: the admin API''s grantId, the AGS fulfillment '
    'transactionId of an ITEM grant, the mark (reason and metadata challengeGrantId) of a WALLET credit.';
COMMENT ON COLUMN reward_grants.state IS
    'pending: a claim is calling AGS (still pending minutes later: the claim died; the reconciler takes '
    'it). in_doubt: AGS may have applied the grant; the reconciler settles it with AGS, or an operator '
    'resolves it (admin API, challenge-service grants resolve). granted: AGS applied it; the goal is '
    'claimed. failed: AGS verifiably did not apply it; the next claim tries again.';
COMMENT ON COLUMN reward_grants.reconcile_attempts IS
    'How often the reconciler has taken this row (its back-off grows with it).';
COMMENT ON COLUMN reward_grants.next_attempt_at IS
    'The reconciler leaves the row alone until then: a lease while one replica works on it, then the '
    'back-off after an attempt that could not settle it. NULL: never taken.';
