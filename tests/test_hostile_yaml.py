"""Scenario files written to hurt (alias bombs, deep nesting, duplicate keys, lone surrogates) and
careless field mappings get one clear message, fast, never an internal error."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner
from conftest import edit_yaml, small_scenario

from siteplan.cli import main


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return small_scenario(tmp_path_factory.mktemp("yaml"), n_biz=30)


def _validate(path):
    t0 = time.perf_counter()
    r = CliRunner().invoke(main, ["validate", str(path)])
    assert time.perf_counter() - t0 < 30
    assert "internal error" not in r.output and "Traceback" not in r.output
    return r


def _with(small, tmp_path, extra: str):
    text = small.read_text(encoding="utf-8")
    f = small.parent / f"x_{tmp_path.name}.yaml"
    f.write_text(text + extra, encoding="utf-8")
    return f


def test_billion_laughs_is_refused(small, tmp_path):
    lines = ["lol: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for k in range(1, 9):
        lines.append(f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 10) + "]")
    bomb = "catalogue:\n  overrides:\n    car_repair:\n      keywords_en:\n" + "\n".join(
        "        - " + ln.split(": ", 1)[1] for ln in lines) + "\n"
    r = _validate(_with(small, tmp_path, bomb))
    assert r.exit_code == 1 and "expands to more than" in r.output


def test_too_many_aliases_and_deep_nesting(small, tmp_path):
    many = "description2: &d x\n" + "".join(f"k{i}: *d\n" for i in range(150))
    r = _validate(_with(small, tmp_path, many))
    assert r.exit_code == 1 and "more than 100 YAML aliases" in r.output
    deep = "deep: " + "[" * 3000 + "]" * 3000 + "\n"
    r = _validate(_with(small, tmp_path, deep))
    assert r.exit_code == 1 and "nested more than" in r.output


def test_duplicate_keys_are_refused(small, tmp_path):
    r = _validate(_with(small, tmp_path, "seed: 1\nseed: 2\n"))
    assert r.exit_code == 1 and "the key 'seed' is given twice" in r.output


def test_lone_surrogate_in_a_scenario_string(small, tmp_path):
    f = small.parent / "sur.yaml"
    import re

    text = re.sub(r"(?m)^name:.*$", r'name: "\\udc80"', small.read_text(encoding="utf-8"), count=1)
    f.write_text(text, encoding="utf-8")
    r = _validate(f)
    assert r.exit_code == 1 and "name" in r.output and "not valid Unicode" in r.output


def test_transform_points_beyond_any_distance(small, tmp_path):
    f = small.parent / "pts.yaml"
    f.write_text(small.read_text(encoding="utf-8"), encoding="utf-8")
    edit_yaml(f, lambda d: d["criteria"][0]["transform"].update(points=[500, 1e308]))
    r = _validate(f)
    assert r.exit_code == 1 and "not meaningful" in r.output


@pytest.mark.parametrize("user", ["geometry", "name"])
def test_field_mapping_onto_geometry_or_an_existing_field(small, tmp_path, user):
    import yaml

    f = small.parent / f"fm_{user}.yaml"
    f.write_text(small.read_text(encoding="utf-8"), encoding="utf-8")
    d = yaml.safe_load(f.read_text(encoding="utf-8"))
    d["layers"]["estates"]["fields"] = {"kind": user} if user == "geometry" else {"estate_id": "name"}
    f.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    r = _validate(f)
    assert r.exit_code == 1
    # a mapping wins over the file's own field of that name (issue 24): here 'name' is then missing
    want = "the file has no field 'geometry'" if user == "geometry" else "missing required field(s): name"
    assert want in r.output
