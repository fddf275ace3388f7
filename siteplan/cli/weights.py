"""``siteplan weights``: criterion weights (``weights ahp``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import click

from ._common import _guard, echo_json


@click.group()
def weights() -> None:
    """Criterion weights."""


@weights.command("ahp")
@click.argument("matrix", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--method", type=click.Choice(["eigenvector", "geometric_mean"]), default="eigenvector", show_default=True)
@click.option("--ri-table", type=click.Choice(["saaty", "alonso_lamata"]), default="saaty", show_default=True)
@click.option("--threshold", type=click.FloatRange(min=0, min_open=True), default=0.10, show_default=True,
              help="Consistency ratio limit (above 0).")
@_guard
def weights_ahp(matrix: Path, method: Literal["eigenvector", "geometric_mean"], ri_table: str, threshold: float) -> None:
    """AHP weights of a pairwise MATRIX (CSV; empty cells are missing judgements) as JSON."""
    from ..scoring.weights import ahp, read_ahp_matrix

    cells, names = read_ahp_matrix(matrix)
    d = ahp(cells, method=method, ri_table=ri_table, threshold=threshold).as_dict()
    if names:
        d["criteria"] = names
    echo_json(d)
    if d.get("consistent") is False:  # on stderr too: a script reading only the exit code is told
        click.echo(f"warning: {matrix}: the judgements are not consistent (consistency ratio {d.get('cr')} above "
                   f"{threshold:g}); revise the judgements, starting with the pair the output's most_inconsistent "
                   "names, before using these weights",
                   err=True)
