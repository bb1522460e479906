"""The player REST API (SPEC §5): Litestar routes, auth, wire structs and error mapping."""
