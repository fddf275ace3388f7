"""A run's ``manifest.json``: what the run read (each input's SHA-256), with which settings, versions and
seed, what it found (counts, warnings, timings) and the SHA-256 of every file it wrote."""

from __future__ import annotations

import datetime as dt
import platform
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import rasterio

from .._version import __version__
from ..common.hashing import sha256_file
from ..common.notice import messages

if TYPE_CHECKING:
    from ..results import RunResult

__all__ = ["sha256", "versions", "utc_now", "input_hashes", "run_manifest"]


def sha256(path: str | Path) -> str:
    """SHA-256 of a file or folder (:func:`siteplan.common.hashing.sha256_file`)."""
    return sha256_file(path)


def versions() -> dict[str, str]:
    """Versions of Python, GDAL and the packages siteplan uses."""
    out = {"python": platform.python_version(), "gdal": rasterio.__gdal_version__}
    for pkg in ("siteplan", "numpy", "pandas", "scipy", "geopandas", "shapely", "pyproj", "pyogrio",
                "rasterio", "scikit-learn", "folium", "pydantic", "click", "pyyaml"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def utc_now() -> str:
    """Current UTC time, ISO 8601 (for the manifest only; never in deterministic outputs)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def input_hashes(res: RunResult) -> dict[str, dict[str, str]]:
    """The manifest's ``inputs``: per layer, the SHA-256 of each file read (a file geodatabase folder as a
    whole, hashed once however many layers it serves); for a database layer, its source (URL without
    password, table or ``sql``) and the SHA-256 of the content read."""
    inputs: dict[str, dict[str, str]] = {}
    seen: dict[Path, str] = {}
    for layer, files in res.prep.region.files.items():
        inputs[layer] = {str(f.name): seen[f] if f in seen else seen.setdefault(f, sha256(f)) for f in files}
    for layer, source in res.prep.region.sources.items():
        inputs[layer] = dict(source)
    return inputs


def run_manifest(res: RunResult, scenario_file: Path | None, hashes: dict[str, str]) -> dict[str, Any]:
    """The run's ``manifest.json`` (``hashes``: the outputs' SHA-256, :func:`write_run`)."""
    sc = res.prep.scenario
    rows = res.plan.rows
    return {
        "siteplan": __version__,
        "created_utc": utc_now(),
        "scenario_file": str(scenario_file) if scenario_file else None,
        "scenario_sha256": sha256(scenario_file) if scenario_file else None,
        "scenario": sc.model_dump(mode="json", exclude={"base_dir"}),
        "seed": res.seed,
        "crs": res.prep.region.crs.to_string(),
        "grid": {"width": res.prep.grid.width, "height": res.prep.grid.height, "res_m": res.prep.grid.res},
        "inputs": input_hashes(res),
        "versions": versions(),
        "solver": res.plan.solver,
        "travel": _travel_summary(res),
        "site_choice": res.site_choice,
        **({"baseline": res.baseline} if res.baseline else {}),
        "counts": {
            "businesses": len(rows),
            "assigned": int((rows.status == "assigned").sum()),
            "unassigned": int((rows.status == "unassigned").sum()),
            "unclassified": int(rows["category"].isna().sum()),
            "estates": len(res.prep.region.layers["estates"]),
            "zones": len(res.zones),
            "sites": len(res.sites),
            "clusters": len(res.clusters),
        },
        "excluded_features": res.prep.region.excluded.to_dict(orient="records"),
        "timings_s": res.timings,
        "timings_cpu_s": res.timings_cpu,
        "warnings": messages(res.warnings),
        "outputs_sha256": hashes,
    }


def _travel_summary(res: RunResult) -> dict[str, object]:
    """The manifest's ``travel``: how distances were measured (road or straight) and the network."""
    from ..relocation.roads import network_summary, scenario_network

    return network_summary(scenario_network(res.prep), res.prep.scenario.allocation)
