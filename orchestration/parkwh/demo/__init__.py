"""The calibrated synthetic demo data set: 68 bases, 2019–2023, reproducing the 2024 report's figures."""

from parkwh.demo.generate import DEFAULT_SEED, DemoError, DemoResult, generate_demo

__all__ = ["DEFAULT_SEED", "DemoError", "DemoResult", "generate_demo"]
