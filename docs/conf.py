"""Sphinx configuration for the tradesim documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` after
``pip install -e ".[docs]"``. The tables of file keys, stacking rules, model declarations, result
variables, bundled data and command-line help are written from the code at build time by the
local extension ``_ext/tradesim_docs.py``; the gallery is the scripts in ``examples/``, run.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import tradesim  # noqa: E402

project = "tradesim"
author = "tradesim developers"
copyright = "tradesim developers (BSD-3-Clause)"
version = release = tradesim.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "tradesim_docs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "_gallery", "**.ipynb_checkpoints", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip", "auto_examples/*.md5", "auto_examples/*.json"]
# Single backticks in docstrings (numpydoc style) link to Python objects when they resolve.
default_role = "py:obj"

# -- MyST (Markdown pages, the changelog) ---------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- autodoc and numpydoc ------------------------------------------------------------------
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # types are written in the numpydoc sections
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- the gallery: examples/*.py, run -------------------------------------------------------
# The extension copies examples/*.py into _gallery/ (a build folder) before sphinx-gallery starts,
# so that the figures the scripts save land there and not in the repository, and the header of
# the gallery page (gallery_header.txt) lives with the docs.
sphinx_gallery_conf = {
    "examples_dirs": "_gallery",
    "gallery_dirs": "auto_examples",
    # Every example is run (uncertainty.py's 500 draws of a two-year path take a few seconds).
    "filename_pattern": r"/[^/]+\.py$",
    "ignore_pattern": r"__init__\.py",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "show_memory": False,
    "min_reported_time": 1,
    "within_subsection_order": "FileNameSortKey",
    "capture_repr": (),
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
}

#: Examples the gallery shows without running them, and the committed figure to show instead
#: (written by running the script): none now; the mechanism stays for an example too slow to build.
tradesim_gallery_figures = {}

# -- HTML ----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"tradesim {release}"
html_theme_options = {
    "github_url": "https://github.com/tradesim/tradesim",
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}
html_show_sourcelink = False
html_static_path = []
