"""parkwh: a data warehouse for the annual evaluation of overseas-returnee entrepreneurship parks."""

__version__ = "0.1.0"
