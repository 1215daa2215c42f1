"""The examples in the public docstrings run and print what they say."""

import doctest
import importlib
import importlib.util
import warnings

import pytest

import tradesim.baseline
import tradesim.codes
import tradesim.data
import tradesim.dynamics
import tradesim.elasticities
import tradesim.models.ge
import tradesim.models.pe
import tradesim.tariffs


@pytest.mark.parametrize(
    "module",
    [tradesim.tariffs, tradesim.codes, tradesim.data, tradesim.baseline, tradesim.models.pe, tradesim.models.ge,
     tradesim.elasticities, tradesim.dynamics, importlib.import_module("tradesim.scenario"),
     importlib.import_module("tradesim.simulate"), importlib.import_module("tradesim.plot"),  # the package's `simulate` is the function
     importlib.import_module("tradesim.ensemble"),
     pytest.param("tradesim.gravity", marks=pytest.mark.skipif(importlib.util.find_spec("statsmodels") is None,
                                                               reason="tradesim.gravity needs statsmodels"))],
)
def test_docstring_examples(module):
    module = importlib.import_module(module) if isinstance(module, str) else module
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    if module is not tradesim.baseline:
        assert result.attempted > 0
