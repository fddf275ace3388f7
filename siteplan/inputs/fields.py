"""A layer's fields: the canonical fields of each layer, the user's fields mapped to them, and the values
cleaned (numbers parsed, text trimmed, control characters removed, ids as ASCII, vocabularies mapped)."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from ..common.notice import Notice
from ..common.textnorm import normalize, normalize_compact, parse_number, to_ascii_digits
from ..common.vocab import OPEN_DEFAULT, VOCABULARIES, map_values
from ..errors import InputError
from ..scenario import LayerSpec, Scenario
from .plausibility import PLAUSIBILITY_ERRORS, number_text_problems
from .tables import TABLE_ROW, find_column, is_table

__all__ = ["DISPLAY_FIELDS", "ID_FIELDS", "ID_LIKE", "NUMERIC_FIELDS", "OPTIONAL_FIELDS", "REQUIRED_FIELDS",
           "empty_layer", "map_fields", "normalise_values"]

REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "estates": ("estate_id", "name"),
    "urban": ("name",),
    "receptors": ("kind",),
    "roads": ("road_class",),
    "rail": (),
    "utilities": ("kind",),
    "constraints": ("kind",),
    "businesses": ("biz_id",),
    "plots": ("plot_id", "estate_id", "status"),
    "occupied": (),
    "vacant_land": (),
    "boundary": (),
}
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "estates": ("kind", "gross_ha", "vacant_ha", "power", "gas", "water", "wastewater", "max_cat", "county",
                "reserved", "excluded"),
    "urban": ("population", "kind", "name_en", "county", "mixed"),
    "receptors": ("name",),
    "roads": ("name",),
    "rail": ("kind",),
    "utilities": ("name",),
    "constraints": ("buffer_m", "name"),
    "businesses": ("category", "isic", "osm_tag", "name", "area_m2", "employees", "cluster_id", "county"),
    "plots": ("area_m2",),
    "occupied": ("name",),
    "vacant_land": ("name",),
    "boundary": ("name",),
}
NUMERIC_FIELDS = {
    "population", "gross_ha", "vacant_ha", "power", "gas", "water", "wastewater", "max_cat",
    "buffer_m", "area_m2", "employees", "mixed",
}
ID_FIELDS = {"estates": "estate_id", "businesses": "biz_id", "plots": "plot_id"}


#: text fields shown as the user wrote them (matching uses their normalized ``*_norm`` form); other text
#: fields are keys or vocabulary values and are trimmed
DISPLAY_FIELDS = frozenset({"name", "name_en", "source"})


def _clean_text(series: pd.Series, *, display: bool = False) -> pd.Series:
    """Text as ``str``, missing values as None; trimmed, except a display field's text (a name with a
    leading tab or space is written as it is), which is only emptied when it is all white space."""
    def clean(v: object) -> str | None:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        t = str(v)
        return t if display and t.strip() else t.strip()

    return series.map(clean)


def map_fields(gdf: gpd.GeoDataFrame, name: str, spec: LayerSpec, scenario: Scenario, where: str
                ) -> tuple[gpd.GeoDataFrame, list[Notice]]:
    """Rename the user's fields to canonical names; every problem (unknown or missing field, no CRS)
    raised at once. Returns the layer and notes (a field the mapping shadows)."""
    known = set(REQUIRED_FIELDS[name]) | set(OPTIONAL_FIELDS[name]) | {"source"}
    cols = [str(c) for c in gdf.columns if c != "geometry" and not str(c).startswith("_")]
    compact: dict[str, list[str]] = {}
    for c in cols:
        compact.setdefault(normalize_compact(c), []).append(c)
    rename, problems = _field_mapping(spec, name, known, cols, where)
    # the mapping wins over a field of the file that already has the canonical name (and is not mapped
    # itself): that field is not read, and the log and `validate` say so
    shadowed = sorted(c for u, c in rename.items() if c != u and c in gdf.columns and c not in rename)
    notes = [Notice("field-shadowed", f"{where}: fields.{c}: maps '{u}' to {c}; the file's own field named '{c}' "
                    "is not read (the mapping wins)") for u, c in rename.items() if c in shadowed]
    gdf = gdf.drop(columns=shadowed)
    for canon in known:
        same = compact.get(normalize_compact(canon), [])
        if canon not in rename.values() and canon not in gdf.columns and len(same) == 1 and same[0] not in rename:
            rename[same[0]] = canon
    gdf = gdf.rename(columns=rename)
    problems += _mapped_layer_problems(gdf, name, spec, scenario, (where, cols))
    if problems:
        raise InputError(problems)
    return gdf, notes


def _field_mapping(spec: LayerSpec, name: str, known: set[str], cols: list[str], where: str
                   ) -> tuple[dict[str, str], list[str]]:
    """The file's fields the scenario's ``fields:`` mapping names, as file field → canonical name, and
    the problems of the mapping (a coordinate column, an unknown canonical name, a field not found or
    matched twice)."""
    problems: list[str] = []
    rename: dict[str, str] = {}
    for canon, user in spec.fields.items():
        if canon in ("x", "y", "lon", "lat", "wkt"):
            problems.append(f"{where}: fields.{canon}: coordinate columns are named on the layer itself "
                            f"(layers.{name}.{canon}: {user}), not under fields")
            continue
        if canon not in known:
            problems.append(f"{where}: fields.{canon}: '{canon}' is not a field of layer '{name}' "
                            f"(known: {', '.join(sorted(known))})")
            continue
        found = find_column(cols, user) if user != "geometry" else []
        if len(found) != 1:
            what = (f"several fields match '{user}' after Persian normalisation ({', '.join(found)})" if found
                    else f"the file has no field '{user}'")
            problems.append(f"{where}: fields.{canon}: {what} (its fields: {', '.join(cols)})")
            continue
        rename[found[0]] = canon
    return rename, problems


def _mapped_layer_problems(gdf: gpd.GeoDataFrame, name: str, spec: LayerSpec, scenario: Scenario,
                           at: tuple[str, list[str]]) -> list[str]:
    """A layer's problems once its fields are renamed: required fields missing, no CRS (``at``: where
    it is read from and the file's own fields)."""
    where, cols = at
    problems = []
    missing = [f for f in REQUIRED_FIELDS[name] if f not in gdf.columns]
    if name == "businesses" and not any(f in gdf.columns for f in ("category", "isic", "osm_tag", "name")):
        missing.append("one of category/isic/osm_tag/name")
    if missing:
        problems.append(f"{where}: missing required field(s): {', '.join(missing)}; the file has "
                        f"{', '.join(cols) or 'no fields'}. "
                        f"Map them under layers.{name}.fields (canonical: your_field)")
    if gdf.crs is None and not (spec.crs or scenario.crs):
        what = ("the table's x/y columns carry no coordinate reference system" if is_table(Path(spec.path))
                else "the file has no coordinate reference system (no .prj)")
        problems.append(f"{where}: {what}; declare it "
                        f"with layers.{name}.crs (e.g. 'EPSG:4326') or a scenario-wide 'crs:'")
    return problems


