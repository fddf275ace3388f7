"""Value chains and their missing links, per business cluster and per receiving estate (``chains.csv``
and the report's cluster page).

A chain's **links** are the catalogue's categories of that ``chain`` together with the ``links`` (linked
trades) of the categories present. For a cluster (:func:`siteplan.relocation.clusters.find_clusters`, where its
members are today) or a receiving estate (the categories the plan moves there), each link is

* ``present`` — a business of it is in the cluster or moved to the estate;
* ``in reach`` — the nearest business of it is within ``programme.chain_reach_km`` (straight line);
* ``missing`` — none within reach (the nearest is named with its distance, or none in the province).

Suppliers are where the plan leaves them: a moved business at its destination, the others at their
registry points. A cluster is headed to the estate most of its members are moved to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from ..common.units import M_PER_KM

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..guilds.catalogue import Catalogue
    from ..results import RunResult
    from .impact import Placement

__all__ = ["CHAIN_COLUMNS", "chain_links", "link_status", "chains_table"]

#: the columns of ``chains.csv``
CHAIN_COLUMNS = ("level", "id", "chain", "headed_to", "members", "link", "link_name", "status", "nearest_biz_id",
                 "nearest_km")


def chain_links(present: set[str], chain: str, catalogue: Catalogue) -> list[str]:
    """The links of ``chain`` for a group whose categories are ``present``: the chain's categories and
    the linked trades of those of them present, in catalogue order.

    Examples
    --------
    >>> from siteplan.guilds import load_catalogue
    >>> chain_links({"car_repair"}, "auto", load_catalogue())[:3]
    ['car_repair', 'car_body_paint', 'car_showroom']
    """
    t = catalogue.table
    return _links(present, chain, list(t["code"]), list(t["chain"].fillna("")), list(t["links"]))


def _links(present: set[str], chain: str, codes: list[str], chains: list[str], links: list[object]) -> list[str]:
    """:func:`chain_links` on the catalogue's columns as lists."""
    want = {c for c, ch in zip(codes, chains) if ch == chain}
    for code, lk in zip(codes, links):
        if code in present and code in want and isinstance(lk, list):
            want.update(lk)
    return [c for c in codes if c in want]


def link_status(where: object, present: set[str], links: list[str], suppliers: pd.DataFrame,
                geoms: np.ndarray, reach_km: float,
                by_category: dict[str, np.ndarray] | None = None) -> list[dict[str, object]]:
    """Each link's status for one group.

    Parameters
    ----------
    where
        The group's geometry (cluster hull, estate polygon).
    present
        Its categories.
    links
        Its chain's links (:func:`chain_links`).
    suppliers
        ``biz_id``, ``category`` of every business that could supply a link, aligned with ``geoms``.
    geoms
        Where each supplier is.
    reach_km
        The reach of ``in reach``.
    by_category
        The positions in ``suppliers`` of each category (computed when not given; a caller looking at
        many groups passes it once).

    Returns
    -------
    list of dict
        ``link``, ``status`` (``present``, ``in reach``, ``missing``), ``nearest_biz_id``, ``nearest_km``
        (empty for a present link and when no business of it exists).
    """
    out: list[dict[str, object]] = []
    ids = suppliers["biz_id"].to_numpy()
    if by_category is None:
        by_category = _positions(suppliers["category"].to_numpy())
    for link in links:
        if link in present:
            out.append({"link": link, "status": "present", "nearest_biz_id": "", "nearest_km": np.nan})
            continue
        pos = by_category.get(link)
        if pos is None or not len(pos):
            out.append({"link": link, "status": "missing", "nearest_biz_id": "", "nearest_km": np.nan})
            continue
        d = shapely.distance(geoms[pos], where) / M_PER_KM
        k = int(np.lexsort((ids[pos].astype(str), d))[0])
        km = float(d[k])
        out.append({"link": link, "status": "in reach" if km <= reach_km else "missing",
                    "nearest_biz_id": str(ids[pos][k]), "nearest_km": round(km, 2)})
    return out


def _positions(values: np.ndarray) -> dict[str, np.ndarray]:
    """The positions of each value, ascending."""
    codes, uniq = pd.factorize(pd.Series(values, dtype=object))
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes[codes >= 0], minlength=len(uniq))
    parts = np.split(order[np.count_nonzero(codes < 0):], np.cumsum(counts)[:-1])
    return dict(zip(uniq, parts))


