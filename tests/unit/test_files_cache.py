"""`tradesim.files.read_table` keeps small CSV files parsed: an edited file is read again, and callers get copies."""

import os

import pandas as pd

from tradesim.files import read_table


def test_an_edited_file_is_read_again_even_at_the_same_size(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("hs_code,rate_pct\n8542,10\n")
    assert read_table(path, dtype=str)["rate_pct"].tolist() == ["10"]
    path.write_text("hs_code,rate_pct\n8542,25\n")  # same size: the modification time tells them apart
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert read_table(path, dtype=str)["rate_pct"].tolist() == ["25"]


def test_each_caller_gets_its_own_copy(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("hs_code\n8542\n8541\n")
    first = read_table(path, dtype=str)
    first.loc[2, "hs_code"] = "0101"
    first["extra"] = 1
    again = read_table(path, dtype=str)
    pd.testing.assert_frame_equal(again, pd.DataFrame({"hs_code": ["8542", "8541"]},
                                                      index=pd.RangeIndex(2, 4, name="line")))


def test_the_same_file_read_with_other_types_is_parsed_with_them(tmp_path):
    path = tmp_path / "values.csv"
    path.write_text("product,value\n0101,1.5\n")
    assert read_table(path, dtype=str)["product"].tolist() == ["0101"]
    assert read_table(path)["product"].tolist() == [101]
    assert read_table(path, dtype={"product": str})["value"].tolist() == [1.5]
