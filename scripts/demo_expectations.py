#!/usr/bin/env python
"""The demo's committed output expectations: every output file's SHA-256 (the manifest and the run marker
excepted: they hold timings and paths), with the versions of the libraries that decide the bytes.

    python scripts/demo_expectations.py --check RUN_DIR    # compare a finished demo run with them
    python scripts/demo_expectations.py --write RUN_DIR    # record them (a deliberate output change)

``tests/test_demo_run.py::test_outputs_match_committed_expectations`` checks the shared demo run against
``tests/data/demo_outputs.json``; a change that alters any output byte must say so by rewriting the file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from importlib import metadata
from pathlib import Path

EXPECTED = Path(__file__).resolve().parents[1] / "tests" / "data" / "demo_outputs.json"
SKIP = {"manifest.json", ".siteplan-run"}
LIBRARIES = ("numpy", "scipy", "shapely", "pyproj", "rasterio", "geopandas", "pandas", "folium",
             "scikit-learn", "highspy", "openpyxl", "pyogrio")


def versions() -> dict[str, str]:
    """The installed versions of the libraries whose arithmetic or serialisation decides output bytes."""
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def digests(run_dir: Path) -> dict[str, str]:
    """SHA-256 of every file under ``run_dir`` by its relative POSIX path, manifest and marker excepted."""
    return {p.relative_to(run_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(run_dir.rglob("*")) if p.is_file() and p.name not in SKIP}


def compare(run_dir: Path, expected: dict[str, object]) -> list[str]:
    """Differences between a run folder and the expectations, one line each (empty when identical)."""
    want = expected["files"]
    have = digests(run_dir)
    assert isinstance(want, dict)
    out = [f"missing: {k}" for k in sorted(set(want) - set(have))]
    out += [f"unexpected: {k}" for k in sorted(set(have) - set(want))]
    out += [f"differs: {k}" for k in sorted(set(want) & set(have)) if want[k] != have[k]]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--check", type=Path, metavar="RUN_DIR")
    g.add_argument("--write", type=Path, metavar="RUN_DIR")
    a = ap.parse_args()
    if a.write:
        EXPECTED.write_text(json.dumps({"versions": versions(), "files": digests(a.write)}, indent=1,
                                       sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {EXPECTED}")
        return 0
    exp = json.loads(EXPECTED.read_text(encoding="utf-8"))
    if exp["versions"] != versions():
        print(f"note: library versions differ from the expectations' {exp['versions']}", file=sys.stderr)
    diff = compare(a.check, exp)
    print("\n".join(diff) if diff else f"identical: {len(exp['files'])} files")
    return 1 if diff else 0


if __name__ == "__main__":
    raise SystemExit(main())
