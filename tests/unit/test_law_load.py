"""Loading schedules fast without losing a problem: the vectorised checks of large tables (rates and shares by
HS line and exporter) accept exactly what the entry-by-entry rules accepted, load the bundled schedule's
tables as a plain reading of its files gives them, and name every bad entry at once."""

import datetime as dt
import tomllib
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest

from tradesim import Measure, ScenarioError, TariffSchedule
from tradesim.codes import COUNTRY_GROUPS, country_problem, hs_problem, hs_problem_mask
from tradesim.law.bundled import schedule_file
from tradesim.law.fields import MAX_RATE, MEASURE_FIELDS, FieldErrors, check_value
from tradesim.law.file import read_parts

FIELDS = {f.name: f for f in MEASURE_FIELDS}


# --------------------------------------------------------------------------- the rules entry by entry


def _is_number(v):
    return isinstance(v, int | float | np.number) and not isinstance(v, bool) and bool(np.isfinite(v))


def _value(v, where, upper):
    """The rules for one value, as they were written before the checks were vectorised."""
    if upper == 1:
        if not _is_number(v) or not 0 <= v <= 1:
            return None, [f"{where}{v!r} is not a share: expected a number from 0 to 1"]
        return float(v), []
    if not _is_number(v):
        return None, [f"{where}{v!r} is not a number"]
    if v < 0:
        return None, [f"{where}rate {v:g} is negative: expected 0 to {MAX_RATE:g} (0% to 2,000%)"]
    if v > MAX_RATE:
        return None, [f"{where}rate {v:g} is above {MAX_RATE:g} (2,000%): rates are fractions, 0.25 is 25%"]
    return float(v), []


def _codes(codes):
    bad = [p for c in dict.fromkeys(codes) if (p := hs_problem(c))]
    return ["; ".join(bad[:5]) + (f"; ... and {len(bad) - 5} more" if len(bad) > 5 else "")] if bad else []


def _countries(codes):
    bad = [p for c in dict.fromkeys(codes) if (p := country_problem(c, COUNTRY_GROUPS))]
    return ["; ".join(bad)] if bad else []


def _line(k):
    if not (isinstance(k, tuple) and len(k) == 2):
        return [f"key {k!r} is not (exporter, HS code)"]
    return _countries([k[0]]) + _codes([k[1]])


KEYS = {"code": lambda k: _codes([k]), "exporter": lambda k: _countries([k]), "line": _line}


def reference(value, keys: str, upper: float):
    """The table checked entry by entry (the former loop): the converted table and the problems, in order."""
    out, problems = {}, []
    for k, v in value.items():
        problems += KEYS[keys](k)
        out[k], found = _value(v, f"[{k!r}] ", upper)
        problems += found
    return out, problems


CASES = [("line_shares", "qualifying_lines", "line", 1.0), ("line_rates", "line_rates", "line", MAX_RATE),
         ("code_rates", "product_rates", "code", MAX_RATE), ("code_shares", "value_shares", "code", 1.0),
         ("exporter_rates", "exporter_rates", "exporter", MAX_RATE),
         ("exporter_shares", "qualifying", "exporter", 1.0)]


def _table(rng, keys: str, n: int) -> dict:
    """`n` entries, mostly good, with every kind of bad key and value somewhere (seeded)."""
    codes = [f"{c:08d}" for c in rng.choice(np.arange(1_000_000, 97_000_000), n, replace=False)]
    odd_codes = ["01A3", "770110", "0001", "123", "", "٠١٠١", "0101\x00", "01" * 6, 101, None, "8703.10", "99"]
    exporters = ["CAN", "MEX", "CHN", "EU27", "ROW"]
    odd_exporters = ["XXX", "can", "", "CA", 7]
    values = rng.uniform(0, 1, n).tolist()
    odd_values = [-0.1, 1.5, 25.0, 20.0, float("nan"), float("inf"), True, "0.5", None, 1, 0, np.float64(0.3),
                  np.float32(0.25), np.int64(1), 10**400]
    table = {}
    for i in range(n):
        code = odd_codes[i % len(odd_codes)] if i % 997 == 5 else codes[i]
        exporter = odd_exporters[i % len(odd_exporters)] if i % 1009 == 7 else exporters[i % len(exporters)]
        value = odd_values[i % len(odd_values)] if i % 499 == 3 else values[i]
        key = {"code": code, "exporter": exporter, "line": (exporter, code)}[keys]
        if keys == "line" and i % 2003 == 11:
            key = (exporter, code, "x") if i % 2 else exporter  # not a pair
        table[key] = value
    return table


