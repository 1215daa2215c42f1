"""Trade data: the `Baseline` (flows ``[product, exporter, importer]``), readers for the files
analysts have (tidy tables, CEPII BACI, UN Comtrade), and the bundled baselines with their
sources (see README.md in this folder)."""

from .baci import read_baci, read_baci_country_codes
from .baseline import MAX_RATE, Baseline
from .bundled import gdp_2024, list_baselines, list_fine_values, load_baseline, load_fine_values
from .comtrade import read_comtrade
from .tidy import read_flows

__all__ = ["Baseline", "MAX_RATE", "gdp_2024", "list_baselines", "list_fine_values", "load_baseline", "load_fine_values", "read_baci",
           "read_baci_country_codes", "read_comtrade", "read_flows"]
