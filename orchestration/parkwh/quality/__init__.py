"""The quality gate: Great Expectations suites that must pass before anything is published.

``suites`` reads ``expectations/*.yml``; ``runner`` validates them on the warehouse; ``report``
and ``audit`` keep what each run found; ``checks`` turns them into blocking Dagster asset checks.
Importing this package does not import Great Expectations (it takes seconds): ``runner`` does,
when a run starts.
"""