@pytest.mark.parametrize("kind, field, keys, upper", CASES)
def test_the_vectorised_checks_accept_and_word_exactly_what_the_entry_rules_did(kind, field, keys, upper):
    rng = np.random.default_rng(20251126)
    f = FIELDS[field]
    assert f.type == kind
    n = 6_000 if keys != "exporter" else 400
    table = _table(rng, keys, n)
    if keys == "exporter":
        table = {k: v for k, v in table.items() if isinstance(v, float)} | {"XXX": 0.5, "can": -1.0, 7: True}
    try:
        expected = reference(table, keys, upper)
    except TypeError:  # 10**400 has no finite test; the vectorised checks fail the same way
        with pytest.raises(TypeError):
            check_value(f, table)
        table = {k: v for k, v in table.items() if v != 10**400}
        expected = reference(table, keys, upper)
    out, problems = check_value(f, table)
    assert problems == expected[1] and len(problems) > 3
    assert isinstance(out, MappingProxyType) and list(out.items()) == list(expected[0].items())
    assert [type(v) for v in out.values()] == [type(v) for v in expected[0].values()]
    good = {k: v for k, v in table.items() if not reference({k: v}, keys, upper)[1]}
    out, problems = check_value(f, good)
    assert problems == [] and dict(out) == reference(good, keys, upper)[0]


def test_hs_problem_mask_flags_exactly_the_codes_hs_problem_refuses():
    rng = np.random.default_rng(7)
    alphabet = list("0123456789" * 4) + list("7.  a\x00٣²０") + ["𝟘", "\ud800"]
    codes = ["".join(rng.choice(alphabet, rng.integers(0, 13))) for _ in range(20_000)]
    codes += [None, 101, 1.5, b"0101", np.str_("0101"), "7701", "00", "01", "99", "9999999999", "0101\x00", "\x000101"]
    mask = hs_problem_mask(codes)
    assert mask.tolist() == [hs_problem(c) is not None for c in codes]
    assert 0 < mask.sum() < len(codes)
    for few in (["0101"], ["7701", "0101"], []):  # short inputs take the entry-by-entry path
        assert hs_problem_mask(few).tolist() == [hs_problem(c) is not None for c in few]


# --------------------------------------------------------------------------- the bundled schedule


