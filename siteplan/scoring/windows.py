"""Memory windows of the scoring stage, checked before any heavy work (:func:`siteplan.checks.check_scenario_data`):
a separation pads its target's distance field, a distance criterion's field is padded by its saturation
distance, a catchment's convolution by its radius, and on the blockwise path every block by its halo;
a window that would need more memory than siteplan's budget is a problem naming the key and the fix."""

from __future__ import annotations

import math
from typing import Any

from ..errors import InputError
from ..scenario import WINDOW_BUDGET_BYTES, CriterionSpec, Scenario, format_gib

__all__ = ["named_criteria", "window_problems"]


def named_criteria(scenario: Scenario, region: Any, catalogue: Any) -> list[tuple[str, CriterionSpec]]:
    """The criteria a run evaluates (those whose layer the scenario has), each with its name in messages.

    Parameters
    ----------
    scenario
        The scenario: its ``criteria``, else the catalogue's default criteria.
    region
        The loaded region (:class:`siteplan.inputs.region.Region`); criteria on layers it lacks are left out.
    catalogue
        The scenario's catalogue (for the default criteria).

    Returns
    -------
    list of tuple
        ``(name, spec)`` per criterion, in order: the name as messages give it
        (``criteria[0] ('roads')`` or ``default criterion 'roads'``).
    """
    from ..guilds.profiles import default_criteria

    if scenario.criteria is not None:
        named = [(f"criteria[{i}] ('{c.name}')", c) for i, c in enumerate(scenario.criteria)]
    else:
        named = [(f"default criterion '{c.name}'", c) for c in default_criteria(catalogue, region.layers)]
    return [(n, c) for n, c in named
            if c.layer in region.layers or (c.kind == "raster" and "dem" in scenario.layers)]


#: Bytes per cell of the padded FFT convolution of a catchment criterion (measured: 40 to 76).
_FFT_BYTES = 80
#: Bytes per cell of a padded distance field (mask, EDT, float32 field: measured 7; some margin).
_WINDOW_BYTES = 12


def window_problems(scenario: Scenario, region: Any, catalogue: Any, size: tuple[int, int], *,
                    whole_grid: bool) -> list[str]:
    """Criteria whose reach makes one step's arrays far larger than the grid: a catchment radius (its
    convolution kernel) and, on the blockwise path, every halo (the window around a block).

    Parameters
    ----------
    scenario
        The scenario (its grid, criteria and catalogue overrides).
    region
        Its loaded region (the layers the criteria read).
    catalogue
        Its catalogue (the separations).
    size
        The grid's width and height in cells (about those of :meth:`siteplan.grid.Grid.covering`).
    whole_grid
        False for the blockwise path (each block padded by its halo).

    Returns
    -------
    list of str
        One problem per separation or criterion whose window exceeds the memory budget.
    """
    w, h = size
    problems = _separation_window_problems(scenario, catalogue, w, h, whole_grid=whole_grid)
    for name, c in named_criteria(scenario, region, catalogue):
        why = _criterion_window_problem(name, c, scenario, (w, h), whole_grid=whole_grid)
        if why:
            problems.append(why)
    return problems


def _separation_window_problems(scenario: Scenario, catalogue: Any, w: int, h: int, *, whole_grid: bool) -> list[str]:
    """Separation rules: each pads its target's distance field by the separation (:mod:`siteplan.rules`)."""
    res = scenario.grid.resolution_m
    budget = WINDOW_BUDGET_BYTES
    problems = []
    codes = catalogue.codes if scenario.categories == "all" else [c for c in scenario.categories if c in catalogue]
    table = catalogue.table.set_index("code")
    for code in codes:
        for col in ("sep_m", "sep_mixed_m"):
            sep = float(table.at[code, col])
            pad = math.ceil((sep + 3 * res) / res) + 1
            side = scenario.grid.block_size + 2 * pad
            need = _WINDOW_BYTES * ((h + 2 * pad) * (w + 2 * pad) if whole_grid else side**2)
            allowed = max(budget, 4 * _WINDOW_BYTES * h * w) if whole_grid else budget
            if need > allowed:
                key = (f"catalogue.overrides.{code}.{col}" if col in scenario.catalogue.overrides.get(code, {})
                       else f"catalogue category '{code}': {col}")
                problems.append(
                    f"{key}: a separation of {sep:,.0f} m pads the distance field by {pad:,} cells of {res:g} m; it "
                    f"would need about {format_gib(need)} of memory, above the {format_gib(allowed)} allowed; use a separation "
                    "that fits the study area (VNG's largest is 1,500 m), or a coarser grid.resolution_m")
                break
    return problems


