"""Event ingestion (SPEC §6–§8): gRPC handlers, the write buffer and the flusher."""
