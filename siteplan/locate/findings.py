"""The robustness findings: only what differs from "the ranking holds", as data and as sentences.

:func:`robustness_summary` reads the columns :func:`siteplan.locate.sensitivity.robustness` adds to the
estate ranks (``p_first``, ``oat_ranks``, ``swap_p``, ``swap_by``) and says which categories' top estate
is uncertain and which neighbouring estates swap ranks, for the report and the warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["P_CERTAIN", "P_SWAP", "SWAP_MAX_RANK", "RobustnessSummary", "robustness_summary"]

#: A top estate is certain when it ranks first in at least this share of the Monte Carlo draws (and
#: under every one-at-a-time weight change).
P_CERTAIN = 0.9
#: Two neighbouring estates swap ranks when the lower one wins in at least this share of the draws
#: (or under some one-at-a-time weight change).
P_SWAP = 0.1
#: Swaps are reported among the estates ranked up to this (the ones a planner reads); every estate's
#: ``swap_p`` and ``swap_by`` stay in the ranks table.
SWAP_MAX_RANK = 4


@dataclass(frozen=True)
class RobustnessSummary:
    """What the robustness analysis says beyond "the ranking holds": compact, as data and as lines.

    Parameters
    ----------
    draws
        Monte Carlo weight draws (0: not computed).
    ranked
        Categories with at least two ranked estates (the others have nothing to be uncertain about).
    certain
        Of those, the categories whose top estate is certain and whose estates never swap ranks.
    uncertain_top
        One record per category whose top estate is uncertain: ``category``, ``estate_id``,
        ``p_first``, ``challenger`` (the estate most often first otherwise) and its ``p_challenger``,
        ``oat_ranks`` of the top estate and ``by`` (the one-at-a-time changes under which the second
        overtakes it).
    swaps
        One record per pair of neighbouring estates below the top that swap ranks: ``category``,
        ``estates`` (higher, lower), ``ranks``, ``p`` (share of draws in which the lower wins) and ``by``.
    lines
        One short sentence per finding, the first one a count; what the report shows.
    """

    draws: int
    ranked: list[str]
    certain: list[str]
    uncertain_top: list[dict[str, Any]]
    swaps: list[dict[str, Any]]
    lines: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready data."""
        return {"draws": self.draws, "ranked": list(self.ranked), "certain": list(self.certain),
                "uncertain_top": [dict(u) for u in self.uncertain_top], "swaps": [dict(x) for x in self.swaps],
                "lines": list(self.lines)}


def _f(v: object) -> float:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
    return f


def _uncertain_top(code: str, g: pd.DataFrame, p_certain: float) -> dict[str, Any] | None:
    """The finding on a category's top estate when it is uncertain.

    Parameters
    ----------
    code
        The category.
    g
        The category's ranked estates (at least two), sorted by rank then estate.
    p_certain
        Share of draws the top estate must be first in.

    Returns
    -------
    dict or None
        ``category``, ``estate_id``, ``p_first``, ``challenger`` (the other estate most often first),
        ``p_challenger``, ``second``, ``oat_ranks`` and ``by``; None when the top estate holds.
    """
    top = g.iloc[0]
    others = g.iloc[1:]
    ch = others.loc[others["p_first"].astype(float).idxmax()]
    top_by = str(top["swap_by"] or "")
    oat_top = str(top["oat_ranks"] or "")
    if _f(top["p_first"]) < p_certain or top_by or (oat_top and oat_top != "1-1"):
        return {"category": code, "estate_id": str(top["estate_id"]), "p_first": _f(top["p_first"]),
                "challenger": str(ch["estate_id"]), "p_challenger": _f(ch["p_first"]),
                "second": str(others.iloc[0]["estate_id"]), "oat_ranks": oat_top, "by": top_by}
    return None


