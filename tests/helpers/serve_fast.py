"""`challenge-service serve` with the grant reconciler and the auto-claimer on short waits, so a crash
test sees a killed process's grants settled in seconds rather than minutes:
`python -m tests.helpers.serve_fast` from the repository root, with the environment `serve` reads."""

from __future__ import annotations

import os

import uvloop

from challenge_service.app import serve
from challenge_service.claims.auto import AutoClaimPolicy
from challenge_service.claims.reconciler import ReconcilePolicy
from challenge_service.settings import load_settings

RECONCILE = ReconcilePolicy(
    interval_s=0.5,
    first_delay_s=0.5,
    settle_after_s=1.0,
    pending_after_s=2.0,
    settle_timeout_s=5.0,
    lease_s=10.0,
    backoff_s=0.5,
    max_backoff_s=2.0,
)
AUTO_CLAIM = AutoClaimPolicy(interval_s=0.5, first_delay_s=0.2, lease_s=5.0, backoff_s=0.5, max_backoff_s=2.0)

if __name__ == "__main__":
    uvloop.run(serve(load_settings(os.environ), reconcile=RECONCILE, auto_claim=AUTO_CLAIM))