def empty_layer(gdf: gpd.GeoDataFrame, name: str, spec: LayerSpec, where: str
                 ) -> tuple[gpd.GeoDataFrame, list[Notice], pd.DataFrame]:
    """An empty layer with its canonical columns, when the scenario allows it (else an error)."""
    if not spec.allow_empty:
        raise InputError(f"{where}: the layer is empty; a '{name}' layer needs at least one feature "
                         f"(or set layers.{name}.allow_empty: true to run without any)")
    for canon in REQUIRED_FIELDS[name]:
        if canon not in gdf.columns:
            gdf[canon] = pd.Series(dtype=object)
    for col in gdf.columns:
        if col != "geometry" and col not in NUMERIC_FIELDS:
            gdf[col] = gdf[col].astype(object)
    gdf["_row"] = pd.Series(dtype="int64")
    if name == "urban" or "name" in gdf.columns:
        gdf["name_norm"] = pd.Series(dtype=object)
    return gdf, [Notice("layer-empty", f"{where}: the layer is empty (allowed by the scenario)")], pd.DataFrame(
        columns=["layer", "row", "id", "reason"])


def normalise_values(gdf: gpd.GeoDataFrame, name: str, spec: LayerSpec, where: str
                      ) -> tuple[gpd.GeoDataFrame, list[Notice]]:
    """Numbers parsed (Persian digits too), text trimmed, ids as ASCII strings, vocabulary fields
    mapped to canonical values (:mod:`siteplan.common.vocab`) and names normalized for matching
    (``name_norm``); returns the layer and warnings (values an open field sent to its default)."""
    _parse_columns(gdf, name, where)
    control = _strip_controls(gdf, name, where)
    for col in ("estate_id", "biz_id", "plot_id", "isic"):
        if col in gdf.columns:
            gdf[col] = gdf[col].map(_ascii_id)
    mapped = [c for c in gdf.columns if c != "geometry" and c not in NUMERIC_FIELDS
              and ((name, c) in VOCABULARIES or c in spec.values)]
    raw = {c: gdf[c].copy() for c in mapped}
    for col in ("name", "kind", "road_class", "status", "category", "osm_tag"):
        if col in gdf.columns:
            gdf[col + "_norm" if col == "name" else col] = (
                gdf[col].map(normalize) if col == "name"
                else gdf[col].map(lambda v: normalize(v).replace(" ", "_") if v else None)
            )
    warns = control
    for col in mapped:
        gdf[col], defaulted = map_values(raw[col], gdf[col], name, col, spec.values.get(col))
        if defaulted:
            warns.append(Notice("value-defaulted",
                                f"{where}: {col}: {sum(defaulted.values())} feature(s) with value(s) not in its "
                                f"vocabulary ({', '.join(VOCABULARIES[name, col])}) taken as "
                                f"'{OPEN_DEFAULT[name, col]}': "
                                + ", ".join(f"'{v}' ({n})" for v, n in defaulted.most_common(20))
                                + f"; map them under layers.{name}.values.{col} if they are main roads",
                                {"features": sum(defaulted.values())}))
    return gdf, warns


