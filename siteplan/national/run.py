"""A national run end to end: partition → run the units (here or on Dask) → gather → write.

The national output folder follows :class:`siteplan.outputs.outdir.OutputFolder` (refusals, lock, marker,
atomic swap). The cache of the units' outputs lives beside it (``.NAME.cache`` by default), keyed by
each unit's inputs' content, so a rerun recomputes only the units that failed or whose inputs or
settings changed.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from .._version import __version__
from ..common.notice import messages
from ..errors import InputError, SiteplanError
from ..outputs.writer import gpkg_layers, sha256, utc_now, versions, write_gpkg, write_json
from .cache import open_cache, prune_cache
from .gather import copy_units, gather_tables, national_figures, write_figures
from .partition import Partitioning
from .provinces import national_inputs, split_scenario
from .report import national_report
from .runner import Outcome, UnitTask, check_scheduler, outcome_record, run_units

if TYPE_CHECKING:
    from ..scenario import Scenario

log = logging.getLogger(__name__)

__all__ = ["NationalOptions", "NationalResult", "PartitionsFailed", "NationalIncomplete", "run_national_file",
           "is_national", "default_cache"]


class PartitionsFailed(SiteplanError, RuntimeError):
    """Some partitions failed; the national output holds the others (the message names the failed ones)."""


class NationalIncomplete(SiteplanError, RuntimeError):
    """The Dask scheduler was lost before every partition ran: nothing was written under ``--out``; the
    message names the partitions in the cache and the missing ones (a rerun computes only those)."""


class NationalResult:
    """What a national run did: the partitioning, each unit's outcome and how they ran.

    Parameters
    ----------
    parts
        The partitioning of the national scenario (its partitions, the units they run in, the CRS, the
        inputs and the partitioning's warnings).
    outcomes
        Each unit's outcome, in the order of ``parts.units`` (``status`` ``failed`` for a unit that did).
    engine
        How the units ran (the manifest's ``engine``): ``engine`` ``sequential`` or ``dask``, with the
        scheduler and workers.
    out
        The national output folder (absolute).
    """

    def __init__(self, parts: Partitioning, outcomes: list[Outcome], engine: dict[str, Any], out: Path) -> None:
        self.parts = parts
        self.outcomes = outcomes
        self.engine = engine
        self.out = out

    @property
    def failed(self) -> list[Outcome]:
        """The outcomes of the units that failed, in order."""
        return [o for o in self.outcomes if o.status == "failed"]


from . import is_national as is_national  # noqa: E402 - defined in the package, light to import


def default_cache(out: str | Path) -> Path:
    """The cache folder beside ``--out``: ``.NAME.cache``.

    Parameters
    ----------
    out
        The national output folder (``~`` expanded; it need not exist).

    Returns
    -------
    pathlib.Path
        ``.NAME.cache`` in the output folder's parent, NAME the folder's name (absolute, resolved).
    """
    out = Path(out).expanduser().resolve()
    return out.parent / f".{out.name}.cache"


def _manifest(path: Path, scenario: Any, res: NationalResult, seed: int | None, timings: dict[str, float],
              stage: Path) -> dict[str, Any]:
    inputs: dict[str, str] = {}
    for label, p in res.parts.inputs.items():
        from ..outputs.outfile import input_files

        for f in input_files(Path(p)):
            if f.is_file():
                inputs[f"{label}: {f.name}"] = sha256(f)
    outputs = {str(p.relative_to(stage)): sha256(p) for p in sorted(stage.rglob("*"))
               if p.is_file() and p.name not in (".siteplan-run", "manifest.json")}
    units = []
    for u, o in zip(res.parts.units, res.outcomes):
        rec = outcome_record(o)
        rec.update({"partitions": u.keys, "folder": f"provinces/{u.folder}" if o.status != "failed" else None,
                    "businesses_owned": u.businesses, "estates_owned": u.estates})
        units.append(rec)
    return {"siteplan": __version__, "kind": "national", "created_utc": utc_now(), "scenario_file": str(path),
            "scenario": scenario.model_dump(mode="json", exclude={"base_dir"}),  # `export` reads its inputs here
            "seed": seed, "crs": res.parts.crs, "inputs_sha256": inputs, "engine": res.engine,
            "partitions": res.parts.keys, "units": units, "failed": [o.label for o in res.failed],
            "timings_s": timings, "warnings": messages(res.parts.warnings), "versions": versions(), "outputs_sha256": outputs}


class NationalOptions(TypedDict, total=False):
    """The keyword options of :func:`run_national_file` (defaults in brackets): ``workers`` [0],
    ``scheduler`` [None], ``seed`` [None], ``overwrite`` [False], ``cache`` [None], ``processes`` [True],
    ``cache_days`` [7.0]."""

    workers: int
    scheduler: str | None
    seed: int | None
    overwrite: bool
    cache: str | Path | None
    processes: bool
    cache_days: float


def _check_options(scenario: Scenario, path: Path, *, seed: int | None, cache_days: float, scheduler: str | None
                   ) -> None:
    """Refuse a scenario without a ``national:`` section and bad options, before any work (an address
    where no scheduler answers is said at once)."""
    from ..scenario import check_seed

    if scenario.national is None:
        raise InputError(f"{path}: not a national scenario (no 'national:' section)")
    if seed is not None:
        check_seed(seed)
    if not cache_days >= 0:
        raise InputError(f"--cache-days {cache_days}: give a number of days ≥ 0 (0 keeps only this run's results)")
    if scheduler:
        check_scheduler(scheduler)


def run_national_file(path: str | Path, out_dir: str | Path, **options: Unpack[NationalOptions]) -> NationalResult:
    """Run a national scenario into ``out_dir``.

    Parameters
    ----------
    path
        National scenario file (a scenario with a ``national:`` section).
    out_dir
        The national output folder.
    **options
        The keyword-only options of :class:`NationalOptions`:

        - ``workers``: 0 (default): the units run one after another in this process; N: a Dask
          LocalCluster of N workers;
        - ``scheduler``: address of an existing Dask scheduler (default None); its workers must share
          this file system;
        - ``seed``: overrides the scenario's seed, every unit uses it (default None: each unit's own);
        - ``overwrite``: replace a national output folder siteplan wrote (default False);
        - ``cache``: the units' cache folder (default None: ``.NAME.cache`` beside ``out_dir``,
          :func:`default_cache`);
        - ``processes``: worker processes (True, default) or threads (False) for the LocalCluster;
        - ``cache_days``: after the run, the cache drops the runs not used for this many days (default
          7; 0: all this run did not use); see :mod:`siteplan.national.cache`.

    Returns
    -------
    NationalResult
        The partitioning, each unit's outcome and the engine that ran them (when no unit failed).

    Raises
    ------
    PartitionsFailed
        After writing the national output of the others, when some units failed.
    InputError
        A problem with the scenario, its layers or partitions, or the folders.
    """
    from ..outputs.outdir import OutputFolder, input_bytes
    from ..scenario import load_scenario

    workers, scheduler, seed = options.get("workers", 0), options.get("scheduler"), options.get("seed")
    overwrite, cache, processes = options.get("overwrite", False), options.get("cache"), options.get("processes", True)
    cache_days = options.get("cache_days", 7.0)
    path = Path(path)
    t0 = time.perf_counter()
    scenario = load_scenario(path)
    _check_options(scenario, path, seed=seed, cache_days=cache_days, scheduler=scheduler)
    inputs = national_inputs(scenario, path)
    estimate = (8 << 20) + 3 * input_bytes(inputs.values())
    with OutputFolder(out_dir, kind="national", overwrite=overwrite, inputs=inputs, estimate_bytes=estimate) as folder:
        # the cache: siteplan's own folder, apart from the inputs and --out (siteplan.national.cache)
        cache_dir = open_cache(cache or default_cache(folder.path), inputs, folder.path)
        timings: dict[str, float] = {}
        t = time.perf_counter()
        log.info("national: partitioning %s", path)
        parts = split_scenario(path, cache_dir / "inputs", seed=seed)
        timings["partition"] = round(time.perf_counter() - t, 3)
        for w in parts.warnings:
            if w.message.startswith("national:"):
                log.warning("%s", w.message)
        log.info("national: %d partitions in %d runs", len(parts.keys), len(parts.units))
        tasks = [UnitTask(u.label, str(u.scenario_path), u.key, str(cache_dir), seed if seed is not None else u.seed,
                          u.businesses) for u in parts.units]
        t = time.perf_counter()
        outcomes, engine = run_units(tasks, workers=workers, scheduler=scheduler, processes=processes)
        timings["run"] = round(time.perf_counter() - t, 3)
        if any(o.status == "missing" for o in outcomes):  # raised inside: nothing is written under --out
            raise NationalIncomplete(_incomplete(parts.units, outcomes, engine, cache_dir, folder.path))
        res = NationalResult(parts, outcomes, engine, folder.path)
        t = time.perf_counter()
        stage = folder.stage
        _gather(scenario, res, cache_dir, stage)
        timings["gather"] = round(time.perf_counter() - t, 3)
        cache_stats = prune_cache(cache_dir, [o.key for o in outcomes], [u.folder for u in parts.units],
                                  keep_days=cache_days)
        timings["total"] = round(time.perf_counter() - t0, 3)
        own_seeds = scenario.provincial_list and "seed" not in scenario.model_fields_set  # each province its own
        manifest = _manifest(path, scenario, res, seed if seed is not None else None if own_seeds else scenario.seed,
                             timings, stage)
        manifest["cache"] = {"folder": str(cache_dir), "keep_days": cache_days, **cache_stats}
        write_json(manifest, stage / "manifest.json")
    if res.failed:
        lines = [f"{o.label}: {o.error}" for o in res.failed]
        raise PartitionsFailed(f"{headline(parts.units, outcomes)} (the others are in {folder.path}; rerun with "
                               "--overwrite to retry only the failed ones):\n  " + "\n  ".join(lines))
    return res


def _gather(scenario: Scenario, res: NationalResult, cache_dir: Path, stage: Path) -> None:
    """The national folder's own files from the units' outputs: the units copied in, the gathered tables,
    the national figures and layers (``national.gpkg``), the report, the workbook and ``partitions.json``."""
    copy_units(res.parts.units, res.outcomes, cache_dir, stage)
    gather_tables(res.parts.units, res.outcomes, stage, bom=scenario.outputs.csv_bom, polygons=res.parts.polygons)
    figs = national_figures(res.parts.units, res.outcomes, res.parts.polygons, stage)
    extra = write_figures(figs, res.parts.polygons, stage, bom=scenario.outputs.csv_bom)
    # the national layers keep their names: the gathered flows.geojson (the same town-to-estate lines as
    # the national "flows" layer, per province) stays a file of the folder, not a second "flows" layer
    taken = {name for name, _ in extra}
    layers = [(name, gdf) for name, gdf in gpkg_layers(stage) if name not in taken]
    if layers:  # the national layers and relocation, for QGIS (none when every partition failed)
        from ..outputs.gisstyle import styles_table

        lang = str(getattr(getattr(scenario, "report", None), "language", "both"))
        write_gpkg(extra + layers, stage / "national.gpkg", styles=styles_table(extra + layers, lang))
    national_report(scenario.name, res.parts.polygons, stage / "report.html", figs)
    from ..outputs.workbook import write_folder_workbook

    write_folder_workbook(stage, stage / "plan.xlsx", rtl=scenario.report.language in ("fa", "both"))
    # "ok" whether computed now or taken from the cache (the manifest says which): same run, same bytes
    summary = [{"partition": u.label, "folder": u.folder, "status": "failed" if o.status == "failed" else "ok",
                "error": o.error, **o.figures}
               for u, o in zip(res.parts.units, res.outcomes)]
    (stage / "partitions.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n",
                                           encoding="utf-8")


def _names(keys: list[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    return keys[0] if len(keys) == 1 else ", ".join(keys[:-1]) + " and " + keys[-1]


def headline(units: list[Any], outcomes: list[Outcome]) -> str:
    """``29 of 31 provinces; Fars and Yazd failed`` (or ``31 of 31 provinces``)."""
    from .collate import persian_key

    keys = [k for u in units for k in u.keys]
    failed = sorted((k for u, o in zip(units, outcomes) if o.status == "failed" for k in u.keys), key=persian_key)
    line = f"{len(keys) - len(failed)} of {len(keys)} provinces"
    return line + (f"; {_names(failed)} failed" if failed else "")


def _incomplete(units: list[Any], outcomes: list[Outcome], engine: dict[str, Any], cache_dir: Path, out: Path) -> str:
    from .collate import persian_key

    done = sorted((k for u, o in zip(units, outcomes) if o.status in ("ok", "cached") for k in u.keys), key=persian_key)
    failed = sorted((k for u, o in zip(units, outcomes) if o.status == "failed" for k in u.keys), key=persian_key)
    missing = sorted((k for u, o in zip(units, outcomes) if o.status == "missing" for k in u.keys), key=persian_key)
    n = len(done) + len(failed) + len(missing)
    text = (f"the Dask scheduler {engine.get('scheduler')} was lost ({engine.get('lost', 'connection lost')}) before "
            f"every province ran; nothing was written to {out}.\n  in the cache ({cache_dir}): {len(done)} of {n}"
            f"{': ' + ', '.join(done) if done else ''}\n  missing: {', '.join(missing)}")
    if failed:
        text += f"\n  failed: {', '.join(failed)}"
    return text + ("\nStart the scheduler again (or use --workers N) and rerun the same command: it takes the "
                   "provinces in the cache from there and computes only the missing ones.")
