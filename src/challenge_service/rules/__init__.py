"""Pure progress, rotation-period and selection rules: no I/O, no clock reads (docs/challenges.md).

These functions are the specification. The flush SQL (`sql/020_flush_by_key.sql`) implements the same
rules set-based; property tests replay random event sequences through both and require identical results.
"""
