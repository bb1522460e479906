"""Pure progress, rotation-period and selection rules: no I/O, no clock reads (SPEC §7).

These functions are the specification. The flush SQL (`sql/005_flush_apply.sql`) implements the same
rules set-based; property tests replay random event sequences through both and require identical results.
"""
