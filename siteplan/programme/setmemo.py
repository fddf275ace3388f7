"""The residents near each set of businesses, taken from the run's memo where the set is unchanged.

:meth:`siteplan.programme.exposure.Residents.exposed_sets` gives each set the same float whichever other
sets it is computed with, so each set's figure can be stored and reused on its own. Its key is the
SHA-256 of exactly what the figure is computed from: the urban areas (geometries, population, kind),
and the set's businesses in order (each one's geometry and its distances from quiet and mixed areas);
the package's source and library versions are checked once for the whole memo (a run made by another
siteplan has its memo ignored: :func:`siteplan.outputs.stagecache.source_key`), so the stored keys, and the
file's bytes, do not change with the code.
A what-if that moves a few businesses recomputes the sets they belong to; the others (every set of
registry points before the move, for instance) are read from the memo (:mod:`siteplan.common.memo`).
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol, cast

import numpy as np
import pandas as pd
import shapely

from ..common.memo import active


class Residents(Protocol):
    """What a set's figure reads of the residents (:class:`siteplan.programme.exposure.Residents` is one)."""

    @property
    def geoms(self) -> Any:
        """The urban areas' geometries."""

    @property
    def population(self) -> Any:
        """Their population."""

    @property
    def mixed(self) -> Any:
        """Whether each is a mixed (industrial-residential) area."""

    def exposed_sets(self, geoms: np.ndarray, quiet_m: np.ndarray, mixed_m: np.ndarray,
                     sets: list[np.ndarray]) -> np.ndarray:
        """Residents within each set's nuisance distance (see the class above)."""
        ...


__all__ = ["exposed_sets", "KIND"]

#: the memo's kind of these figures
KIND = "exposed"


def _residents_digest(r: Residents) -> bytes:
    """What every set's figure reads of the urban areas."""
    h = hashlib.sha256(f"{KIND}\n{len(r.geoms)}\n".encode())
    for wkb in shapely.to_wkb(np.asarray(r.geoms, dtype=object)) if len(r.geoms) else []:
        b = wkb if wkb is not None else b""
        h.update(len(b).to_bytes(8, "little") + b)
    h.update(np.ascontiguousarray(r.population, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(r.mixed, dtype=bool).tobytes())
    return h.digest()


def _member_digests(geoms: np.ndarray, quiet_m: np.ndarray, mixed_m: np.ndarray) -> np.ndarray:
    """Per business: the SHA-256 of its geometry (WKB) and its two distances, as an (n, 32) array.

    The pool repeats geometry objects (a business that stays is the same point before and after, a
    zone or a site is every mover's destination): each distinct (object, distances) is serialized and
    hashed once, and its digest shared.
    """
    q = np.ascontiguousarray(quiet_m, dtype=np.float64)
    m = np.ascontiguousarray(mixed_m, dtype=np.float64)
    if not len(geoms):
        return np.empty((0, 32), dtype=np.uint8)
    obj = pd.factorize(np.fromiter(map(id, geoms), dtype=np.int64, count=len(geoms)))[0]
    qc, qs = pd.factorize(q.view(np.int64))  # by their bits: the digest hashes the bytes
    mc, ms = pd.factorize(m.view(np.int64))
    key = pd.factorize((obj * len(qs) + qc) * len(ms) + mc)[0]
    first = np.unique(key, return_index=True)[1]
    qb, mb = q.tobytes(), m.tobytes()
    sha = hashlib.sha256
    digests = np.frombuffer(b"".join(sha((b or b"") + qb[8 * i:8 * i + 8] + mb[8 * i:8 * i + 8]).digest()
                                     for i, b in zip(first.tolist(), shapely.to_wkb(geoms[first]))),
                            dtype=np.uint8).reshape(len(first), 32)
    return cast("np.ndarray", digests[key])


def exposed_sets(residents: Residents, geoms: np.ndarray, quiet_m: np.ndarray, mixed_m: np.ndarray,
                 sets: list[np.ndarray]) -> np.ndarray:
    """:meth:`siteplan.programme.exposure.Residents.exposed_sets`, each set's figure taken from the run's memo
    when its key is there (and recorded there when computed); without a memo, computed as it is.

    Parameters
    ----------
    residents
        The urban areas as residents.
    geoms, quiet_m, mixed_m, sets
        As :meth:`~siteplan.programme.exposure.Residents.exposed_sets` takes them.

    Returns
    -------
    numpy.ndarray
        Residents per set.
    """
    memo = active()
    geoms = np.asarray(geoms, dtype=object)
    if memo is None or not len(sets):
        return residents.exposed_sets(geoms, quiet_m, mixed_m, sets)
    base = _residents_digest(residents)
    member = _member_digests(geoms, np.asarray(quiet_m, float), np.asarray(mixed_m, float))
    keys = []
    for s in sets:
        idx = np.asarray(s, dtype=np.int64)
        keys.append(hashlib.sha256(base + len(idx).to_bytes(8, "little") + member[idx].tobytes()).digest())
    out = np.zeros(len(sets))
    todo = []
    for k, key in enumerate(keys):
        got = memo.get(KIND, key)
        if got is not None and got.shape == (1,):
            out[k] = got[0]
        else:
            todo.append(k)
    if todo:
        computed = residents.exposed_sets(geoms, quiet_m, mixed_m, [sets[k] for k in todo])
        for k, v in zip(todo, computed):
            out[k] = v
            memo.put(KIND, keys[k], np.array([v]))
    return out
