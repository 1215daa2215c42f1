"""The HS revision of a file: recorded by the readers, checked against the law's lists, converted to HS 2022."""

import gzip
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradesim import Baseline, InputError, load_baseline, read_baci, read_comtrade, read_flows
from tradesim.codes import hs_subheadings
from tradesim.data import check_hs_revision, hs_concordance, hs_revision, hs_revision_note, to_hs2022
from tradesim.errors import TradesimWarning

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "examples" / "data"
DATA = ROOT / "tradesim" / "data"


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TradesimWarning)
        return fn(*args, **kwargs)


def frame(rows, **kwargs):
    df = pd.DataFrame(rows, columns=["exporter", "importer", "product", "value"])
    return Baseline.from_frame(df, **kwargs)


# ---- recorded by the readers ----

def test_baci_revision_from_the_file_name():
    b = read_baci(SAMPLES / "BACI_HS17_Y2023_V202501.csv")
    assert b.provenance["hs_revision"] == "HS2017" and hs_revision(b) == "HS2017"


def test_renamed_baci_file_needs_its_revision(tmp_path):
    (tmp_path / "country_codes_V202501.csv").write_text((SAMPLES / "country_codes_V202501.csv").read_text())
    path = tmp_path / "baci_2023.csv"
    path.write_text((SAMPLES / "BACI_HS17_Y2023_V202501.csv").read_text())
    with pytest.raises(InputError, match=r"baci_2023.csv: hs_revision: cannot tell the HS revision.*hs_revision='HS2017'"):
        read_baci(path)
    assert hs_revision(read_baci(path, hs_revision="HS17")) == "HS2017"
    assert hs_revision(read_baci(path, hs_revision="unknown")) == "unknown"
    named = tmp_path / "BACI_HS22_Y2023_V202501.csv"
    named.write_text(path.read_text())
    with pytest.raises(InputError, match=r"hs_revision='HS2017', but the file name says HS2022"):
        read_baci(named, hs_revision="HS2017")


HEADER = "period,flowCode,reporterISO,partnerISO,cmdCode,aggrLevel,primaryValue"


def test_comtrade_revision_from_the_classification_column(tmp_path):
    path = tmp_path / "ct.csv"
    path.write_text(HEADER + ",classificationCode\n2023,M,USA,CHN,85,2,100,H5\n2023,M,USA,VNM,85,2,50,H5\n")
    assert hs_revision(read_comtrade(path)) == "HS2017"
    with pytest.raises(InputError, match=r"hs_revision='HS2022', but the file's classification is H5 \(HS2017\)"):
        read_comtrade(path, hs_revision="HS2022")
    path.write_text(HEADER + ",classificationCode\n2023,M,USA,CHN,85,2,100,H5\n2023,M,USA,VNM,85,2,50,H6\n")
    with pytest.raises(InputError, match=r"the rows mix HS revisions: H5 \(HS2017\) in line 2; H6 \(HS2022\) in line 3"):
        read_comtrade(path)
    path.write_text(HEADER + ",classificationCode\n2023,M,USA,CHN,85,2,100,HS\n")
    with pytest.raises(InputError, match=r"classification column holds \['HS'\] \(HS as reported"):
        read_comtrade(path)
    assert hs_revision(read_comtrade(path, hs_revision="H4")) == "HS2012"
    path.write_text(HEADER + "\n2023,M,USA,CHN,85,2,100\n")
    with pytest.raises(InputError, match=r"has no classification column.*hs_revision="):
        read_comtrade(path)


def test_tidy_revision_is_given_or_unknown(tmp_path):
    path = tmp_path / "flows.csv"
    path.write_text("exporter,importer,product,value\nCHN,USA,854231,5\n")
    assert hs_revision(read_flows(path)) == "unknown"
    assert read_flows(path, hs_revision="H5").provenance["hs_revision"] == "HS2017"
    with pytest.raises(InputError, match="is not an HS revision"):
        read_flows(path, hs_revision="HS2019")


def test_bundled_baselines_are_hs2022():
    assert hs_revision(load_baseline("demo-2024")) == "HS2022"
    assert hs_revision(load_baseline("us-imports-2024")) == "HS2022"


