"""SQL and nothing else: the database connection, migrations and repositories."""
