"""OR-Library p-median instances (Beasley 1985): the published table and a reader."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import shortest_path

DATA = Path(__file__).parent / "data" / "orlib"

# name: (n, edges, p, optimum) — OR-Library pmedinfo / pmedopt
PMED: dict[str, tuple[int, int, int, int]] = {}
_SIZES = [(100, 200, [5, 10, 10, 20, 33]), (200, 800, [5, 10, 20, 40, 67]), (300, 1800, [5, 10, 30, 60, 100]),
          (400, 3200, [5, 10, 40, 80, 133]), (500, 5000, [5, 10, 50, 100, 167]), (600, 7200, [5, 10, 60, 120, 200]),
          (700, 9800, [5, 10, 70, 140]), (800, 12800, [5, 10, 80]), (900, 16200, [5, 10, 90])]
_OPT = [5819, 4093, 4250, 3034, 1355, 7824, 5631, 4445, 2734, 1255, 7696, 6634, 4374, 2968, 1729, 8162, 6999, 4809,
        2845, 1789, 9138, 8579, 4619, 2961, 1828, 9917, 8307, 4498, 3033, 1989, 10086, 9297, 4700, 3013, 10400, 9934,
        5057, 11060, 9423, 5128]
_k = 0
for _n, _e, _ps in _SIZES:
    for _p in _ps:
        PMED[f"pmed{_k + 1}"] = (_n, _e, _p, _OPT[_k])
        _k += 1


def graph_costs(n: int, edges: np.ndarray) -> np.ndarray:
    """All-pairs shortest paths of the graph (edges: rows ``i j cost``, vertices 1..n); the last cost
    given for an edge wins (Beasley's note)."""
    c = np.full((n, n), np.inf)
    i, j, k = edges[:, 0] - 1, edges[:, 1] - 1, edges[:, 2].astype(float)
    key = np.minimum(i, j) * n + np.maximum(i, j)  # (i, j) and (j, i) are one edge
    _, first_from_end = np.unique(key[::-1], return_index=True)
    last = len(key) - 1 - first_from_end  # each edge's last line
    i, j, k = i[last], j[last], k[last]
    c[i, j] = k
    c[j, i] = k
    np.fill_diagonal(c, 0.0)
    return shortest_path(c, method="FW", directed=False)


def read(path: Path) -> tuple[np.ndarray, int, int]:
    """(distance matrix, p, edges) of an OR-Library ``pmedN.txt`` (or ``.txt.gz``)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        nums = np.array(f.read().split(), dtype=np.int64)
    n, e, p = (int(v) for v in nums[:3])
    edges = nums[3:].reshape(-1, 3)
    if len(edges) != e:
        raise ValueError(f"{path}: the header says {e} edges, the file has {len(edges)}")
    return graph_costs(n, edges), p, e


def find(name: str) -> Path | None:
    """The stored file of an instance, if any."""
    for suffix in (".txt.gz", ".txt"):
        path = DATA / f"{name}{suffix}"
        if path.exists():
            return path
    return None


def like(name: str, seed: int = 0) -> tuple[np.ndarray, int]:
    """An instance of the same shape as ``name`` (n, edges, p), generated like Beasley's: a cycle
    through all vertices (so the graph is connected), random further edges, costs uniform in 1..100."""
    n, e, p, _ = PMED[name]
    rng = np.random.default_rng([seed, int(name.removeprefix("pmed"))])
    ring = np.column_stack([np.arange(1, n + 1), np.r_[np.arange(2, n + 1), 1]])
    extra = rng.integers(1, n + 1, size=(3 * e, 2))
    extra = extra[extra[:, 0] != extra[:, 1]][:e - n]
    ij = np.vstack([ring, extra])
    return graph_costs(n, np.column_stack([ij, rng.integers(1, 101, len(ij))])), p
