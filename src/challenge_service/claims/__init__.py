"""Claiming rewards: exactly one grant per goal per rotation period, grants in doubt settled with AGS,
and the operator's ledger tools.

- `rules.py`      pure: which check refuses a claim, which ledger period a claim grants for
- `service.py`    the claim flow (lock and check, record the attempt, grant, record the outcome)
- `ledger.py`     the SQL of the reward ledger (`reward_grants`) and of the claim's progress-row writes
- `reconciler.py` the background task that settles pending and in-doubt grants with AGS
- `grants.py`     what an operator does with the ledger: list grants, resolve an unresolved one
- `cli.py`        `challenge-service grants list | resolve`
- `errors.py`     why a claim or a resolution is refused, as `DomainError`s
"""
