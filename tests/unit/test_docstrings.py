"""The examples in the public docstrings run and print what they say."""

import doctest
import warnings

import pytest

import tradesim.baseline
import tradesim.codes
import tradesim.data
import tradesim.tariffs


@pytest.mark.parametrize("module", [tradesim.tariffs, tradesim.codes, tradesim.data, tradesim.baseline])
def test_docstring_examples(module):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    if module is not tradesim.baseline:
        assert result.attempted > 0
