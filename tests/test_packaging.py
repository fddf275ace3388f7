"""The two-command set-up: pyproject, environment.yml, Makefile and .ci/run agree."""

from __future__ import annotations

import re
import tomllib

import yaml

from conftest import ROOT


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[]", req.strip(), maxsplit=1)[0].lower()


def test_environment_yml_matches_pyproject():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = [x.split("#")[0].strip() for d in env["dependencies"] if isinstance(d, dict)
                   for x in d.get("pip", []) if not x.startswith("-e")]
    listed = [d for d in env["dependencies"] if isinstance(d, str) and _name(d) not in ("python", "pip")] + pip_section
    conda = {_name(d) for d in listed}
    pip = {_name(d): d for d in deps}
    assert set(pip) == conda
    # same lower bounds
    for d in listed:
        assert d.replace(" ", "") == pip[_name(d)].replace(" ", ""), d


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme and "make demo" in readme


def test_catalogue_ships_in_package():
    from importlib import resources

    assert resources.files("siteplan").joinpath("data/catalogue.csv").is_file()
