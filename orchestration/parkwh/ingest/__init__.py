"""Ingestion: inbox → content-addressed archive → landing Parquet → ``raw`` views, with an audit trail."""
