"""Dagster definitions, one module per area of the work; ``parkwh.definitions`` collects them."""
