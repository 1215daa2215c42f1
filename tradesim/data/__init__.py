"""Trade data: the `Baseline` (flows ``[product, exporter, importer]``), readers for the files
analysts have (tidy tables, CEPII BACI, UN Comtrade, WITS/TRAINS tariffs), `open_baseline` for a
baseline named anywhere, HS revisions and their conversion to HS 2022, and the bundled baselines
with their sources (see README.md in this folder)."""

from .baci import baci_hs_revision, read_baci, read_baci_country_codes
from .baseline import MAX_RATE, Baseline
from .bundled import gdp_2024, list_baselines, list_fine_values, load_baseline, load_fine_values
from .comtrade import read_comtrade
from .revisions import check_hs_revision, hs_concordance, hs_revision, hs_revision_note, to_hs2022
from .sources import BASELINE_LAYOUTS, baseline_axes, baseline_layout, open_baseline
from .tidy import read_flows
from .wits import read_wits_tariffs, wits_mfn_rates_file

__all__ = ["Baseline", "MAX_RATE", "BASELINE_LAYOUTS", "baci_hs_revision", "baseline_axes", "baseline_layout",
           "check_hs_revision", "gdp_2024", "hs_concordance", "hs_revision", "hs_revision_note", "list_baselines",
           "list_fine_values", "load_baseline", "load_fine_values", "open_baseline", "read_baci",
           "read_baci_country_codes", "read_comtrade", "read_flows", "read_wits_tariffs", "to_hs2022",
           "wits_mfn_rates_file"]