def _nearest(wheres: np.ndarray, geoms: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``wheres`` the nearest of ``geoms`` in km, ties to the smallest id (as text): what
    :func:`link_status` finds one group at a time, for many groups at once.

    An STRtree gives each group's nearest distance; the exact distances are then computed (as
    :func:`link_status` does) only for the suppliers within it, so the answer is the same to the bit.

    Returns
    -------
    tuple of numpy.ndarray
        Per group the position in ``geoms`` of its nearest (-1: none found, e.g. an empty geometry) and
        the distance in km.
    """
    pick = np.full(len(wheres), -1, dtype=np.int64)
    km = np.full(len(wheres), np.nan)
    tree = shapely.STRtree(geoms)
    (qi, _), dmin = tree.query_nearest(wheres, return_distance=True, all_matches=False)
    if not len(qi):
        return pick, km
    # the exact distances of every supplier within each group's nearest (a margin for rounding)
    reach = np.full(len(wheres), -1.0)
    reach[qi] = dmin * (1 + 1e-9) + 1e-6
    ask = np.flatnonzero(reach >= 0)
    gi, si = tree.query(wheres[ask], predicate="dwithin", distance=reach[ask])
    gi = ask[gi]
    d = shapely.distance(geoms[si], wheres[gi]) / M_PER_KM
    order = np.lexsort((ids[si].astype(str), d, gi))
    gi, si, d = gi[order], si[order], d[order]
    first = np.r_[True, gi[1:] != gi[:-1]]
    pick[gi[first]] = si[first]
    km[gi[first]] = d[first]
    return pick, km


#: a group of :func:`chains_table`: level, id, chain, headed_to, members, where, present, links, and where its
#: suppliers are looked at (0 today, 1 after the move)
_Group = tuple[str, str, str, str, int, object, set[str], list[str], int]


def _suppliers(groups: list[_Group], p: Placement, reach: float,
               by_category: dict[str, np.ndarray]) -> dict[tuple[int, str], tuple[str, float]]:
    """The nearest supplier (``biz_id``, km) of every link a group lacks that some business is of: per
    category and per where the suppliers are, one :func:`_nearest` for all the groups lacking it."""
    t = p.table
    ids = t["biz_id"].to_numpy()
    asks: dict[tuple[int, str], list[int]] = {}
    for g, grp in enumerate(groups):
        for link in grp[7]:
            if link not in grp[6] and len(by_category.get(link, ())):
                asks.setdefault((grp[8], link), []).append(g)
    found: dict[tuple[int, str], tuple[str, float]] = {}
    for (kind, link), gs in asks.items():
        pos = by_category[link]
        where = (p.before, p.after)[kind]
        ids_here = ids[pos]
        pick, km = _nearest(np.array([groups[g][5] for g in gs], dtype=object), where[pos], ids_here)
        for g, k, d in zip(gs, pick.tolist(), km.tolist()):
            if k < 0:  # nothing found by the tree (an empty geometry): one group at a time
                s = link_status(groups[g][5], set(), [link], t, where, reach, by_category)[0]
                found[(g, link)] = (str(s["nearest_biz_id"]), float(s["nearest_km"]))  # type: ignore[arg-type]
            else:
                found[(g, link)] = (str(ids_here[k]), d)
    return found


def _estate_groups(t: pd.DataFrame, geom: dict[str, object], chain_of: dict[str, str],
                   links_of: Callable[[set[str], str], list[str]]) -> list[_Group]:
    """The receiving estates' groups of :func:`chains_table`: one per estate and chain of a category it
    receives, its suppliers looked at after the move.

    Parameters
    ----------
    t
        The placement's table (:attr:`siteplan.programme.impact.Placement.table`).
    geom
        Each estate's geometry by ``estate_id``.
    chain_of
        Each category's chain ("" for none).
    links_of
        The links of a chain given the categories present.

    Returns
    -------
    list
        The groups, by estate then chain.
    """
    eids = t["estate_id"].where(t["estate_id"].notna()).dropna()
    cats = t["category"].to_numpy()
    rows_of = eids.index.to_numpy()
    groups: list[_Group] = []
    for eid, pos in sorted(_positions(eids.astype(str).to_numpy()).items()):
        present = set(cats[rows_of[pos]])
        groups.extend(("estate", eid, chain, "", len(pos), geom[eid], present, links_of(present, chain), 1)
                      for chain in sorted({chain_of.get(c, "") for c in present} - {""}))
    return groups


def chains_table(res: RunResult, p: Placement) -> pd.DataFrame:
    """``chains.csv``: per cluster and per receiving estate, each chain link's status (module docstring).

    Parameters
    ----------
    res
        A finished run.
    p
        Its placement (:func:`siteplan.programme.impact.placements`).

    Returns
    -------
    pandas.DataFrame
        :data:`CHAIN_COLUMNS`, clusters first, then estates.

    Notes
    -----
    The groups' links are listed first; then, per category and per where the suppliers are (today for a
    cluster, after the move for an estate), one nearest search answers every group missing that link.
    """
    from ..relocation.clusters import find_clusters

    cat = res.prep.catalogue
    names = dict(zip(cat.table["code"], cat.table["name_en"]))
    chain_of = dict(zip(cat.table["code"], cat.table["chain"].fillna("")))
    columns = (list(cat.table["code"]), list(cat.table["chain"].fillna("")), list(cat.table["links"]))
    memo: dict[tuple[frozenset[str], str], list[str]] = {}

    def links_of(present: set[str], chain: str) -> list[str]:
        key = (frozenset(present), chain)
        if key not in memo:
            memo[key] = _links(present, chain, *columns)
        return memo[key]

    reach = res.prep.scenario.programme.chain_reach_km
    t = p.table
    by_category = _positions(t["category"].to_numpy())
    groups: list[_Group] = []  # clusters, then estates
    biz = res.prep.businesses
    ok = biz[biz["category"].notna()]
    sc = res.prep.scenario
    if len(res.clusters) and len(ok):
        cid, _ = find_clusters(ok, cat, eps_m=sc.clusters.eps_m, min_samples=sc.clusters.min_samples)
        member = cid.to_numpy()
        ok_cat = ok["category"].to_numpy()
        ok_ids = ok["biz_id"].to_numpy()
        go = t.set_index("biz_id")["estate_id"].reindex(ok_ids)
        # headed to: the estate most members go to, ties to the first in text order
        moved = pd.DataFrame({"c": member, "e": go.to_numpy()}).dropna(subset=["e"])
        moved["e"] = moved["e"].astype(str)
        n = moved.groupby(["c", "e"], sort=True).size().rename("n").reset_index()
        n = n[n["n"] == n.groupby("c")["n"].transform("max")].drop_duplicates("c")
        headed_of = dict(zip(n["c"], n["e"]))
        where_of = _positions(member)
        for c in res.clusters.itertuples():
            here = where_of.get(c.cluster_id, np.empty(0, dtype=np.int64))
            present = set(ok_cat[here])
            # suppliers where they are today (the cluster is looked at where it is)
            groups.append(("cluster", str(c.cluster_id), str(c.chain), str(headed_of.get(c.cluster_id, "")),
                           len(here), c.geometry, present, links_of(present, str(c.chain)), 0))
    est = res.prep.region.layers["estates"]
    groups += _estate_groups(t, dict(zip(est["estate_id"].astype(str), est.geometry.values)), chain_of, links_of)
    found = _suppliers(groups, p, reach, by_category)
    rows: list[dict[str, object]] = []
    for g, (level, gid, chain, headed, members, _, present, links, _) in enumerate(groups):
        for link in links:
            if link in present:
                s: dict[str, object] = {"status": "present", "nearest_biz_id": "", "nearest_km": np.nan}
            elif (g, link) not in found:
                s = {"status": "missing", "nearest_biz_id": "", "nearest_km": np.nan}
            else:
                nid, km = found[(g, link)]
                s = {"status": "in reach" if km <= reach else "missing", "nearest_biz_id": nid,
                     "nearest_km": round(km, 2)}
            rows.append({"level": level, "id": gid, "chain": chain, "headed_to": headed, "members": members,
                         "link": link, **s, "link_name": names.get(link, "")})
    return pd.DataFrame(rows, columns=list(CHAIN_COLUMNS))
