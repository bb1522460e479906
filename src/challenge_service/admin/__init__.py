"""What operators do to a player's data over the admin API, and the audit trail of it.

- `players.py` a player's full state, setting a goal's progress, resetting a goal
- `audit.py`   the audit table: every operator write with who, when, what, before and after
- `errors.py`  why an operator's request is refused, as `DomainError`s

Grants in doubt are the ledger's business (`claims/grants.py`); resolving one is audited here too.
"""
