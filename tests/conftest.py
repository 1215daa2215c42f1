import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import settings

import tradesim
from tradesim import Baseline, kept

# Property tests draw their examples from a fixed seed, so that a run (and CI) is reproducible; set
# HYPOTHESIS_PROFILE=explore to search with fresh examples.
settings.register_profile("seeded", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "seeded"))


@pytest.fixture(autouse=True)
def _plan_afresh():
    """Each test plans its runs afresh: the last run's law and plan, which `tradesim.kept.keep_last` holds for a
    repeat on the same objects (session fixtures share them), would carry what an earlier test formed, with its
    own monkeypatched settings, into this one."""
    kept._LAST.clear()


@pytest.fixture
def small_frame() -> pd.DataFrame:
    """Three economies, three products, with one domestic cell."""
    return pd.DataFrame(
        {
            "exporter": ["CHN", "CHN", "USA", "VNM", "CHN", "USA"],
            "importer": ["USA", "USA", "CHN", "USA", "VNM", "USA"],
            "product": ["8542", "9503", "1201", "8542", "8542", "1201"],
            "value": [100.0, 50.0, 30.0, 20.0, 10.0, 500.0],
        }
    )


@pytest.fixture
def small(small_frame) -> Baseline:
    return Baseline.from_frame(small_frame, year=2024)


@pytest.fixture
def random_baseline() -> Baseline:
    rng = np.random.default_rng(42)
    countries = ("CHN", "DEU", "MEX", "USA", "VNM", "ROW")
    products = ("0101", "0102", "1201", "8471", "8542", "854231", "9503")
    flows = rng.lognormal(10, 2, (len(products), len(countries), len(countries)))
    flows[rng.random(flows.shape) < 0.3] = 0.0
    tariffs = rng.uniform(0, 1.5, flows.shape)
    imputed = rng.random(flows.shape) < 0.5
    return Baseline(countries, products, flows, tariffs=tariffs, year=2024, imputed=imputed)


@pytest.fixture(scope="session")
def us_china():
    """The bundled us-china-2025 scenario and its baseline (demo-2024), loaded once: ``(scenario, baseline)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = tradesim.load_scenario("us-china-2025")
        return s, s.load_baseline()
