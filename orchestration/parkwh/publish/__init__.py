"""Publishing: Parquet exports, the read-only warehouse, versioned publications and the annual report."""
