"""The examples in the public docstrings run and print what they say, in every module of the package."""

import doctest
import importlib
import importlib.util
import pkgutil
import warnings

import pytest

import tradesim

MODULES = sorted(m.name for m in pkgutil.walk_packages(tradesim.__path__, "tradesim."))
# modules that must carry examples (the others may have none)
WITH_EXAMPLES = {"tradesim.codes", "tradesim.data.baseline", "tradesim.data.bundled", "tradesim.law.schedule",
                 "tradesim.law.lists", "tradesim.law.measure", "tradesim.law.bundled", "tradesim.law.fields",
                 "tradesim.models.pe", "tradesim.models.ge", "tradesim.elasticities", "tradesim.scenario.dynamics",
                 "tradesim.scenario.phases", "tradesim.scenario.file", "tradesim.simulate", "tradesim.plot",
                 "tradesim.ensemble", "tradesim.files"}


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    if name == "tradesim.models.gravity" and importlib.util.find_spec("statsmodels") is None:
        pytest.skip("tradesim.models.gravity needs statsmodels")
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    if name in WITH_EXAMPLES:
        assert result.attempted > 0