def _parse_columns(gdf: gpd.GeoDataFrame, name: str, where: str) -> None:
    """Numbers parsed (Persian digits too; text that is no number noted as a plausibility error) and
    text trimmed, in place."""
    for col in gdf.columns:
        if col == "geometry":
            continue
        if col in NUMERIC_FIELDS:
            # text that does not read as a number is an error (load_region raises it), never a silent NaN
            gdf.attrs.setdefault(PLAUSIBILITY_ERRORS, []).extend(
                number_text_problems(gdf, col, where, ID_FIELDS.get(name), TABLE_ROW))
            gdf[col] = pd.to_numeric(gdf[col].map(parse_number), errors="coerce").astype("float64")
        elif gdf[col].dtype == object or str(gdf[col].dtype).startswith("str"):
            gdf[col] = _clean_text(gdf[col], display=col in DISPLAY_FIELDS)


def _ascii_id(v: object) -> str | None:
    """An id as ASCII text (Persian digits too; a spreadsheet's ``12.0`` is ``12``), None when missing."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return to_ascii_digits(str(v)).strip().removesuffix(".0") or None


#: the C0 control characters that are not white space, and DEL (NUL, escape, bell …): never part of a
#: text; tabs and line breaks are white space, kept as written (the terminal and the CSVs escape them)
_CONTROL_CHARS = tuple(chr(c) for c in (*range(32), 127) if not chr(c).isspace())
_CONTROL = re.compile("[" + "".join(_CONTROL_CHARS) + "]")
_CONTROL_DROP = str.maketrans(dict.fromkeys(map(ord, _CONTROL_CHARS)))
#: fields holding ids: control characters in them are errors (:func:`siteplan.inputs.plausibility.id_text_problems`)
ID_LIKE = ("estate_id", "biz_id", "plot_id", "isic")


def _without_controls(text: str) -> str | None:
    out = text.translate(_CONTROL_DROP)
    return out if out.strip() else None


def _strip_controls(gdf: gpd.GeoDataFrame, name: str, where: str) -> list[Notice]:
    """Remove the control characters that are not white space (NUL, escape, DEL …) from the text fields
    other than ids, in place; one warning per field naming its rows. Ids keep them (they are refused:
    an id is matched, not read)."""
    rows = gdf[TABLE_ROW].to_numpy() if TABLE_ROW in gdf.columns else np.arange(1, len(gdf) + 1)
    idf = ID_FIELDS.get(name)
    warns: list[Notice] = []
    for col in gdf.columns:
        if col == "geometry" or str(col).startswith("_") or col in ID_LIKE or col in NUMERIC_FIELDS:
            continue
        values = gdf[col].to_numpy(dtype=object)
        joined = "".join([v for v in values if isinstance(v, str)])
        if not any(c in joined for c in _CONTROL_CHARS):  # a few fast scans of the whole column (the usual case)
            continue
        hit = np.flatnonzero([isinstance(v, str) and _CONTROL.search(v) is not None for v in values])
        before = gdf[col].iloc[hit]
        gdf.iloc[hit, gdf.columns.get_loc(col)] = before.map(_without_controls).to_numpy()
        items = [f"row {int(rows[i])}" + (f" ({gdf[idf].iloc[i]})" if idf in gdf.columns and
                                          isinstance(gdf[idf].iloc[i], str) else "") + f": {before.iloc[k]!r}"
                 for k, i in enumerate(hit[:10])]
        more = " …" if len(hit) > 10 else ""
        warns.append(Notice("control-chars", f"{where}: field '{col}' held control characters (NUL, escape …) in "
                            f"{len(hit)} row(s), removed: {', '.join(items)}{more}; clean the file to silence this "
                            "warning", {"rows": len(hit)}))
    return warns
