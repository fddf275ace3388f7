"""A run's classification as plain arrays (no pickle) for ``stages/classify.npz``, and back."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["encode_classified", "decode_classified"]


def _encode_text(values: list[object]) -> dict[str, np.ndarray]:
    null = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in values], dtype=bool)
    blobs = [b"" if n else str(v).encode("utf-8") for v, n in zip(values, null)]
    off = np.zeros(len(blobs) + 1, dtype=np.int64)
    off[1:] = np.cumsum([len(b) for b in blobs]) if blobs else []
    return {"data": np.frombuffer(b"".join(blobs), dtype=np.uint8), "off": off, "null": null}


def _decode_text(data: np.ndarray, off: np.ndarray, null: np.ndarray) -> list[str | None]:
    raw = data.tobytes()
    return [None if null[i] else raw[off[i]:off[i + 1]].decode("utf-8") for i in range(len(null))]


def encode_classified(loaded: pd.DataFrame, classified: pd.DataFrame
                      ) -> tuple[dict[str, np.ndarray], list[dict[str, str]]] | None:
    """The columns classification added to ``loaded`` as plain arrays and their descriptions, or None
    when they cannot be stored so that :func:`decode_classified` gives back the very same frame."""
    cols = list(loaded.columns)
    if list(classified.columns[:len(cols)]) != cols or not classified.index.equals(loaded.index):
        return None
    arrays: dict[str, np.ndarray] = {}
    meta: list[dict[str, str]] = []
    for i, c in enumerate(classified.columns[len(cols):]):
        s = classified[c]
        dt = s.dtype
        if isinstance(dt, np.dtype) and dt.kind in "biuf":
            arrays[f"c{i}"] = s.to_numpy()
            meta.append({"name": str(c), "kind": "num", "dtype": dt.str})
        elif str(dt) in ("str", "object"):
            vals = s.tolist()
            if not all(v is None or isinstance(v, str) or (isinstance(v, float) and np.isnan(v)) for v in vals):
                return None
            for part, a in _encode_text(vals).items():
                arrays[f"c{i}_{part}"] = a
            meta.append({"name": str(c), "kind": "text", "dtype": "str" if str(dt) == "str" else "object"})
        else:
            return None
    try:
        back = decode_classified(loaded, arrays, meta)
        pd.testing.assert_frame_equal(pd.DataFrame(back.drop(columns=cols)),
                                      pd.DataFrame(classified.drop(columns=cols)), check_exact=True)
        if not pd.DataFrame(classified[cols]).equals(pd.DataFrame(loaded)):
            return None
    except (AssertionError, ValueError, TypeError, KeyError):
        return None
    return arrays, meta


def decode_classified(loaded: pd.DataFrame, arrays: dict[str, np.ndarray], meta: list[dict[str, str]]) -> pd.DataFrame:
    """``loaded`` with the columns :func:`encode_classified` stored."""
    out = loaded.copy()
    n = len(loaded)
    for i, m in enumerate(meta):
        if m["kind"] == "num":
            a = np.asarray(arrays[f"c{i}"])
            if a.shape != (n,) or a.dtype.str != m["dtype"]:
                raise ValueError(f"column {m['name']}: stored {a.dtype.str} {a.shape}")
            out[m["name"]] = a
        else:
            vals = _decode_text(arrays[f"c{i}_data"], arrays[f"c{i}_off"], arrays[f"c{i}_null"])
            if len(vals) != n:
                raise ValueError(f"column {m['name']}: {len(vals)} values for {n} businesses")
            out[m["name"]] = (pd.Series(vals, index=loaded.index, dtype="str") if m["dtype"] == "str"
                              else pd.Series(np.array(vals, dtype=object), index=loaded.index, dtype=object))
    return out
