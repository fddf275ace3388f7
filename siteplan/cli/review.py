"""``siteplan review RUN_DIR``: what is left to label, the answers that settle most first."""

from __future__ import annotations

from pathlib import Path

import click

from ._common import _guard, echo


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--top", type=click.IntRange(min=1), default=30, show_default=True, help="How many answers to list.")
@_guard
def review(run_dir: Path, top: int) -> None:
    """List the businesses of a run left for review (its review.csv), grouped by name: one answer (a
    category in review.csv's ``category`` column) settles every business of that name, so the names are
    sorted by how many businesses, then hectares (the best candidate's land), an answer would settle.
    Fill the column and give the file as ``classification.labels`` in the scenario to run again."""
    import pandas as pd

    from ..common.textnorm import normalize, printable
    from ..errors import InputError

    path = run_dir / "review.csv"
    if not path.is_file():
        raise InputError(f"{run_dir}: no review.csv (is it a siteplan run folder?)")
    try:
        t = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise InputError(f"{path}: cannot read: {e}") from None
    missing = [c for c in ("name", "category", "best1", "best2", "land_m2") if c not in t]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)} (written by another siteplan version?)")
    left = t[t["category"].str.strip() == ""].copy()
    if not len(left):
        echo(f"{path}: nothing left to label ({len(t)} rows, all labelled)")
        return
    left["key"] = left["name"].map(normalize)
    left["ha"] = pd.to_numeric(left["land_m2"], errors="coerce").fillna(0) / 10_000
    g = left.groupby("key", sort=False).agg(name=("name", "first"), businesses=("name", "size"), ha=("ha", "sum"),
                                            best1=("best1", "first"), best2=("best2", "first"),
                                            words=("words", "first") if "words" in left else ("name", "first"))
    g = g.reset_index(drop=True).sort_values(["businesses", "ha", "name"], ascending=[False, False, True],
                                             kind="mergesort")
    echo(f"{len(left)} businesses left to label under {len(g)} names ({left['ha'].sum():.1f} ha by their best "
         f"candidates); fill review.csv's category column (a code, or _other) and give the file as "
         "classification.labels:")
    echo(f"{'businesses':>10} {'ha':>7}  {'best / next':32} name")
    for r in g.head(top).itertuples():
        cand = f"{r.best1 or '-'} / {r.best2 or '-'}"
        echo(f"{r.businesses:>10} {r.ha:>7.2f}  {printable(cand):32} {printable(r.name)}")
    if len(g) > top:
        echo(f"... and {len(g) - top} more names (--top {len(g)} lists them all)")
