"""The officer's labels (``classification.labels``): a CSV of ``biz_id`` or ``name`` → category (or a trade
outside the catalogue), read and checked against the catalogue, and applied to the classified registry
before the name model decides the rest (:mod:`siteplan.guilds.decide`); labels that matched no business
are kept for the model to learn from."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..common.textnorm import normalize, normalize_compact
from ..errors import InputError
from .name_model import OTHER

if TYPE_CHECKING:
    from .catalogue import Catalogue

__all__ = ["apply_labels", "read_labels"]

#: What a label may say for a trade outside the catalogue.
_OUTSIDE_WORDS = {OTHER, "other", "outside", "none", "خارج", "سایر"}


def _read_label_table(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read the labels CSV as text and check it has the columns :func:`read_labels` needs.

    Parameters
    ----------
    path
        The labels CSV.

    Returns
    -------
    tuple
        The table (every cell text) and its columns keyed by their stripped names.

    Raises
    ------
    InputError
        The file cannot be read, or lacks ``category`` or both of ``biz_id`` and ``name``.
    """
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise InputError(f"classification.labels: cannot read {path}: {e}") from None
    cols = {c.strip(): c for c in df.columns}
    if "category" not in cols or not ({"biz_id", "name"} & set(cols)):
        raise InputError(f"classification.labels {path}: needs a 'category' column and a 'biz_id' or 'name' column "
                         f"(a review.csv with its 'category' column filled is one); found: "
                         f"{', '.join(map(str, df.columns)) or 'none'}")
    return df, cols


def _label_vocabulary(catalogue: Catalogue) -> dict[str, str]:
    """Map every word a label may use (code, English or Persian name, outside words) to its code.

    Parameters
    ----------
    catalogue
        The guild catalogue.

    Returns
    -------
    dict
        Compact-normalized word -> catalogue code, or :data:`OTHER` for a trade outside the catalogue.
    """
    known: dict[str, str] = {}
    for r in catalogue.table.itertuples():
        for v in (r.code, r.name_en, r.name_fa):
            known[normalize_compact(v)] = r.code
    for w in _OUTSIDE_WORDS:
        known[normalize_compact(w)] = OTHER
    return known


def read_labels(path: str | Path, catalogue: Catalogue) -> pd.DataFrame:
    """Read the officer's labels (a filled ``review.csv`` is one).

    Parameters
    ----------
    path
        A CSV (UTF-8, a BOM allowed) with ``category`` and ``biz_id`` and/or ``name``; rows with an empty
        ``category`` are not labelled yet and are skipped. ``category`` is a catalogue code, the
        category's English or Persian name, or ``_other`` (also ``other``/``outside``) for a trade
        outside the catalogue.
    catalogue
        The guild catalogue.

    Returns
    -------
    pandas.DataFrame
        ``biz_id`` (text or None), ``name`` (text or None), ``category`` (a code or :data:`OTHER`), ``row``
        (the file's line number).

    Raises
    ------
    InputError
        The file cannot be read, lacks the columns, or a row's category is unknown (every such row named).
    """
    path = Path(path)
    df, cols = _read_label_table(path)
    known = _label_vocabulary(catalogue)
    out, problems = [], []
    for i, row in enumerate(df.to_dict("records")):
        line = i + 2
        raw = str(row[cols["category"]]).strip()
        if not raw:
            continue
        code = known.get(normalize_compact(raw))
        bid = str(row[cols["biz_id"]]).strip() if "biz_id" in cols else ""
        name = str(row[cols["name"]]).strip() if "name" in cols else ""
        if code is None:
            problems.append(f"classification.labels {path}: row {line} (biz_id {bid or '-'}): category {raw!r} is "
                            f"not a catalogue category (codes: {', '.join(catalogue.codes)}; or _other for a "
                            "trade outside the catalogue)")
            continue
        if not bid and not normalize(name):
            problems.append(f"classification.labels {path}: row {line}: neither biz_id nor name is given")
            continue
        out.append({"biz_id": bid or None, "name": name or None, "category": code, "row": line})
    if problems:
        raise InputError(problems)
    return pd.DataFrame(out, columns=["biz_id", "name", "category", "row"])


def apply_labels(classified: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, tuple[list[str], list[str]]]:
    """Give the labelled businesses their label (by ``biz_id``, else by the same name after normalization).

    Parameters
    ----------
    classified
        Output of :func:`siteplan.guilds.catalogue.classify`.
    labels
        Output of :func:`read_labels`.

    Returns
    -------
    tuple
        A copy of ``classified`` where labelled rows have ``category`` (None for :data:`OTHER`, with
        ``class_outside``), ``class_rule`` and ``class_by`` ``label`` and ``class_conf`` 1; and the labels
        that matched no business (names, categories), for the model to learn.
    """
    out = classified.copy()
    if not len(labels) or not len(out):
        return out, ([], [])
    by_id = {b: c for b, c in zip(labels["biz_id"], labels["category"]) if b is not None}
    by_name = {normalize(n): c for n, c in zip(labels["name"], labels["category"])
               if n is not None and normalize(n)}
    ids = out["biz_id"].astype(str).tolist() if "biz_id" in out else [None] * len(out)
    names = [normalize(n) for n in out["name"]] if "name" in out else [""] * len(out)
    got = [by_id.get(b) if b is not None and b in by_id else by_name.get(n) if n else None
           for b, n in zip(ids, names)]
    hit = np.array([g is not None for g in got])
    if hit.any():
        idx = out.index[hit]
        lab = np.array([g for g in got if g is not None], dtype=object)
        out.loc[idx, "category"] = [None if x == OTHER else x for x in lab]
        out.loc[idx, "class_outside"] = lab == OTHER
        out.loc[idx, "class_rule"] = "label"
        out.loc[idx, "class_by"] = "label"
        out.loc[idx, "class_conf"] = 1.0
        out.loc[idx, "class_note"] = np.where(lab == OTHER, "labelled a trade outside the catalogue", "")
    used_ids = {b for b in ids if b is not None}
    used_names = set(names)
    rest = labels[[not ((b is not None and b in used_ids) or (n is not None and normalize(n) in used_names))
                   for b, n in zip(labels["biz_id"], labels["name"])]]
    rest = rest[rest["name"].notna()]
    return out, (rest["name"].astype(str).tolist(), rest["category"].tolist())
