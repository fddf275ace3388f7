"""Business clusters (value chains): spatial groups of businesses of one chain, found with DBSCAN.

Linked trades (showrooms, repair, parts and body shops; carpentry and furniture sales; stone cutting
and building-material wholesale) share a ``chain`` in the catalogue. Businesses of one chain that
lie within ``eps_m`` of one another, with at least ``min_samples`` in a neighbourhood, form a
cluster; the planner may ask that a cluster moves together.
"""

from __future__ import annotations

from collections import Counter

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..guilds.catalogue import Catalogue

__all__ = ["dbscan_labels", "find_clusters"]


def _neighbour_pairs(xy: np.ndarray, eps: float) -> np.ndarray:
    """The pairs ``(i, j)``, ``i < j``, whose squared distance is at most ``eps ** 2``.

    Candidates come from a k-d tree with a slightly larger radius; each is then decided by scikit-learn's
    ball-tree leaf test for the Euclidean metric: the squared differences summed coordinate by coordinate
    from 0.0, compared with ``eps * eps`` (so a pair exactly ``eps`` apart is neighbours).
    """
    from scipy.spatial import cKDTree

    scale = float(np.abs(xy).max(initial=0.0))
    pairs = cKDTree(xy).query_pairs(r=eps * (1.0 + 1e-6) + 1e-9 * scale, output_type="ndarray")
    d2 = np.zeros(len(pairs), dtype=np.float64)
    for k in range(xy.shape[1]):
        diff = xy[pairs[:, 0], k] - xy[pairs[:, 1], k]
        d2 += diff * diff
    return np.asarray(pairs[d2 <= eps * eps], dtype=np.intp).reshape(-1, 2)


def dbscan_labels(xy: np.ndarray, *, eps: float, min_samples: int) -> np.ndarray:
    """scikit-learn's ``DBSCAN(eps, min_samples).fit_predict(xy)`` (Euclidean), label for label.

    Parameters
    ----------
    xy
        Points, one row each (float64).
    eps
        Neighbourhood radius (> 0); points exactly ``eps`` apart are neighbours.
    min_samples
        A point with at least this many neighbours, itself included, is a core point.

    Returns
    -------
    numpy.ndarray
        One label per point (``intp``): ``-1`` for noise, else the cluster's number.

    Notes
    -----
    The same partition and numbering as scikit-learn's depth-first expansion (``dbscan_inner``): clusters
    are the connected groups of core points, numbered by their lowest core index; a border point (not
    core, next to a core point) joins the lowest-numbered cluster it touches, the first whose expansion
    reaches it. Neighbours as :func:`_neighbour_pairs` decides them; O(n log n + pairs).
    """
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    xy = np.ascontiguousarray(xy, dtype=np.float64)
    n = len(xy)
    pairs = _neighbour_pairs(xy, eps)
    core = np.bincount(pairs.ravel(), minlength=n) + 1 >= min_samples
    labels = np.full(n, -1, dtype=np.intp)
    both = core[pairs[:, 0]] & core[pairs[:, 1]]
    ci = np.flatnonzero(core)
    pos = np.full(n, -1, dtype=np.intp)
    pos[ci] = np.arange(len(ci))
    graph = coo_array((np.ones(int(both.sum()), dtype=np.int8), (pos[pairs[both, 0]], pos[pairs[both, 1]])),
                      shape=(len(ci), len(ci)))
    _, comp = connected_components(graph, directed=False)
    _, first = np.unique(comp, return_index=True)  # each group's lowest core, in core order
    number = np.empty(len(first), dtype=np.intp)
    number[np.argsort(first, kind="stable")] = np.arange(len(first))
    labels[ci] = number[comp]
    # border points: the lowest cluster number among their core neighbours
    one = core[pairs[:, 0]] ^ core[pairs[:, 1]]
    border = np.where(core[pairs[one, 0]], pairs[one, 1], pairs[one, 0])
    cluster = labels[np.where(core[pairs[one, 0]], pairs[one, 0], pairs[one, 1])]
    best = np.full(n, np.iinfo(np.intp).max, dtype=np.intp)
    np.minimum.at(best, border, cluster)
    labels[~core & (best < np.iinfo(np.intp).max)] = best[~core & (best < np.iinfo(np.intp).max)]
    return labels


def find_clusters(businesses: gpd.GeoDataFrame, catalogue: Catalogue, *, eps_m: float = 400.0,
                  min_samples: int = 8) -> tuple[pd.Series, gpd.GeoDataFrame]:
    """Detect clusters per value chain.

    Parameters
    ----------
    businesses
        Classified business points (metric CRS) with ``category``.
    catalogue
        For each category's ``chain``.
    eps_m, min_samples
        DBSCAN neighbourhood radius (metres) and core size.

    Returns
    -------
    cluster_id, clusters
        A Series aligned with ``businesses`` (cluster id or None) and a GeoDataFrame of cluster
        hulls with ``cluster_id``, ``chain``, ``members``, ``categories`` (``code:count`` list).

    Notes
    -----
    DBSCAN (:func:`dbscan_labels`, scikit-learn's labels without importing it): O(n log n) per chain.
    Ids are assigned in a deterministic order
    (chain, then the cluster's lowest business index).
    """
    chain_of = dict(zip(catalogue.table["code"], catalogue.table["chain"].fillna("")))
    chains = businesses["category"].map(chain_of)
    ids = np.full(len(businesses), None, dtype=object)
    rows: list[dict[str, object]] = []
    xy_all = np.c_[businesses.geometry.x.to_numpy(), businesses.geometry.y.to_numpy()]
    cats_all = businesses["category"].to_numpy(dtype=object)
    groups: list[np.ndarray] = []
    for chain in sorted(c for c in chains.dropna().unique() if c):
        pos = np.flatnonzero((chains == chain).to_numpy())
        if len(pos) < min_samples:
            continue
        labels = dbscan_labels(xy_all[pos], eps=eps_m, min_samples=min_samples)
        # each label's members in business order, the labels by their lowest member
        by = np.argsort(labels, kind="stable")
        found, first = np.unique(labels[by], return_index=True)
        parts = np.split(pos[by], first[1:])
        keep = [m for lab, m in zip(found, parts) if lab >= 0]
        for n, members in enumerate(sorted(keep, key=lambda m: int(m[0])), start=1):
            k = f"{chain}-{n:03d}"
            ids[members] = k
            cats = Counter(cats_all[members].tolist())
            groups.append(members)
            rows.append({"cluster_id": k, "chain": chain, "members": len(members),
                         "categories": ", ".join(f"{c}:{cats[c]}" for c in sorted(cats)), "geometry": None})
    if groups:
        hulls = shapely.convex_hull(shapely.multipoints(xy_all[np.concatenate(groups)],
                                                        indices=np.repeat(np.arange(len(groups)),
                                                                          [len(g) for g in groups])))
        for r, h in zip(rows, shapely.buffer(hulls, 50.0, quad_segs=4)):
            r["geometry"] = h
    cid = pd.Series(ids, index=businesses.index, dtype=object)
    gdf = gpd.GeoDataFrame(rows, columns=["cluster_id", "chain", "members", "categories", "geometry"],
                           geometry="geometry", crs=businesses.crs)
    return cid, gdf
