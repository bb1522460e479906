"""Config-first challenge service for games."""
