"""The scenario's limits and the small checks its schema shares: layer names, memory budgets, seeds,
coordinate reference systems."""

from __future__ import annotations

from typing import Any

from ..errors import ScenarioError

__all__ = ["LAYER_NAMES", "MAX_BLOCKWISE_CELLS", "MAX_GRID_CELLS", "MAX_KM", "MAX_SEED", "MAX_SITE_HA",
           "MEMORY_BUDGET_BYTES", "REQUIRED_LAYERS", "WINDOW_BUDGET_BYTES", "check_seed", "draws_problem",
           "format_gib", "sensitivity_bytes"]

LAYER_NAMES = (
    "estates",
    "urban",
    "receptors",
    "roads",
    "rail",
    "utilities",
    "constraints",
    "businesses",
    "plots",
    "occupied",
    "vacant_land",
    "boundary",
    "dem",
)
REQUIRED_LAYERS = ("estates", "urban", "businesses")

#: Largest grid (cells) a whole run holds in memory; `siteplan suitability --blockwise` goes further.
MAX_GRID_CELLS = 1e8
#: Largest grid (cells) even the blockwise path accepts (a float32 GeoTIFF of 40 GB).
MAX_BLOCKWISE_CELLS = 1e10
#: Memory the Monte Carlo rank robustness may ask for (its draws × estates arrays).
MEMORY_BUDGET_BYTES = 2 * 1024**3
#: Memory one criterion's window may ask for: a catchment's convolution, a blockwise padded block.
WINDOW_BUDGET_BYTES = 16 * 1024**3
#: NumPy seeds are unsigned 32-bit integers.
MAX_SEED = 2**32 - 1
#: Largest distance setting (km): farther than across Iran, or any country a plan is made for.
MAX_KM = 5000.0
#: Largest new-site area (ha): 1,000 km², far beyond any industrial estate.
MAX_SITE_HA = 100_000.0


def sensitivity_bytes(draws: int, candidates: int, criteria: int) -> float:
    """Peak memory (bytes) of the Monte Carlo rank robustness of one category.

    :func:`siteplan.scoring.suitability.rank_acceptability` holds the draws × criteria weights and about
    eight draws × candidates float64/int64 arrays at once (scores, the TOPSIS closeness and its
    temporaries, the order and the ranks): measured, 8 × draws × (criteria + 7 × candidates) bytes.
    """
    return 8.0 * draws * (criteria + 8 * candidates)


def format_gib(b: float) -> str:
    """A byte count in GiB for a message (``"2.0 GiB"``)."""
    try:
        return f"{float(b) / 1024**3:,.1f} GiB"
    except OverflowError:  # from an absurd setting: the number itself says nothing more
        return "more than 10^290 GiB"


def draws_problem(draws: int, candidates: int, criteria: int, *, least: bool) -> str | None:
    """Why ``draws`` Monte Carlo draws do not fit the memory budget (None when they do); ``least``: the
    sizes are the smallest there can be, not the data's."""
    need = sensitivity_bytes(draws, candidates, criteria)
    if need <= MEMORY_BUDGET_BYTES:
        return None
    most = int(MEMORY_BUDGET_BYTES // sensitivity_bytes(1, candidates, criteria))
    size = (f"at least {candidates} estates × {criteria} criterion" if least
            else f"{candidates} estates × {criteria} criteria")
    return (f"{draws:,} Monte Carlo draws need about {format_gib(need)} of memory ({size}), above siteplan's "
            f"budget of {format_gib(MEMORY_BUDGET_BYTES)}; use at most {most:,} draws (a few hundred to a few "
            "thousand are plenty), or 0 to skip the robustness analysis")


def seed_ok(seed: object) -> bool:
    return not isinstance(seed, bool) and isinstance(seed, int) and 0 <= seed <= MAX_SEED


def seed_message(seed: object) -> str:
    return f"must be a whole number from 0 to {MAX_SEED} (random seeds are unsigned 32-bit), got {seed!r}"


def check_seed(seed: object, key: str = "--seed") -> None:
    """Raise :class:`ScenarioError` unless ``seed`` is a NumPy seed (0 to 2**32 - 1); ``key`` names it."""
    if not seed_ok(seed):
        raise ScenarioError(f"{key}: {seed_message(seed)}")


def crs_problem(value: str, *, projected: bool) -> str | None:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_user_input(value)
    except CRSError:
        return (f"'{value}' is not a coordinate reference system pyproj knows; give an EPSG code such as "
                "'EPSG:32639' (UTM zone 39N) or 'EPSG:4326'" + (", or leave 'crs' out to pick the local "
                                                                 "UTM zone" if projected else ""))
    if projected and not crs.is_projected:
        return (f"'{value}' is not a projected (metric) CRS; give a projected CRS such as a UTM zone "
                "('EPSG:32639'), or leave 'crs' out to pick the local UTM zone")
    return None


#: the URL schemes of a PostgreSQL connection (libpq's connection URIs): a layer whose ``path`` is one is


def shown_value(v: Any) -> str:
    """A user's value, short, for a message."""
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."
