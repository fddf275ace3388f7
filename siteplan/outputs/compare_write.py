"""Writing a comparison of two runs (``siteplan compare``): the tables of :mod:`siteplan.outputs.compare` as
CSV files and the page of :mod:`siteplan.outputs.compare_page`, into a folder the output-folder machinery
guards (:class:`siteplan.outputs.outdir.OutputFolder`)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .compare import Comparison, RunFolder, compare_runs, read_run
from .writer import write_csv

__all__ = ["OUTPUT_FILES", "csv_bom", "write_comparison", "compare_folders"]


#: The files ``siteplan compare`` writes.
OUTPUT_FILES = ("moved.csv", "estates.csv", "sites.csv", "zones.csv", "totals.csv", "compare.html")


def csv_bom(cmp: Comparison) -> bool:
    """Whether the comparison's CSVs get a UTF-8 byte-order mark: yes unless both runs were written
    with ``outputs.csv_bom: false`` (a run without the setting in its manifest counts as yes, the
    scenario's default)."""
    def bom(r: RunFolder) -> bool:
        sc = r.manifest.get("scenario")
        out = sc.get("outputs") if isinstance(sc, dict) else None
        v = out.get("csv_bom") if isinstance(out, dict) else None
        return v if isinstance(v, bool) else True

    return bom(cmp.a) or bom(cmp.b)


def write_comparison(cmp: Comparison, out_dir: str | Path) -> list[str]:
    """Write the comparison's tables and page into ``out_dir`` (every CSV cell that a spreadsheet
    could read as a formula is neutralised; the page escapes every value). Returns the file names."""
    from ..common.atomic import atomic_path
    from .compare_page import comparison_page

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    bom = csv_bom(cmp)
    for name, df in (("moved", cmp.moved), ("estates", cmp.estates), ("sites", cmp.sites), ("zones", cmp.zones),
                     ("totals", cmp.totals)):
        write_csv(df, out / f"{name}.csv", bom=bom)
    with atomic_path(out / "compare.html") as tmp:
        tmp.write_text(comparison_page(cmp), encoding="utf-8")
    return list(OUTPUT_FILES)


def compare_folders(run_a: str | Path, run_b: str | Path, out: str | Path, *, overwrite: bool = False) -> Comparison:
    """``siteplan compare``: read two runs, compare them and write the comparison into ``out`` through
    siteplan's output-folder machinery (:class:`siteplan.outputs.outdir.OutputFolder`: the run folders are
    inputs, so ``out`` may not hold them, be inside them or be one of them; ``--overwrite`` replaces
    only a folder ``siteplan compare`` wrote; the folder is swapped in atomically).

    Parameters
    ----------
    run_a
        Run folder A (``siteplan run``'s output; read, never changed).
    run_b
        Run folder B.
    out
        The comparison's output folder (``~`` expanded); not a run folder, nor inside one.
    overwrite
        Replace an existing ``out`` that ``siteplan compare`` wrote (never any other folder).

    Returns
    -------
    Comparison
        What was compared and written: ``moved.csv``, ``estates.csv``, ``sites.csv``, ``zones.csv``,
        ``totals.csv`` and ``compare.html`` in ``out``.

    Raises
    ------
    InputError
        As :func:`compare_runs`, or for an ``out`` that is refused.
    """
    from .outdir import OutputFolder, input_bytes

    ra, rb = read_run(run_a, "RUN_A"), read_run(run_b, "RUN_B")
    target = Path(out).expanduser().resolve()
    for label, r in (("RUN_A", ra), ("RUN_B", rb)):
        home = r.path.resolve()
        if target == home or home in target.parents:
            raise InputError(f"--out {out}: is {'' if target == home else 'inside '}{label} {r.path}; the run folders "
                             "are the comparison's inputs "
                             f"and stay as siteplan wrote them: choose a folder outside them, e.g. --out "
                             f"{home.parent / 'compare'}")
    inputs = {"RUN_A": ra.path, "RUN_B": rb.path}
    estimate = (1 << 20) + input_bytes([ra.path / "relocation.csv", rb.path / "relocation.csv"])
    with OutputFolder(out, kind="compare", overwrite=overwrite, inputs=inputs, estimate_bytes=estimate) as folder:
        cmp = compare_runs(ra, rb)
        write_comparison(cmp, folder.stage)
    return cmp