def _criterion_window_problem(name: str, c: CriterionSpec, scenario: Scenario, size: tuple[int, int], *,
                              whole_grid: bool) -> str | None:
    """Why one criterion's window does not fit the memory budget (None when it does): on the whole grid
    a distance field padded by its saturation distance or a catchment's convolution, on the blockwise
    path its block padded by its halo."""
    if not whole_grid:
        return _halo_window_problem(name, c, scenario)
    if c.kind == "distance":
        return _distance_window_problem(name, c, scenario, size)
    if c.kind == "catchment" and c.radius_m:
        return _catchment_window_problem(name, c, scenario, size)
    return None


def _distance_window_problem(name: str, c: CriterionSpec, scenario: Scenario, size: tuple[int, int]) -> str | None:
    """The distance field is computed on the grid padded by the saturation distance."""
    from .criteria import saturation_distance

    w, h = size
    res = scenario.grid.resolution_m
    try:
        reach = saturation_distance(c.transform)
    except InputError:
        return None
    pad = math.ceil(reach / res) + 1
    need = _WINDOW_BYTES * (h + 2 * pad) * (w + 2 * pad)
    allowed = max(WINDOW_BUDGET_BYTES, 4 * _WINDOW_BYTES * h * w)
    if need <= allowed:
        return None
    return (f"{name}: the transform points reach {reach:,.0f} m (its saturation distance), {pad:,} cells of "
            f"{res:g} m around the grid; the padded distance field would need about {format_gib(need)} of "
            f"memory, above the {format_gib(allowed)} allowed; use points that level off sooner, or a coarser "
            "grid.resolution_m")


def _catchment_window_problem(name: str, c: CriterionSpec, scenario: Scenario, size: tuple[int, int]) -> str | None:
    """A catchment's convolution over the grid padded by its radius."""
    w, h = size
    res = scenario.grid.resolution_m
    radius = float(c.radius_m or 0)
    k = min(math.ceil(radius / res), max(w, h))  # as catchment_field
    need = _FFT_BYTES * (h + 2 * k) * (w + 2 * k)
    allowed = max(WINDOW_BUDGET_BYTES, 2 * _FFT_BYTES * h * w)  # at least twice the kernel-free convolution
    if need <= allowed:
        return None
    # largest k with _FFT_BYTES (h + 2k)(w + 2k) <= allowed
    kmax = max((-(h + w) + math.sqrt((h - w) ** 2 + 4 * allowed / _FFT_BYTES)) / 4, 0)
    return (f"{name}: radius_m {c.radius_m:g} m spans {k:,} cells of {res:g} m; the catchment's convolution "
            f"over the {w:,} × {h:,} grid would need about {format_gib(need)} of memory, above the "
            f"{format_gib(allowed)} allowed; use a radius of at most {int(kmax) * res:,.0f} m, or a coarser "
            "grid.resolution_m")


def _halo_window_problem(name: str, c: CriterionSpec, scenario: Scenario) -> str | None:
    """Blockwise: every criterion on its block padded by its halo (see :mod:`siteplan.scoring.blockwise`)."""
    from .criteria import saturation_distance

    res = scenario.grid.resolution_m
    budget = WINDOW_BUDGET_BYTES
    try:
        reach = (saturation_distance(c.transform) if c.kind == "distance"
                 else float(c.radius_m or 0) if c.kind == "catchment" else 0.0)
    except InputError:
        return None
    halo = math.ceil(reach / res) + 1
    side = scenario.grid.block_size + 2 * halo
    need = (_FFT_BYTES * (side + 2 * min(halo, side)) ** 2 if c.kind == "catchment"
            else _WINDOW_BYTES * side**2)
    if need <= budget:
        return None
    what = "radius_m" if c.kind == "catchment" else "transform points (its saturation distance)"
    return (f"{name}: the {what} reach {reach:,.0f} m = {halo:,} cells of {res:g} m around every block; "
            f"the padded block would need about {format_gib(need)} of memory, above siteplan's budget of "
            f"{format_gib(budget)}; use a shorter reach, or a coarser grid.resolution_m")
