"""What the plausibility checks find (:class:`Findings`: errors and warnings) and how their messages
name layers, rows and lists (:func:`layer_where`, :func:`row_id`, :func:`listing`), shared by the checks
of values (:mod:`siteplan.inputs.plausibility`), text encodings (:mod:`siteplan.inputs.encoding`) and
coordinates (:mod:`siteplan.inputs.coordinates`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..common.notice import Notice

__all__ = ["MAX_LISTED", "Findings", "is_missing", "layer_where", "listing", "row_id"]

#: How many rows a message lists.
MAX_LISTED = 10


@dataclass
class Findings:
    """Errors (the run is refused) and warnings (the run goes on) of the plausibility checks.

    Parameters
    ----------
    errors
        One message per problem that refuses the run, naming the layer, row and field.
    warnings
        Warnings as records; the run goes on and reports them.
    """

    errors: list[str] = field(default_factory=list)
    warnings: list[Notice] = field(default_factory=list)

    def extend(self, other: Findings) -> Findings:
        """Add another check's errors and warnings to these (in place); returns ``self``."""
        self.errors += other.errors
        self.warnings += other.warnings
        return self


def listing(items: list[str]) -> str:
    """Items joined by commas, at most :data:`MAX_LISTED` of them and how many more."""
    more = len(items) - MAX_LISTED
    return ", ".join(items[:MAX_LISTED]) + (f" … ({more} more)" if more > 0 else "")


def row_id(gdf: pd.DataFrame, i: Any, id_field: str | None) -> str:
    """Row ``i`` (a position) as messages name it: ``row N`` (1-based, as in the file) and its id."""
    row = int(gdf["_row"].iloc[i]) if "_row" in gdf.columns else i + 1
    ident = gdf[id_field].iloc[i] if id_field and id_field in gdf.columns else None
    return f"row {row}" + (f" ({ident})" if ident is not None and not (isinstance(ident, float)
                                                                       and math.isnan(ident)) else "")


def is_missing(v: object) -> bool:
    """True for None, NaN and blank text."""
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def layer_where(name: str, spec: Any) -> str:
    """A layer as messages name it (as :func:`siteplan.inputs.region.read_layer` does)."""
    table = getattr(spec, "table", None)
    part = spec.layer or table or ("sql" if getattr(spec, "sql", None) else None)
    return f"layer '{name}' ({spec.path}{':' + part if part else ''})"