# ---- checked against the law's lists ----

def test_check_warns_at_the_callers_line_with_what_changed():
    b17 = frame([("CHN", "USA", "852580", 3e9), ("CHN", "USA", "950300", 1e9)], hs_revision="HS2017")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        note = check_hs_revision(b17, what="the lists of schedule 'tariffs-2025'")  # this line
    assert len(caught) == 1 and caught[0].filename == __file__ and str(caught[0].message) == note
    assert "in HS2017 and the lists of schedule 'tariffs-2025' in HS2022: 1 of its 2 products (USD 3.00bn)" in note
    assert "tradesim.data.to_hs2022(baseline)" in note
    assert check_hs_revision(quiet(to_hs2022, b17)) is None


def test_unknown_revision_is_noted_and_warned_only_on_request():
    b = frame([("CHN", "USA", "852580", 3e9)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        note = check_hs_revision(b)
    assert "revision of the baseline's products is unknown" in note
    with pytest.warns(TradesimWarning, match="is unknown"):
        check_hs_revision(b, unknown="warn")


def test_revision_without_a_concordance_is_explained():
    b = frame([("CHN", "USA", "852580", 3e9)], hs_revision="HS2007")
    assert "no concordance between the two is bundled" in hs_revision_note(b)


# ---- converted to HS 2022 ----

def test_baci_sample_converts_keeping_every_dollar():
    b17 = read_baci(SAMPLES / "BACI_HS17_Y2023_V202501.csv")
    with pytest.warns(TradesimWarning) as caught:
        b22 = to_hs2022(b17)
    assert len(caught) == 1 and "from HS2017 to HS2022" in str(caught[0].message)
    np.testing.assert_allclose(b22.flows.sum(axis=0), b17.flows.sum(axis=0), rtol=1e-12)
    assert b22.provenance["hs_revision"] == "HS2022" and b22.provenance["hs_revision_original"] == "HS2017"
    # processors (854231) split with the electronic waste of heading 8549, by US import shares: almost all stays
    assert b22.trade("CHN", "USA", "854231") / b17.trade("CHN", "USA", "854231") > 0.999
    assert 0 < b22.trade("CHN", "USA", "8549") < 1e-3 * b17.trade("CHN", "USA", "854231")
    assert b22.imputed[b22.products.index("854921")].any() and not b22.imputed[b22.products.index("950300")].any()
    assert b22.trade("CHN", "USA", "950300") == b17.trade("CHN", "USA", "950300")  # unchanged codes are exact


def test_weights_equal_and_given():
    b17 = frame([("CHN", "USA", "852580", 12e9)], hs_revision="HS2017")
    targets = sorted(hs_concordance("HS2017").query("code == '852580'")["hs2022"])
    equal = quiet(to_hs2022, b17, weights="equal")
    assert list(equal.products) == targets and np.allclose(equal.flows[:, 0, 1], 1e9)
    given = quiet(to_hs2022, b17, weights={"852581": 1.0, "85258900": 3.0})  # finer codes sum to their subheading
    assert given.products == ("852581", "852589") and np.allclose(given.flows[:, 0, 1], [3e9, 9e9])
    table = quiet(to_hs2022, b17, weights=pd.DataFrame({"product": ["852583"], "value": [5.0]}))
    assert table.products == ("852583",)
    with pytest.raises(InputError, match="weights must be numbers >= 0"):
        to_hs2022(b17, weights={"852581": -1})


def test_renamed_merged_and_national_codes():
    b17 = frame([("CHN", "USA", "030510", 1.0), ("CHN", "USA", "620112", 2.0), ("CHN", "USA", "620192", 3.0),
                 ("CHN", "USA", "980100", 4.0)], hs_revision="HS2017")
    b22 = quiet(to_hs2022, b17)
    assert b22.products == ("030910", "620130", "980100")
    assert b22.flows[:, 0, 1].tolist() == [1.0, 5.0, 4.0]
    note = b22.provenance["hs_conversion"]
    assert "1 unchanged, 3 renamed, 0 split" in note and "1 HS2022 code made of several" in note


def test_headings_and_chapters_convert_by_the_weights_under_them():
    b17 = frame([("CHN", "USA", "21", 100.0), ("CHN", "USA", "8525", 50.0)], hs_revision="HS2017")
    b22 = quiet(to_hs2022, b17)
    assert {"21", "24", "8525", "8806"} <= set(b22.products)
    assert b22.flows.sum() == pytest.approx(150.0, rel=1e-12)
    assert b22.trade("CHN", "USA", "21") > 90 and 0 < b22.trade("CHN", "USA", "24") < 10


def test_tariffs_are_averaged_with_flows_as_weights():
    df = pd.DataFrame({"exporter": "CHN", "importer": "USA", "product": ["620112", "620192"], "value": [1.0, 3.0],
                       "tariff": [0.2, 0.1]})
    b22 = quiet(to_hs2022, Baseline.from_frame(df, tariff="tariff", hs_revision="HS2017"))
    assert b22.tariffs[0, 0, 1] == pytest.approx((0.2 * 1 + 0.1 * 3) / 4)


def test_bad_conversions_are_errors():
    with pytest.raises(InputError, match=r"products \['854921'\] are not HS2017 codes"):
        to_hs2022(frame([("CHN", "USA", "854921", 1.0)], hs_revision="HS2017"))
    with pytest.raises(InputError, match="national tariff lines"):
        to_hs2022(frame([("CHN", "USA", "85423100", 1.0)], hs_revision="HS2017"))
    unknown = frame([("CHN", "USA", "852580", 1.0)])
    with pytest.raises(InputError, match="revision is unknown: pass from_revision="):
        to_hs2022(unknown)
    assert quiet(to_hs2022, unknown, from_revision="HS2017").products[0] == "852581"
    with pytest.raises(InputError, match="bundled only from HS2017 and HS2012"):
        to_hs2022(frame([("CHN", "USA", "852580", 1.0)], hs_revision="HS2007"))
    b22 = load_baseline("demo-2024")
    assert to_hs2022(b22) is b22


def test_hs2012_converts_too():
    b12 = frame([("CHN", "USA", "852580", 1.0), ("CHN", "USA", "950300", 2.0)], hs_revision="HS2012")
    b22 = quiet(to_hs2022, b12)
    assert b22.flows.sum() == pytest.approx(3.0) and b22.provenance["hs_revision_original"] == "HS2012"


# ---- the bundled concordance ----

@pytest.mark.parametrize("revision", ["HS2017", "HS2012"])
def test_concordance_covers_each_code_once_with_hs2022_targets(revision):
    c = hs_concordance(revision)
    assert not c.duplicated(["code", "hs2022"]).any()
    assert c["code"].str.fullmatch(r"\d{6}").all() and (c["weight_usd"] >= 0).all()
    assert set(c["hs2022"]) - set(hs_subheadings().tolist()) <= {"999999"}
    assert set(c["basis"]) == {"conversion", "correlation"}
    assert c["code"].nunique() > 5000


def test_concordance_weights_are_the_bundled_us_imports():
    us = pd.read_csv(DATA / "us-imports-2024.csv.gz", dtype={"product": str}, usecols=["product", "value"])
    lines = us[us["product"].str.len() == 8]
    weights = lines.groupby(lines["product"].str[:6])["value"].sum().round(0)
    c = hs_concordance("HS2017").drop_duplicates("hs2022").set_index("hs2022")["weight_usd"]
    np.testing.assert_allclose(c, weights.reindex(c.index).fillna(0), rtol=0, atol=0.5)


def test_concordance_ships_with_its_notice_and_is_documented():
    assert "MIT License" in (DATA / "LICENSES" / "insongkim-concordance.MIT.txt").read_text()
    readme = (DATA / "README.md").read_text()
    assert "hs-concordance.csv.gz" in readme and "scripts/build_hs_concordance.py" in readme
    text = gzip.decompress((DATA / "hs-concordance.csv.gz").read_bytes()).decode()
    assert text.startswith("revision,code,hs2022,relationship,basis,weight_usd\n")
