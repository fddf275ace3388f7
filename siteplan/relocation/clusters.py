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

__all__ = ["find_clusters"]


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
    DBSCAN with a ball tree: O(n log n) per chain. Ids are assigned in a deterministic order
    (chain, then the cluster's lowest business index).
    """
    from sklearn.cluster import DBSCAN  # here, not at import: scikit-learn costs about 2 s of CPU to import

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
        labels = DBSCAN(eps=eps_m, min_samples=min_samples, algorithm="ball_tree").fit_predict(xy_all[pos])
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
            rows.append({"cluster_id": k, "chain": chain, "members": int(len(members)),
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
