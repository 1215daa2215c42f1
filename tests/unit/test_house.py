"""The house rules (DESIGN section 3): imports point down the layers, no circles, no private names
imported across modules; a new model is one registration; results share one design."""

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tradesim
from tradesim import plot
from tradesim.cli import main
from tradesim.models import MODELS, ModelSpec, get_model, register

PACKAGE = Path(tradesim.__file__).parent

# The layers, bottom first: a module may import only from its own layer and the ones before it.
LAYERS = [
    {"tradesim.errors", "tradesim.codes", "tradesim.files", "tradesim.kept"},
    {"tradesim.data"},
    {"tradesim.law"},
    {"tradesim.models"},
    {"tradesim.elasticities"},
    {"tradesim.scenario"},
    {"tradesim.results"},
    {"tradesim.simulate"},
    {"tradesim.ensemble"},
    {"tradesim.plot"},
    {"tradesim.cli", "tradesim"},
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, list[tuple[str, list[str], int]]]:
    """For every module: (imported module, names taken from it, line), at any depth of the file."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = []
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(a.name, [], node.lineno) for a in node.names if a.name.startswith("tradesim")]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if not target.startswith("tradesim"):
                    continue
                names = [a.name for a in node.names]
                # `from pkg import submodule` imports the submodule
                subs = [f"{target}.{n}" for n in names if (PACKAGE.parent / f"{target}.{n}".replace(".", "/")).exists()
                        or (PACKAGE.parent / (f"{target}.{n}".replace(".", "/") + ".py")).exists()]
                rest = [n for n in names if f"{target}.{n}" not in subs]
                if rest:  # names from the module itself (`from pkg import sub` only runs pkg when pkg is new)
                    found.append((target, rest, node.lineno))
                found += [(s, [], node.lineno) for s in subs]
        out[name] = found
    return out


def _layer(module: str) -> int:
    for n, layer in enumerate(LAYERS):
        if any(module == top or module.startswith(top + ".") for top in layer if top != "tradesim"):
            return n
    return len(LAYERS) - 1  # tradesim itself


def test_no_circle_of_imports_counting_imports_inside_functions():
    imports = _imports()
    graph = {m: sorted({t for t, _, _ in found if t != m and t in imports and not m.startswith(t + ".")}
                       | _parents(found, imports, m)) for m, found in imports.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in graph[m]:
            if state.get(n) == 1:
                cycle = stack[stack.index(n):] + [n]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def _parents(found, imports, me: str) -> set[str]:
    """Importing a.b.c runs a/__init__ and a/b/__init__ too (not counting the importer's own packages)."""
    out = set()
    for target, _, _ in found:
        parts = target.split(".")
        for k in range(2, len(parts)):
            parent = ".".join(parts[:k])
            if parent in imports and not me.startswith(parent):
                out.add(parent)
    return out


def test_imports_point_down_the_layers():
    bad = []
    for module, found in _imports().items():
        for target, _, line in found:
            if target == "tradesim" and module != "tradesim":
                bad.append(f"{module}:{line} imports the top-level package")
            elif _layer(target) > _layer(module):
                bad.append(f"{module}:{line} imports {target}, a layer above it")
    assert not bad, "\n".join(bad)


def test_no_private_name_is_imported_from_another_module():
    bad = []
    for module, found in _imports().items():
        for target, names, line in found:
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                bad.append(f"{module}:{line} imports {private} from {target}")
            # a private module only from inside its own package
            last = target.rpartition(".")[2]
            if last.startswith("_") and not last.startswith("__") and \
                    target.rpartition(".")[0] != (module if (PACKAGE / "/".join(module.split(".")[1:]) / "__init__.py")
                                                  .exists() else module.rpartition(".")[0]):
                bad.append(f"{module}:{line} imports the private module {target}")
    assert not bad, "\n".join(bad)


def test_every_folder_name_says_what_it_holds():
    packages = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
    # an installed (not editable) tradesim also holds the bundled scenario files as tradesim.scenarios
    assert [p for p in packages if p != "scenarios"] == ["data", "law", "models", "plot", "results", "scenario"]
    assert not (PACKAGE / "io").exists()


# --------------------------------------------------------------------------- a new model is one registration


@pytest.fixture
def toy():
    """A model registered in this file only: PE with the domestic substitute off and eta = sigma."""
    pe = get_model("pe")

    def solve(flows, tariff_before, tariff_after, sigma, *, home=None):
        return pe.solve(flows, tariff_before, tariff_after, sigma, sigma, np.inf, domestic=False, home=home)

    spec = register(ModelSpec("toy", solve, pe.parameters[:1], pe.outputs, pe.welfare,
                              "test double: PE with eta = sigma", trade_elasticity="sigma", parameter_ndim=2))
    yield spec
    MODELS.pop("toy")


def test_a_model_registered_in_a_test_runs_through_simulate_the_cli_and_the_plots(toy, tmp_path, capsys):
    demo = tradesim.load_baseline("demo-2024")
    law = tradesim.load_schedule("us-china-2025")
    with pytest.warns(tradesim.TradesimWarning):
        r = tradesim.simulate(demo, (law, "2024-12-31"), (law, "2025-04-14"), model="toy", elasticities={"sigma": 3})
    ref = tradesim.simulate(demo, (law, "2024-12-31"), (law, "2025-04-14"), model="pe", domestic=False,
                            elasticities={"sigma": 3, "eta": 3})
    pd.testing.assert_frame_equal(r.summary("pair"), ref.summary("pair"))
    assert list(r.variables("country").index)[-5:] == [o.name for o in toy.outputs]
    ax = r.plot.welfare(countries=["USA", "CHN"])
    assert [c.get_label() for c in ax.containers] == [o.label for o in toy.outputs if o.name in toy.welfare]
    assert main(["run", "us-china-2025", "--model", "toy", "--out", str(tmp_path / "out")]) == 0
    assert "model toy" in capsys.readouterr().out
    assert list((tmp_path / "out").glob("summary_pairs.*"))
    # and the scenario reader knows it
    path = tmp_path / "s.toml"
    path.write_text('[scenario]\nextends = "us-china-2025"\nmodel = "toy"\n')
    assert tradesim.load_scenario(path).model == "toy"


# --------------------------------------------------------------------------- one result design


@pytest.fixture(scope="module")
def results():
    demo = tradesim.load_baseline("demo-2024")
    law = tradesim.load_schedule("us-china-2025")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = tradesim.simulate(demo, (law, "2024-12-31"), (law, "2025-04-14"), domestic=False,
                                   elasticities={"sigma": np.array([1.5, 2.5])[:, None, None]})
        path = tradesim.simulate(None, "geneva-truce")
        ens = tradesim.ensemble.run(None, "geneva-truce", draws=3, seed=0)
    return {"single": single, "path": path, "ensemble": ens}


@pytest.mark.parametrize("kind", ["single", "path", "ensemble"])
@pytest.mark.parametrize("level", ["cell", "pair", "country"])
def test_to_frame_and_to_xarray_agree_cell_by_cell(results, kind, level):
    pytest.importorskip("xarray")
    r = results[kind]
    if level not in r.LEVELS:
        with pytest.raises(tradesim.InputError, match="level 'cell'"):
            r.to_frame(level=level)
        return
    frame = r.to_frame(level=level, nonzero=False)
    ds = r.to_xarray(level=level)
    dims = list(r.coords(level))
    assert list(frame.columns) == [*dims, "variable", "value", "unit"]
    assert set(frame["variable"]) == set(ds.data_vars)
    for name in ds.data_vars:
        part = frame[frame["variable"] == name]
        assert set(part["unit"]) == {ds[name].attrs["unit"]}
        flat = ds[name].to_series().reset_index()  # the Dataset's own order: C order over the dims
        np.testing.assert_array_equal(part["value"].to_numpy(), flat[name].to_numpy())
        for d in dims:
            np.testing.assert_array_equal(part[d].astype(str).to_numpy(), flat[d].astype(str).to_numpy())


@pytest.mark.parametrize("kind", ["single", "path", "ensemble"])
def test_every_result_has_the_same_methods_and_a_card(results, kind):
    r = results[kind]
    for method in ("to_frame", "to_xarray", "variables", "coords", "_repr_html_", "compare" if kind != "single"
                   else "summary"):
        assert callable(getattr(r, method))
    card = r._repr_html_()
    assert card.startswith("<div><strong>") and "baseline" in card and len(card) < 20_000
    assert len(repr(r)) < 200
    assert set(r.variables("pair")["unit"]) <= {"USD", "percent", "ratio"}


def test_each_result_type_offers_only_the_plots_it_can_draw(results):
    assert dir(results["ensemble"].plot) == ["fan"]
    assert "tariff_timeline" in dir(results["path"].plot) and "tariff_timeline" not in dir(results["single"].plot)
    with pytest.raises(AttributeError, match="no plot 'heatmap' for a EnsembleResult"):
        results["ensemble"].plot.heatmap()
    assert set(plot.PLOTS) == {tradesim.SimulationResult, tradesim.ScenarioResult, tradesim.EnsembleResult}


def test_to_xarray_without_xarray_is_a_clear_error(results, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_xarray(name, *args, **kwargs):
        if name == "xarray":
            raise ImportError("no xarray here")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_xarray)
    with pytest.raises(tradesim.InputError, match="to_xarray needs xarray: pip install xarray"):
        results["path"].to_xarray()


# --------------------------------------------------------------------------- rectangular baselines


def test_a_scenario_on_the_us_imports_rectangle_gives_the_square_numbers():
    import warnings

    square = tradesim.load_baseline("demo-2024")
    rect = square.restrict(importers=["USA"])
    assert rect.flows.shape == (len(square.products), 16, 1) and not rect.square
    # the US measures only: products are cut into parts by the lines the whole law treats alike, so
    # China's lists would cut the square's products (and so the US cells) more finely than the rectangle's
    full = tradesim.load_scenario("us-china-2025")
    law = full.schedule
    us_law = tradesim.TariffSchedule([m for m in law.measures if m.importer == "USA"], law.product_lists.values())
    us_only = dataclasses.replace(full, schedule=us_law)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = tradesim.simulate(square, us_only)
        b = tradesim.simulate(rect, us_only)
    us = a.summary("pair").query("importer == 'USA'").reset_index(drop=True)
    pd.testing.assert_frame_equal(us, b.summary("pair"), rtol=1e-12)
    np.testing.assert_allclose(a.effective_rate("USA"), b.effective_rate("USA"), rtol=1e-12)
    welfare_a = a.summary("country").query("country == 'USA'")["welfare_usd"].to_numpy()
    welfare_b = b.summary("country").query("country == 'USA'")["welfare_usd"].to_numpy()
    np.testing.assert_allclose(welfare_a, welfare_b, rtol=1e-10)


def test_general_equilibrium_needs_a_square_baseline():
    rect = tradesim.load_baseline("demo-2024").restrict(importers=["USA"])
    with pytest.raises(tradesim.InputError, match="model 'ge' needs the same countries on both axes.*16 exporters "
                                                  "and 1 importers"):
        tradesim.simulate(rect, np.zeros(rect.flows.shape), np.zeros(rect.flows.shape), model="ge")


def test_rectangles_aggregate_and_summarise_by_axis():
    rect = tradesim.load_baseline("demo-2024").restrict(exporters=["CHN", "VNM", "ROW"], importers=["USA", "JPN"])
    agg = rect.aggregate(products="section", countries={"VNM": "ROW"})
    assert agg.exporters == ("CHN", "ROW") and agg.importers == ("USA", "JPN")
    assert agg.flows.sum() == pytest.approx(rect.flows.sum())
    table = rect.summary()
    assert table.loc["USA", "imports_bn"] == pytest.approx(rect.flows[:, :, 0].sum() / 1e9)
    assert table.loc["USA", "exports_bn"] == 0
    assert dataclasses.is_dataclass(rect)


def test_a_path_summary_has_the_columns_of_a_single_change_with_a_date():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tradesim.TradesimWarning)
        demo = tradesim.load_baseline("demo-2024")
        law = tradesim.load_schedule("us-china-2025")
        single = tradesim.simulate(demo, (law, "2024-12-31"), (law, "2025-04-14"), domestic=False)
        path = tradesim.simulate(None, "april-peak")
        stopped = np.zeros(demo.flows.shape)
        toys = list(demo.products).index("95"), list(demo.exporters).index("CHN"), list(demo.importers).index("USA")
        stopped[toys] = np.inf
        halted = tradesim.simulate(demo, np.zeros(demo.flows.shape), stopped, domestic=False)
    # April's path has China's halts (LNG, Boeing): the halted share comes last, as in a single change with a halt
    assert path.summary("pair").columns.tolist() == ["date", *single.summary("pair").columns, "halted_pct"]
    assert halted.summary("pair").columns.tolist() == [*single.summary("pair").columns, "halted_pct"]
