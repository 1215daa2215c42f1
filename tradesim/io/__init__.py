"""Readers for the trade data analysts have: tidy tables, CEPII BACI and UN Comtrade; tariff schedules in TOML; writers of results. No maths here."""

from .baci import read_baci, read_baci_country_codes
from .comtrade import read_comtrade
from .results import write_outputs
from .schedule import read_schedule
from .tidy import read_flows

__all__ = ["read_baci", "read_baci_country_codes", "read_comtrade", "read_flows", "read_schedule", "write_outputs"]
