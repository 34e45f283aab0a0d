"""Step 10, uncertainty of the ranks: the seeded Monte Carlo over the method's choices (parkwh.method.montecarlo).

One row per ranked base and year: the median rank and the 5th-95th percentile ranks over the
draws, the mean absolute shift from the published rank, and the draw count and seed used.

The expert bootstrap draws scores by their position in a base's panel, so the panel is read in
a fixed order (the score file's rows); parkwh.spark, which runs this step for Spark (dbt-spark
runs Python models on Databricks clusters only), reads the same inputs in the same orders.
"""

from parkwh.method.catalogue import catalogue_from_rows
from parkwh.method.montecarlo import uncertainty_frame


def _rows(relation):
    columns = relation.columns
    return [dict(zip(columns, values)) for values in relation.fetchall()]


def model(dbt, session):
    dbt.config(materialized="table", schema="intermediate")
    catalogue = catalogue_from_rows(_rows(dbt.ref("method_indicators")), _rows(dbt.ref("method_parameters")))
    imputed = dbt.ref("int_method_imputed").select(
        "base_code, reporting_year, indicator_code, imputed_value, ranked").df()
    panel = (dbt.ref("int_method_expert_panel").select("base_code, reporting_year, expert_score, source_row")
             .order("reporting_year, base_code, source_row").df())
    scores = dbt.ref("int_method_scores").select("base_code, reporting_year, ranked, rank").df()
    return uncertainty_frame(catalogue, imputed, panel, scores)