def _neighbour_swaps(code: str, g: pd.DataFrame, p_swap: float, max_rank: int) -> list[dict[str, Any]]:
    """The neighbouring estates of a category that swap ranks (below the top one).

    Parameters
    ----------
    code
        The category.
    g
        The category's ranked estates, sorted by rank then estate.
    p_swap
        Share of draws from which a swap is reported.
    max_rank
        Lowest rank looked at.

    Returns
    -------
    list of dict
        ``category``, ``estates`` (the pair), ``ranks``, ``p`` and ``by`` per swap.
    """
    nxt = {int(r): str(e) for r, e in zip(g["rank"], g["estate_id"])}
    swaps: list[dict[str, Any]] = []
    for r in g.iloc[1:].itertuples():
        lower = nxt.get(int(r.rank) + 1)
        if lower is None or int(r.rank) + 1 > max_rank:
            continue
        p = _f(r.swap_p)
        by = str(r.swap_by or "")
        if p >= p_swap or by:
            swaps.append({"category": code, "estates": [str(r.estate_id), lower],
                          "ranks": [int(r.rank), int(r.rank) + 1], "p": p, "by": by})
    return swaps


def _finding_lines(tops: list[dict[str, Any]], swaps: list[dict[str, Any]]) -> list[str]:
    """One sentence per uncertain top estate and per swap.

    Parameters
    ----------
    tops, swaps
        The findings of :func:`_uncertain_top` and :func:`_neighbour_swaps`.

    Returns
    -------
    list of str
        The sentences, tops first.
    """
    lines = []
    for t in tops:
        line = (f"{t['category']}: top estate {t['estate_id']} first in {t['p_first']:.0%} of draws, "
                f"{t['challenger']} in {t['p_challenger']:.0%}")
        if t["by"]:
            line += f"; {t['second']} overtakes it when {t['by']}"
        lines.append(line)
    for x in swaps:
        line = (f"{x['category']}: {x['estates'][0]} and {x['estates'][1]} (ranks {x['ranks'][0]} and "
                f"{x['ranks'][1]}) swap in {x['p']:.0%} of draws")
        if x["by"]:
            line += f" and when {x['by']}"
        lines.append(line)
    return lines


def robustness_summary(ranks: pd.DataFrame, draws: int, *, p_certain: float = P_CERTAIN,
                       p_swap: float = P_SWAP, max_rank: int = SWAP_MAX_RANK) -> RobustnessSummary:
    """Only what differs: categories whose top estate is uncertain, and neighbouring estates that
    swap ranks, from the columns :func:`siteplan.locate.sensitivity.robustness` adds.

    Parameters
    ----------
    ranks
        Ranks with ``p_first``, ``oat_ranks``, ``swap_p`` and ``swap_by``.
    draws
        The Monte Carlo draws behind them (``sensitivity.draws``).
    p_certain, p_swap
        Thresholds (:data:`P_CERTAIN`, :data:`P_SWAP`).
    max_rank
        Swaps are looked for among the estates ranked 2 to ``max_rank`` (:data:`SWAP_MAX_RANK`); the
        top one is judged by ``p_certain``.

    Returns
    -------
    RobustnessSummary
        The categories ranked, those certain, the uncertain tops and the swaps, with one line each; with
        ``draws`` 0 and the single line ``robustness not computed`` when ``draws`` is not positive or
        ``ranks`` lacks the robustness columns.
    """
    need = {"p_first", "swap_p", "swap_by", "oat_ranks"}
    if draws <= 0 or not need <= set(ranks.columns):
        return RobustnessSummary(0, [], [], [], [], ["robustness not computed (sensitivity.draws: 0)"])
    ok = ranks[ranks["rank"].notna() & ranks["p_first"].notna()].copy()
    ok["rank"] = ok["rank"].astype(int)
    ranked: list[str] = []
    certain: list[str] = []
    tops: list[dict[str, Any]] = []
    swaps: list[dict[str, Any]] = []
    for code, grp in ok.groupby("category", sort=True):
        if len(grp) < 2:
            continue
        ranked.append(str(code))
        g = grp.sort_values(["rank", "estate_id"])
        top = _uncertain_top(str(code), g, p_certain)
        if top is not None:
            tops.append(top)
        found = _neighbour_swaps(str(code), g, p_swap, max_rank)
        swaps.extend(found)
        if top is None and not found:
            certain.append(str(code))
    lines = [f"{len(certain)} of {len(ranked)} ranked categories hold: the top estate is first in at least "
             f"{p_certain:.0%} of {draws} weight draws and under every one-at-a-time change, and no estates ranked "
             f"up to {max_rank} swap" + (f" ({', '.join(certain)})" if certain else "")]
    lines += _finding_lines(tops, swaps)
    return RobustnessSummary(int(draws), ranked, certain, tops, swaps, lines)
