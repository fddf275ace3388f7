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


def test_every_subpackage_is_packaged():
    """pyproject lists packages explicitly (the demo region is mapped in from data/): a new
    subpackage must be listed too, or a wheel would lack it."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "siteplan").rglob("*.py")
             if "__pycache__" not in p.parts}
    assert found <= listed, found - listed


def test_wheel_installs_and_runs_the_demo_outside_the_checkout(tmp_path):
    """`pip install .` (a real wheel, not editable) then `siteplan demo` from another folder."""
    import json
    import os
    import subprocess
    import sys
    import zipfile

    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                        str(tmp_path / "whl"), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    (wheel,) = (tmp_path / "whl").glob("siteplan-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    assert (site / "siteplan" / "demo" / "demo.yaml").is_file()
    assert (site / "siteplan" / "report" / "app.js").is_file()
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = dict(os.environ, PYTHONPATH=str(site))
    code = ("import siteplan, sys; assert siteplan.__file__.startswith(sys.argv[1]), siteplan.__file__; "
            "from siteplan.cli import main; sys.argv = ['siteplan', 'demo', '--out', 'out', '--quiet']; main()")
    r = subprocess.run([sys.executable, "-c", code, str(site)], cwd=work, env=env, capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((work / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert m["counts"]["businesses"] == 6000 and (work / "out" / "report.html").is_file()


def test_public_api_resolves_and_version_comes_from_metadata():
    from importlib import metadata

    import siteplan

    assert siteplan.__version__ == metadata.version("siteplan")
    for name in siteplan.__all__:
        assert getattr(siteplan, name) is not None, name
