"""The text encoding of a layer's file: NUL bytes inside a DBF's or a GeoJSON's values (errors), a
``.cpg`` or ``encoding:`` that does not decode the text (corrected, with a warning), and UTF-8 Persian
read with the wrong code page (mojibake, a warning); part of the plausibility checks
(:mod:`siteplan.inputs.plausibility`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from ..common.notice import Notice
from .findings import layer_where, listing

__all__ = ["checked_encoding", "cpg_encoding", "dbf_nul_problems", "geojson_nul_problems", "is_mojibake",
           "mojibake_rows"]


def _dbf_fields(raw: bytes) -> tuple[int, int, int, list[tuple[bytes, str, int, int]]]:
    nrec = int.from_bytes(raw[4:8], "little")
    header_len = int.from_bytes(raw[8:10], "little")
    rec_len = int.from_bytes(raw[10:12], "little")
    fields = []
    pos, offset = 32, 1
    while pos + 32 <= header_len and raw[pos] != 0x0D:
        desc = raw[pos:pos + 32]
        name = desc[:11].split(b"\x00")[0]
        length = desc[16]
        fields.append((name, chr(desc[11]), offset, length))
        offset += length
        pos += 32
    return nrec, header_len, rec_len, fields


def dbf_nul_problems(dbf: Path, where: str, encoding: str, rename: dict[str, str]) -> list[str]:
    """Text fields of a DBF with a NUL byte inside the value (the reader would cut the text there):
    errors naming the field, rows and what would be read. ``rename`` maps file field names to
    canonical ones (for the message)."""
    try:
        raw = dbf.read_bytes()
        nrec, header_len, rec_len, fields = _dbf_fields(raw)
    except (OSError, IndexError):
        return []
    problems = []
    for name, kind, off, length in fields:
        if kind != "C":
            continue
        bad = []
        for r in range(nrec):
            start = header_len + r * rec_len
            if start + rec_len > len(raw):
                break
            value = raw[start + off:start + off + length].rstrip(b"\x00 ")
            if b"\x00" in value:
                shown = value.decode(encoding, "replace")
                bad.append(f"row {r + 1}: {shown!r} (read as {shown.split(chr(0))[0]!r})")
        if bad:
            fname = name.decode(encoding, "replace")
            label = rename.get(fname, fname)
            problems.append(f"{where}: field '{label}' has a NUL byte inside the text of {len(bad)} row(s), which "
                            f"cuts the value short: {listing(bad)}; remove the NUL characters in the file")
    return problems


#: a JSON escape of NUL (``\u0000``) that is not itself an escaped backslash
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


def geojson_nul_problems(path: Path, where: str, rename: dict[str, str]) -> list[str]:
    """Text values of a GeoJSON file holding a NUL character (``\u0000``), which GDAL's reader cuts the
    text at (an id ``"E\u00002"`` would be read as ``"E"``): errors naming the field and the rows (1-based,
    in file order). ``rename`` maps file field names to canonical ones (for the message)."""
    import json

    try:
        raw = path.read_bytes()
    except OSError:
        return []
    if not _JSON_NUL.search(raw):
        return []
    try:
        features = json.loads(raw).get("features") or []
    except (ValueError, AttributeError):
        return []
    bad: dict[str, list[str]] = {}
    for r, f in enumerate(features, start=1):
        props = f.get("properties") if isinstance(f, dict) else None
        for k, v in (props.items() if isinstance(props, dict) else ()):
            if isinstance(v, str) and "\x00" in v:
                bad.setdefault(str(rename.get(k, k)), []).append(f"row {r}: {v!r} (read as {v.split(chr(0))[0]!r})")
    return [f"{where}: field '{k}' has a NUL character (\\u0000) inside the text of {len(items)} row(s), which cuts "
            f"the value short: {listing(items)}; remove the NUL characters in the file" for k, items in bad.items()]


_CODEPAGES = {"1256": "cp1256", "utf8": "utf-8", "utf-8": "utf-8", "65001": "utf-8", "1252": "cp1252",
              "ansi 1256": "cp1256", "windows-1256": "cp1256", "ldid/101": "cp1256"}


def cpg_encoding(dbf: Path, cpg: Path | None, declared: str | None) -> tuple[str | None, str | None]:
    """The encoding to read a DBF with when its declared encoding (``.cpg`` or the scenario's
    ``encoding:``) does not decode its text, or decodes UTF-8 text as mojibake.

    Returns
    -------
    tuple
        ``(encoding, reason)``: the encoding to use and a warning, or ``(None, None)`` when the
        declared one is right (or there is nothing to decide).
    """
    if declared is None and cpg is None:
        return None, None
    name = declared or cpg.read_text(encoding="ascii", errors="replace").strip() if cpg else declared
    name = (name or "").strip()
    codec = _CODEPAGES.get(name.lower(), name.lower())
    try:
        "".encode(codec)
    except LookupError:
        codec = ""
    raw = dbf.read_bytes()
    header_len = int.from_bytes(raw[8:10], "little") if len(raw) >= 32 else 0
    body = raw[header_len:]
    if body.isascii():
        return None, None
    try:
        body.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    source = f"encoding '{declared}'" if declared else f"{cpg.name if cpg else '.cpg'} ('{name}')"
    if codec:
        try:
            body.decode(codec)
            decodes = True
        except UnicodeDecodeError:
            decodes = False
    else:
        decodes = False
    if codec in ("utf-8", "utf8") and not decodes:
        return "cp1256", (f"the {source} says UTF-8 but the text is not UTF-8; read as Windows-1256 (cp1256) "
                          "instead. Fix or delete the .cpg")
    if codec not in ("utf-8", "utf8") and utf8:
        return "utf-8", (f"the {source} says {name} but the text is UTF-8 (read as {name} it would be mojibake "
                         "such as 'Ø§Ù…'); read as UTF-8 instead. Fix or delete the .cpg")
    if not decodes:
        return "cp1256", (f"the {source} names an encoding that does not decode the text; read as Windows-1256 "
                          "(cp1256) instead. Fix or delete the .cpg")
    return None, None


#: C1 control characters: bytes a code page leaves undefined come through as U+0080-U+009F
_C1 = re.compile("[\x80-\x9f]")
_ARABIC = re.compile("[\u0600-\u06ff]")


def _code_page_bytes(v: str, enc: str) -> bytes:
    """``v`` back to the bytes it was decoded from with code page ``enc`` (C1 characters as their byte);
    raises UnicodeEncodeError when ``enc`` cannot have produced it."""
    if _C1.search(v) is None:
        return v.encode(enc)
    return b"".join(c.encode(enc) if ord(c) > 0xFF or not 0x80 <= ord(c) <= 0x9F else bytes([ord(c)]) for c in v)


def is_mojibake(v: str) -> bool:
    """True when ``v`` is UTF-8 Persian decoded with a single-byte code page (cp1256 or cp1252): its
    bytes in that code page decode as UTF-8 into Arabic-script text."""
    if v.isascii():
        return False
    for enc in ("cp1256", "cp1252"):
        try:
            fixed = _code_page_bytes(v, enc).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed != v and _ARABIC.search(fixed) is not None:
            return True
    return False


def mojibake_rows(gdf: pd.DataFrame) -> dict[str, list[int]]:
    """Text columns with values that are UTF-8 Persian decoded with a single-byte code page
    (``Ø§Ù…``, ``ط§ظ…``): column name to row positions."""
    found: dict[str, list[int]] = {}
    seen: dict[str, bool] = {}  # each distinct text is checked once
    for col in gdf.columns:
        if col == "geometry" or col.startswith("_") or gdf[col].dtype.kind in "fiub":
            continue
        rows = []
        for i, v in enumerate(gdf[col].tolist()):  # a list iterates far faster than a Series
            if isinstance(v, str):
                bad = seen.get(v)
                if bad is None:
                    bad = seen[v] = is_mojibake(v)
                if bad:
                    rows.append(i)
        if rows:
            found[col] = rows
    return found


def checked_encoding(name: str, spec: Any, path: Path) -> tuple[Any, list[Notice]]:
    """The layer's spec with the encoding its DBF needs when the ``.cpg`` (or ``encoding:``) does
    not decode the text or would turn UTF-8 into mojibake, and the warning saying so."""
    if path.suffix.lower() != ".shp":
        return spec, []
    dbf = next((c for c in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if c.exists()), None)
    if dbf is None:
        return spec, []
    cpg = next((c for c in (path.with_suffix(".cpg"), path.with_suffix(".CPG")) if c.exists()), None)
    try:
        enc, why = cpg_encoding(dbf, cpg, spec.encoding)
    except OSError:
        return spec, []
    if enc is None:
        return spec, []
    return spec.model_copy(update={"encoding": enc}), [Notice("encoding-changed", f"{layer_where(name, spec)}: {why}")]
