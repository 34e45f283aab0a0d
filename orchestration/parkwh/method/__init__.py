"""The evaluation method: the catalogue as data, a numpy reference of the method, its Monte Carlo and calibration.

The deterministic method runs in SQL (``dbt_project/models/method/``); ``reference`` is the same
method in numpy, which the Monte Carlo, the demo's calibration, ``parkwh explain`` and the tests use.
"""
