"""Business clusters (value chains): spatial groups of businesses of one chain, found with DBSCAN.

Linked trades (showrooms, repair, parts and body shops; carpentry and furniture sales; stone cutting
and building-material wholesale) share a ``chain`` in the catalogue. Businesses of one chain that
lie within ``eps_m`` of one another, with at least ``min_samples`` in a neighbourhood, form a
cluster; the planner may ask that a cluster moves together.
"""

from __future__ import annotations

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
    cid = pd.Series([None] * len(businesses), index=businesses.index, dtype=object)
    rows: list[dict[str, object]] = []
    xy_all = np.c_[businesses.geometry.x.to_numpy(), businesses.geometry.y.to_numpy()]
    for chain in sorted(c for c in chains.dropna().unique() if c):
        pos = np.flatnonzero((chains == chain).to_numpy())
        if len(pos) < min_samples:
            continue
        labels = DBSCAN(eps=eps_m, min_samples=min_samples, algorithm="ball_tree").fit_predict(xy_all[pos])
        order = sorted({lab for lab in labels if lab >= 0}, key=lambda lab: pos[labels == lab].min())
        for lab in order:
            members = pos[labels == lab]
            k = f"{chain}-{len([r for r in rows if r['chain'] == chain]) + 1:03d}"
            cid.iloc[members] = k
            cats = businesses["category"].iloc[members].value_counts().sort_index()
            hull = shapely.convex_hull(shapely.multipoints(xy_all[members])).buffer(50.0, quad_segs=4)
            rows.append({"cluster_id": k, "chain": chain, "members": int(len(members)),
                         "categories": ", ".join(f"{c}:{n}" for c, n in cats.items()), "geometry": hull})
    gdf = gpd.GeoDataFrame(rows, columns=["cluster_id", "chain", "members", "categories", "geometry"],
                           geometry="geometry", crs=businesses.crs)
    return cid, gdf
