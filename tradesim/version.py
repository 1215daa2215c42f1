"""The one version string of tradesim (read by pyproject.toml, the package and the command line)."""

__version__ = "0.2.0"
