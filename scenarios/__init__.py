"""Bundled scenario files (TOML). This folder is installed as the package ``tradesim.scenarios``."""
