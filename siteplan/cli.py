"""The ``siteplan`` command. Thin: it parses arguments, configures logging and calls library
functions; every problem with input becomes one message on stderr and exit status 1 (2 for usage)."""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Callable

import click
import numpy as np

from .errors import SiteplanError

log = logging.getLogger("siteplan")


def _setup_logging(quiet: bool, verbose: int) -> None:
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 0 else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s" if level > logging.DEBUG else "%(name)s: %(message)s"))
    root = logging.getLogger("siteplan")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    logging.captureWarnings(True)
    warnings.filterwarnings("ignore", category=RuntimeWarning)


def _quiet_broken_pipe() -> None:
    """The reader of stdout went away (``siteplan catalogue | head``): end quietly, as a Unix tool
    killed by SIGPIPE would (exit 141, no message). stdout is pointed at /dev/null so that Python's
    final flush does not raise again (the recipe of the Python docs, "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass  # stdout is not a file descriptor (e.g. captured in tests)
    sys.exit(141)


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn siteplan errors into one clear message and exit 1; unexpected errors too, without a
    traceback unless --debug."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        debug = ctx.find_root().params.get("debug", False)
        try:
            result = fn(*args, **kwargs)
            sys.stdout.flush()  # a closed stdout shows here, not at interpreter exit
            return result
        except BrokenPipeError:
            _quiet_broken_pipe()
        except SiteplanError as exc:
            if debug:
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except (click.ClickException, click.exceptions.Exit, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug: say so plainly
            if debug:
                raise
            click.echo(f"error: internal error ({type(exc).__name__}: {exc}); run with --debug for the "
                       "traceback and report it", err=True)
            sys.exit(1)

    return wrapper


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every clean-up (``finally``) runs."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


class _Group(click.Group):
    """The root command: SIGTERM is handled like SIGINT; both end with "interrupted" on stderr and
    the shell's usual status (130 for Ctrl-C, 143 for SIGTERM) instead of click's "Aborted!"."""

    def invoke(self, ctx: click.Context) -> Any:
        import signal

        try:
            previous = signal.signal(signal.SIGTERM, _on_sigterm)
            installed = True
        except ValueError:  # not the main thread (embedded use)
            installed = False
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            click.echo("interrupted", err=True)
            ctx.exit(143 if isinstance(exc, _Terminated) else 130)
        finally:
            if installed:
                signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--quiet", "-q", is_flag=True, help="Silence progress messages (errors still go to stderr).")
@click.option("--verbose", "-v", count=True, help="More detail in the logs.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="siteplan")
def main(quiet: bool, verbose: int, debug: bool) -> None:
    """siteplan: site selection and estate planning for relocating nuisance guilds."""
    _setup_logging(quiet, verbose)


def _run_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--seed", type=int, default=None, help="Random seed (overrides the scenario's).")(fn)
    fn = click.option("--overwrite", is_flag=True,
                      help="Replace an output folder that a previous siteplan run wrote.")(fn)
    fn = click.option("--quiet", "-q", "quiet_local", is_flag=True, help="Silence progress messages.")(fn)
    return fn


def _after_run(res: Any, out: Path) -> None:
    rows = res.plan.rows
    n_as = int((rows.status == "assigned").sum())
    log.info("wrote %s: %d businesses, %d assigned, %d unassigned; %d zones; %d proposed sites; gap %.4f %%",
             out, len(rows), n_as, len(rows) - n_as, len(res.zones), len(res.sites), 100 * float(res.plan.solver["gap"]))
    if res.warnings:
        log.info("%d warnings (see manifest.json and the report)", len(res.warnings))


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("out/run"),
              show_default=True, help="Output folder.")
@_run_options
@_guard
def run(scenario: Path, out: Path, seed: int | None, overwrite: bool, quiet_local: bool) -> None:
    """Run SCENARIO end to end and write every output into --out."""
    from .pipeline import run_scenario_file

    if quiet_local:
        _setup_logging(True, 0)
    res = run_scenario_file(scenario, out, seed=seed, overwrite=overwrite)
    _after_run(res, out)


@main.command()
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), default=Path("out/demo"),
              show_default=True, help="Output folder.")
@_run_options
@_guard
def demo(out: Path, seed: int | None, overwrite: bool, quiet_local: bool) -> None:
    """Run the embedded Isfahan demo (same as `siteplan run data/demo.yaml --out out/demo`)."""
    from .pipeline import demo_scenario_path, run_scenario_file

    if quiet_local:
        _setup_logging(True, 0)
    res = run_scenario_file(demo_scenario_path(), out, seed=seed, overwrite=overwrite)
    _after_run(res, out)


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@_guard
def validate(scenario: Path) -> None:
    """Check SCENARIO and its layers; list every problem (exit 1) or say it is valid (exit 0)."""
    from .checks import check_scenario_data
    from .guilds import load_catalogue
    from .region import load_region
    from .scenario import load_scenario

    sc = load_scenario(scenario)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        region = load_region(sc)
    cat = load_catalogue(sc.resolve(sc.catalogue.path) if sc.catalogue.path else None,
                         overrides=sc.catalogue.overrides, add=sc.catalogue.add)
    check_scenario_data(sc, region, cat)  # the same checks a run makes before its heavy work
    for w in region.warnings:
        click.echo(f"warning: {w}", err=True)
    del caught
    counts = ", ".join(f"{k} {len(v)}" for k, v in region.layers.items())
    click.echo(f"{scenario}: valid ({counts}; CRS {region.crs.name})")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--scenario", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Apply this scenario's catalogue overrides and additions.")
@_guard
def catalogue(fmt: str, scenario: Path | None) -> None:
    """Print the guild catalogue with its sources and status columns."""
    from .guilds import load_catalogue
    from .scenario import load_scenario

    if scenario:
        sc = load_scenario(scenario)
        cat = load_catalogue(sc.resolve(sc.catalogue.path) if sc.catalogue.path else None,
                             overrides=sc.catalogue.overrides, add=sc.catalogue.add)
    else:
        cat = load_catalogue()
    cols = ["code", "name_en", "name_fa", "isic", "osm_tags", "env_cat", "sep_m", "sep_mixed_m", "sep_status",
            "env_status", "doe_group", "doe_status", "traffic", "land_m2", "land_status", "utilities", "chain",
            "links", "source"]
    t = cat.table[cols].copy()
    for c in ("isic", "osm_tags", "utilities", "links"):
        t[c] = t[c].map(lambda v: ";".join(v))
    if fmt == "csv":
        from .export import safe_csv

        click.echo(safe_csv(t), nl=False)
    elif fmt == "json":
        click.echo(json.dumps(t.to_dict(orient="records"), ensure_ascii=False, indent=1))
    else:
        short = t[["code", "name_en", "env_cat", "sep_m", "sep_status", "doe_group", "land_m2", "land_status",
                   "chain"]]
        click.echo(short.to_string(index=False))
        click.echo("\nsep_m: VNG (2009) separation from homes; status 'assumption' rows need a planner's review. "
                   "Use --format csv or json for every column.")


@main.group()
def weights() -> None:
    """Criterion weights."""


@weights.command("ahp")
@click.argument("matrix", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--method", type=click.Choice(["eigenvector", "geometric_mean"]), default="eigenvector", show_default=True)
@click.option("--ri-table", type=click.Choice(["saaty", "alonso_lamata"]), default="saaty", show_default=True)
@click.option("--threshold", type=float, default=0.10, show_default=True, help="Consistency ratio limit.")
@_guard
def weights_ahp(matrix: Path, method: str, ri_table: str, threshold: float) -> None:
    """AHP weights of a pairwise MATRIX (CSV; empty cells are missing judgements) as JSON."""
    import csv

    from .errors import InputError
    from .weights import ahp

    if not matrix.is_file():
        raise InputError(f"{matrix}: file not found")
    with open(matrix, encoding="utf-8-sig") as fh:
        rows = [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    # a header row / first column of names is allowed
    try:
        float(rows[0][-1].split("/")[0])
        names = None
    except (ValueError, IndexError):
        names = [c.strip() for c in rows[0][1:]]
        rows = [r[1:] for r in rows[1:]]
    res = ahp([[c if c.strip() else None for c in r] for r in rows], method=method,  # type: ignore[arg-type]
              ri_table=ri_table, threshold=threshold)
    d = res.as_dict()
    if names:
        d["criteria"] = names
    click.echo(json.dumps(d, ensure_ascii=False, indent=1))


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--category", required=True, help="Category code (see `siteplan catalogue`).")
@click.option("--out", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True, help="GeoTIFF to write.")
@click.option("--blockwise", is_flag=True, help="Compute block by block with bounded memory (very large grids).")
@_guard
def suitability(scenario: Path, category: str, out: Path, blockwise: bool) -> None:
    """Write one category's suitability surface as a GeoTIFF (nodata where excluded)."""
    from .errors import InputError
    from .export import write_geotiff
    from .pipeline import prepare
    from .scenario import load_scenario

    sc = load_scenario(scenario)
    sc = sc.model_copy(update={"categories": [category]}) if category else sc
    if blockwise:
        from ._io import atomic_path
        from .blockwise import suitability_blockwise
        from .suitability import category_weights

        prep = prepare(sc, with_surfaces=False)
        if category not in prep.rules:
            raise InputError(f"--category: '{category}' is not in the catalogue")
        w = category_weights(prep.criteria_specs, sc, category)
        with atomic_path(out) as tmp:
            counts = suitability_blockwise(prep.criteria_specs, w, prep.rules[category], prep.region.layers, sc,
                                           prep.grid, tmp)
        log.info("wrote %s (%d × %d, blockwise); cells excluded per rule: %s", out, prep.grid.width,
                 prep.grid.height, counts)
        return
    prep = prepare(sc)
    s = prep.surfaces.get(category)
    if s is None:
        raise InputError(f"--category: '{category}' is not in the catalogue")
    if not s.allowed.any():
        raise InputError(f"{category}: the siting rules exclude the whole study area; binding rules: "
                         f"{', '.join(s.binding_rules())}")
    write_geotiff(s.masked, prep.grid, out)
    log.info("wrote %s (%d × %d, %.1f %% of cells allowed)", out, prep.grid.width, prep.grid.height,
             100 * s.allowed.mean())


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--category", required=True, help="Category code (see `siteplan catalogue`).")
@click.option("--at", "at", default=None, help="A point as LON,LAT (degrees).")
@click.option("--estate", default=None, help="An estate_id.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_guard
def explain(scenario: Path, category: str, at: str | None, estate: str | None, fmt: str) -> None:
    """Explain why a place is or is not allowed for a category, and its suitability."""
    from .errors import InputError
    from .explain import explain as do_explain
    from .pipeline import prepare
    from .scenario import load_scenario
    from .textnorm import to_ascii_digits

    point = None
    if at is not None:
        try:
            lon, lat = (float(v) for v in to_ascii_digits(at).replace("،", ",").split(","))
        except ValueError:
            raise InputError(f"--at: '{at}' is not LON,LAT (e.g. --at 51.67,32.65)") from None
        point = (lon, lat)
    sc = load_scenario(scenario)
    prep = prepare(sc)
    ex = do_explain(prep, category, at=point, estate=estate)
    if fmt == "json":
        click.echo(json.dumps({"category": ex.category, "where": ex.where, "allowed": ex.allowed,
                               "score": round(ex.score, 6) if np.isfinite(ex.score) else None,
                               "estate_reasons": list(ex.estate_reasons),
                               "rules": json.loads(ex.rules.replace([np.inf], None).to_json(orient="records")),
                               "criteria": json.loads(ex.criteria.to_json(orient="records"))},
                              ensure_ascii=False, indent=1))
    else:
        for line in ex.lines():
            click.echo(line)


@main.command("export")
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--gpkg", type=click.Path(dir_okay=False, path_type=Path), required=True, help="GeoPackage to write.")
@_guard
def export_cmd(run_dir: Path, gpkg: Path) -> None:
    """Copy every GeoJSON layer of RUN_DIR into one GeoPackage (for QGIS)."""
    from .export import export_gpkg

    names = export_gpkg(run_dir, gpkg)
    log.info("wrote %s with layers: %s", gpkg, ", ".join(names))


@main.command("ingest-osm")
@click.argument("pbf", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Region folder to write (region.gpkg and scenario.yaml).")
@click.option("--boundary", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Polygon file to clip the extract to (e.g. a province).")
@click.option("--overwrite", is_flag=True, help="Replace a region folder that a previous ingest-osm wrote.")
@_guard
def ingest_osm_cmd(pbf: Path, out: Path, boundary: Path | None, overwrite: bool) -> None:
    """Build a region and a ready scenario from an OpenStreetMap extract (PBF)."""
    from .osm import ingest_osm

    rep = ingest_osm(pbf, out, boundary=boundary, overwrite=overwrite)
    for line in rep.lines():
        click.echo(line)
    click.echo(f"wrote {out / 'region.gpkg'} and {out / 'scenario.yaml'}")


if __name__ == "__main__":  # pragma: no cover
    main()
