"""The one list of a run's files (issue #25): the writer, the manifest and the national gather follow it."""

from __future__ import annotations

import json
from pathlib import Path

from siteplan.outputs.files import RUN_FILES, gathered, registered, unregistered


def test_patterns_match_one_level_only() -> None:
    """``*`` stands for a category code, never for a sub-folder; an unknown file is reported."""
    assert registered("suitability/metalwork.tif") is not None
    assert registered("suitability/metalwork_sd.tif") is not None
    assert registered("suitability/x/metalwork.tif") is None
    assert registered("explain/roads.npz") is not None
    assert unregistered(["relocation.csv", "notes.txt", "stages/a/b.npz"]) == ["notes.txt", "stages/a/b.npz"]
    assert "relocation.csv" in gathered("csv") and "flows.geojson" in gathered("geojson")
    assert all(f.kind in {"csv", "geojson", "tif", "html", "json", "npz", "xlsx", "marker"} for f in RUN_FILES)


def test_every_file_of_the_demo_run_is_listed_and_hashed(demo_run_dir: Path) -> None:
    """The demo wrote only listed files, and the manifest hashes every one of them but the marker."""
    files = sorted(p.relative_to(demo_run_dir).as_posix() for p in demo_run_dir.rglob("*") if p.is_file())
    assert unregistered(files) == []
    man = json.loads((demo_run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(man["outputs_sha256"]) == sorted(f for f in files if f not in (".siteplan-run", "manifest.json"))
