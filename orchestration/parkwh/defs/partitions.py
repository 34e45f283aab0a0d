"""The reporting-year partitions shared by every year-partitioned asset."""

from __future__ import annotations

import dagster as dg

FIRST_REPORTING_YEAR = 2019

# One partition per completed calendar year since the first evaluation parkwh holds: a year's
# submissions arrive in the following year, so the year in progress is never a partition.
reporting_year_partitions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *",
    start=str(FIRST_REPORTING_YEAR),
    fmt="%Y",
    end_offset=0,
)
