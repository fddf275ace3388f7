"""Input mistakes a user-level test found, each now said clearly: a decimal comma is never read as a
thousands separator, an ISIC value with no digit is named, an empty CSV or one with a blank first line is
said as such, duplicate ids name their rows, ``validate`` lists unknown categories beside a misspelt key,
and ``--reuse`` of a folder that is not a run says so in words."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import edit_yaml, small_scenario
from test_tables import _registry, _use_table

from siteplan.cli import main
from siteplan.common.textnorm import comma_hint, parse_number


@pytest.mark.parametrize(("text", "value"), [
    ("1,250", 1250.0), ("-1,200.5", -1200.5), ("۱٬۲۰۰", 1200.0), ("5,435,697", 5435697.0), ("12.5", 12.5),
    ("۱۲٫۵", 12.5), ("12,5", None), ("54,35697", None), ("1,2,3", None), (",5", None), ("1,", None),
    ("۱۲٬۵", None)])
def test_a_comma_is_only_a_thousands_separator(text: str, value: float | None) -> None:
    assert parse_number(text) == value
    assert bool(comma_hint(text)) == (value is None)


def _validate(path) -> tuple[int, str]:
    r = CliRunner().invoke(main, ["validate", str(path)])
    assert "Traceback" not in r.output
    return r.exit_code, r.output


def _with_cell(tmp_path, col: str, row: int, value: str):
    """The small scenario with its businesses as a CSV registry, one cell written as ``value``."""
    small = small_scenario(tmp_path, n_biz=20)
    df = _registry(small)
    df[col] = df[col].astype(object)
    df.loc[row, col] = value
    df.to_csv(small.parent / "registry.csv", index=False, encoding="utf-8-sig")
    _use_table(small, "registry.csv", lon="طول جغرافیایی", lat="عرض جغرافیایی")
    return small, df


def test_decimal_comma_in_a_number_field_is_an_error_naming_row_and_hint(tmp_path):
    small, df = _with_cell(tmp_path, "مساحت", 2, "1,5")
    code, out = _validate(small)
    assert code == 1
    assert "field 'area_m2' must be a number" in out and "'1,5'" in out and "for a decimal write a point" in out
    assert f"row 4 ({df.loc[2, 'شناسه']})" in out


def test_isic_with_no_digit_is_named_and_an_empty_csv_is_said(tmp_path):
    small, df = _with_cell(tmp_path, "کد آیسیک", 0, "abc")
    code, out = _validate(small)
    assert code == 0, out
    assert "field 'isic' has 1 value(s) that are not ISIC codes (no digits)" in out and "'abc'" in out
    (small.parent / "registry.csv").write_bytes(b"\xef\xbb\xbf")
    code, out = _validate(small)
    assert code == 1 and "registry.csv is empty (no header row, no rows)" in out
    (small.parent / "registry.csv").write_text("\r\n" + df.to_csv(index=False), encoding="utf-8-sig")
    code, out = _validate(small)
    assert code == 1 and "the first line of registry.csv is blank" in out


def test_duplicate_ids_name_their_rows(tmp_path):
    small = small_scenario(tmp_path, n_biz=20)
    df = _registry(small)
    df.loc[[3, 7], "شناسه"] = df.loc[1, "شناسه"]
    df.to_csv(small.parent / "registry.csv", index=False, encoding="utf-8-sig")
    _use_table(small, "registry.csv", lon="طول جغرافیایی", lat="عرض جغرافیایی")
    code, out = _validate(small)
    assert code == 1
    assert f"duplicate biz_id values: {df.loc[1, 'شناسه']} (rows 3, 5, 9) (1 id(s) shared by 3 rows in all)" in out


def test_validate_lists_unknown_categories_beside_a_misspelt_key(demo_copy):
    def typo(d):
        d["allocation"]["max_distnace_km"] = 40
        d["categories"] = ["car_repair", "carpentery"]
    edit_yaml(demo_copy, typo)
    code, out = _validate(demo_copy)
    assert code == 1
    assert "max_distnace_km: unknown key" in out
    assert "categories[1]: 'carpentery' is not a catalogue category" in out and "did you mean 'carpentry'" in out


def test_reuse_of_a_folder_that_is_not_a_run_says_so(tmp_path):
    from siteplan.outputs.stagesource import RunStages

    (tmp_path / "inputs").mkdir()
    src = RunStages.open(tmp_path / "inputs")
    assert src.notes == [f"--reuse {tmp_path / 'inputs'}: it has no manifest.json: not a folder `siteplan run` "
                         "wrote; nothing reused"]
    assert not any("Errno" in n for n in src.notes)


def test_ahp_rows_must_match_the_header_and_inconsistency_is_said_on_stderr(tmp_path):
    def run(name: str, text: str):
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        return CliRunner().invoke(main, ["weights", "ahp", str(p)])

    ok = run("ok.csv", ",a,b,c\na,1,3,5\nb,1/3,1,3\nc,1/5,1/3,1\n")
    assert ok.exit_code == 0 and "warning" not in ok.stderr
    swapped = run("swap.csv", ",a,b,c\nc,1,3,5\nb,1/3,1,3\na,1/5,1/3,1\n")
    assert swapped.exit_code == 1 and "the rows are labelled ['c', 'b', 'a'] but the columns ['a', 'b', 'c']" in swapped.output
    twice = run("dup.csv", ",a,b,a\na,1,3,5\nb,1/3,1,3\na,1/5,1/3,1\n")
    assert twice.exit_code == 1 and "the header names 'a' more than once" in twice.output
    header_only = run("h.csv", "a,b,c\n1,3,5\n1/3,1,3\n1/5,1/3,1\n")
    assert header_only.exit_code == 0 and '"a"' in header_only.stdout
    bad = run("inc.csv", "a,b,c\n1,9,1/9\n1/9,1,9\n9,1/9,1\n")
    assert bad.exit_code == 0 and '"consistent": false' in bad.stdout
    assert "the judgements are not consistent (consistency ratio" in bad.stderr


def test_ahp_reads_persian_numbers_and_two_decimal_reciprocals(tmp_path):
    from siteplan.scoring.weights import ahp, read_ahp_matrix

    p = tmp_path / "fa.csv"
    p.write_text(",a,b,c\na,1,3,۵\nb,0.33,1,3\nc,۰٫۲,0.33,1\n", encoding="utf-8")
    cells, names = read_ahp_matrix(p)
    assert names == ["a", "b", "c"] and ahp(cells).weights[0] > 0.6
    p.write_text(",a,b\na,1,3\nb,3,1\n", encoding="utf-8")  # a judgement the other way is still refused
    cells, _ = read_ahp_matrix(p)
    with pytest.raises(Exception, match="not reciprocal"):
        ahp(cells)