def _tables(path: Path):
    """Every [[measures]] table of a schedule file and the files it includes, with the folder it names files in."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for name in data.get("schedule", {}).get("include", []):
        yield from _tables(path.parent / name)
    for table in data.get("measures", []):
        yield table, path.parent


def _plain(folder: Path, name: str, value_col: str) -> pd.DataFrame:
    frame = pd.read_csv(folder / name, dtype=str, keep_default_na=False, skipinitialspace=True)
    return pd.DataFrame({"exporter": frame["exporter"] if "exporter" in frame else "",
                         "hs_code": frame["hs_code"].str.replace(".", "").str.replace(" ", ""),
                         "value": frame[value_col].astype(float) / 100})


def test_the_bundled_schedule_loads_the_tables_a_plain_reading_of_its_files_gives():
    path = schedule_file("tariffs-2025")
    measures = {m.name: m for m in read_parts(path)[0]}
    expected: dict[str, dict] = {}
    for table, folder in _tables(path):
        want = expected.setdefault(table["name"], {})
        for key, field, kind in (("rates_pct", "product_rates", "code"), ("value_shares_pct", "value_shares", "code"),
                                 ("exporter_rates_pct", "exporter_rates", "exporter"),
                                 ("qualifying_pct", "qualifying", "exporter")):
            if key in table:
                want.setdefault(field, {}).update({k: v / 100 for k, v in table[key].items()})
        if "rates_file" in table:
            frame = _plain(folder, table["rates_file"], "rate_pct")
            own = frame["exporter"] != ""
            want.setdefault("product_rates", {}).update(zip(frame.loc[~own, "hs_code"], frame.loc[~own, "value"]))
            if own.any():
                want["line_rates"] = dict(zip(zip(frame.loc[own, "exporter"], frame.loc[own, "hs_code"]),
                                              frame.loc[own, "value"]))
        if "value_shares_file" in table:
            frame = _plain(folder, table["value_shares_file"], "share_pct")
            want["value_shares"] = dict(zip(frame["hs_code"], frame["value"]))
        if "qualifying_file" in table:
            frame = _plain(folder, table["qualifying_file"], "share_pct")
            want["qualifying_lines"] = dict(zip(zip(frame["exporter"], frame["hs_code"]), frame["value"]))
    assert set(expected) == set(measures)
    entries = 0
    for name, m in measures.items():
        for field in ("product_rates", "line_rates", "value_shares", "exporter_rates", "qualifying",
                      "qualifying_lines"):
            got, want = getattr(m, field), expected[name].get(field)
            if want is None:
                assert got is None, (name, field)
                continue
            assert isinstance(got, MappingProxyType) and list(got) == list(want), (name, field)
            assert all(type(v) is float for v in got.values())
            np.testing.assert_array_equal(list(got.values()), list(want.values()))
            entries += len(got)
            # and every entry passes the entry-by-entry rules
            keys = {"qualifying_lines": "line", "line_rates": "line", "exporter_rates": "exporter",
                    "qualifying": "exporter"}.get(field, "code")
            upper = 1.0 if field in ("value_shares", "qualifying", "qualifying_lines") else MAX_RATE
            assert reference(dict(got), keys, upper) == (dict(got), []), (name, field)
    assert entries > 300_000  # the large tables are all there


# --------------------------------------------------------------------------- every bad entry, at once


def _write(folder: Path, text: str) -> Path:
    path = folder / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_bad_entry_of_a_large_file_is_named_at_once(tmp_path):
    rng = np.random.default_rng(3)
    codes = [f"{c:08d}" for c in rng.choice(np.arange(1_000_000, 77_000_000), 20_000, replace=False)]  # 01-76
    frame = pd.DataFrame({"exporter": rng.choice(["CAN", "MEX"], len(codes)), "hs_code": codes,
                          "share_pct": rng.uniform(0, 100, len(codes)).round(2).astype(str)})
    frame.loc[1200, "hs_code"] = "01A30000"  # file line 1202
    frame.loc[5000, "share_pct"] = "150"  # line 5002
    frame.loc[17000, "exporter"] = "XXX"  # line 17002
    frame.to_csv(tmp_path / "q.csv", index=False)
    path = _write(tmp_path, '[[measures]]\nname = "m"\nimporter = "USA"\nrate_pct = 25\nqualifying_file = "q.csv"\n'
                            'start = 2025-03-07\n')
    with pytest.raises(ScenarioError) as err:
        TariffSchedule.from_file(path)
    (problem,) = err.value.problems
    assert problem.key == "measures[0].qualifying_file" and problem.line == 5
    text = str(problem)
    assert str(tmp_path / "q.csv") in text
    assert "line 1202: HS code '01A30000' has characters other than digits" in text
    assert "line 5002: share_pct '150' is not a number from 0 to 100" in text
    assert "line 17002: unknown country code 'XXX': expected an ISO 3166 alpha-3 code" in text
    assert "more" not in text  # three problems, all shown


def test_every_bad_entry_of_a_large_table_is_named_at_once():
    rng = np.random.default_rng(11)
    codes = [f"{c:08d}" for c in rng.choice(np.arange(1_000_000, 77_000_000), 50_000, replace=False)]  # 01-76
    table = {(["CAN", "MEX"][i % 2], c): float(v) for i, (c, v) in enumerate(zip(codes, rng.uniform(0, 1, 50_000)))}
    table[("CAN", "01A3")] = 0.5
    table[("MEX", codes[100])] = 1.5
    table[("XXX", codes[200])] = 0.2
    with pytest.raises(FieldErrors) as err:
        Measure("usmca", "USA", 0.25, "2025-03-07", qualifying_lines=table)
    assert err.value.fields == [
        ("qualifying_lines", "HS code '01A3' has characters other than digits"),
        ("qualifying_lines", f"[('MEX', '{codes[100]}')] 1.5 is not a share: expected a number from 0 to 1"),
        ("qualifying_lines", country_problem("XXX", COUNTRY_GROUPS)),
    ]


def test_every_bad_entry_of_an_inline_table_is_named_at_once(tmp_path):
    path = _write(tmp_path, '[[measures]]\nname = "m"\nimporter = "USA"\nrate_pct = 25\nstart = 2025-03-07\n'
                            'qualifying_pct = { CAN = 140, MEX = -3, XXX = 20, USA = 10 }\n'
                            'rates_pct = { "8703" = 2.5, "87A3" = 1, "9503" = 2500 }\n')
    with pytest.raises(ScenarioError) as err:
        TariffSchedule.from_file(path)
    by_key: dict[str, str] = {}
    for p in err.value.problems:
        by_key[p.key] = by_key.get(p.key, "") + str(p)
    qualifying, rates = by_key["measures[0].qualifying_pct"], by_key["measures[0].rates_pct"]
    assert "['CAN'] 140% is outside 0% to 100%" in qualifying and "['MEX'] -3% is outside 0% to 100%" in qualifying
    assert "unknown country code 'XXX'" in qualifying
    assert "['9503'] 2500% is outside 0% to 2,000%" in rates
    assert "HS code '87A3' has characters other than digits" in rates
    assert set(by_key) == {"measures[0].qualifying_pct", "measures[0].rates_pct"}


def test_a_file_named_by_many_measures_is_read_once_and_gives_each_the_same_table(tmp_path, monkeypatch):
    import tradesim.law.file as law_file

    (tmp_path / "q.csv").write_text("exporter,hs_code,share_pct\nCAN,0101,50\nMEX,8703.10,25\n", encoding="utf-8")
    text = "".join(f'[[measures]]\nname = "m{i}"\nimporter = "USA"\nrate_pct = 25\nqualifying_file = "q.csv"\n'
                   f'start = 2025-03-0{i + 1}\n\n' for i in range(3))
    path = _write(tmp_path, text)
    reads = []
    read_table = law_file.read_table
    monkeypatch.setattr(law_file, "read_table", lambda *a, **k: reads.append(a[0]) or read_table(*a, **k))
    s = TariffSchedule.from_file(path)
    assert len(reads) == 1
    assert [dict(m.qualifying_lines) for m in s.measures] == [{("CAN", "0101"): 0.5, ("MEX", "870310"): 0.25}] * 3
    assert s.measures[0].start == dt.date(2025, 3, 1)


@pytest.mark.parametrize("value, shown", [(2**63, "9.22337e+18"), (2**64, "1.84467e+19"),
                                          (10**400, "100000...(401 digits)")])
def test_a_whole_number_too_large_for_a_float_is_named_not_a_type_error(value, shown):
    # Python ints have no size limit; numpy's checks of them used to raise TypeError or OverflowError
    for kw, where in ((dict(rate=value), "rate: rate"), (dict(exporter_rates={"CHN": value}), "['CHN'] rate"),
                      (dict(product_rates={"0101": value}), "['0101'] rate")):
        with pytest.raises(FieldErrors) as err:
            Measure(name="m", importer="USA", start=dt.date(2025, 1, 1), **{"rate": 0.1, **kw})
        assert f"{where} {shown} is above {MAX_RATE:g} (2,000%)" in str(err.value)
    with pytest.raises(FieldErrors, match=r"is negative"):
        Measure(name="m", importer="USA", start=dt.date(2025, 1, 1), rate=-(10**400))
