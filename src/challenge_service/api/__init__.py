"""The player REST API (docs/api.md): Litestar routes, auth, wire structs and error mapping."""
