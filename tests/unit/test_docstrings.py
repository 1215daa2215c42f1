"""The examples in the public docstrings run and print what they say."""

import doctest
import importlib
import warnings

import pytest

import tradesim.baseline
import tradesim.codes
import tradesim.data
import tradesim.elasticities
import tradesim.models.ge
import tradesim.models.pe
import tradesim.tariffs


@pytest.mark.parametrize(
    "module",
    [tradesim.tariffs, tradesim.codes, tradesim.data, tradesim.baseline, tradesim.models.pe, tradesim.models.ge,
     tradesim.elasticities,
     importlib.import_module("tradesim.simulate")],  # the package's `simulate` is the function
)
def test_docstring_examples(module):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    if module is not tradesim.baseline:
        assert result.attempted > 0
