"""Checks of a scenario against its data, made before any heavy work by both `siteplan validate` and
a run (the same code, :func:`load_checked`): category scope, weights per category, Monte Carlo memory,
distance-field and catchment windows, grid size. Every problem is collected and raised once as a
:class:`~siteplan.errors.ScenarioError` naming the key, the number and the fix."""

from __future__ import annotations

import difflib
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common.notice import Notice, messages
from .errors import InputError, ScenarioError, SiteplanWarning
from .guilds.catalogue import Catalogue, scenario_catalogue
from .inputs.region import ImplausibleDataError, Region, load_region
from .scenario import (
    MAX_BLOCKWISE_CELLS,
    MAX_GRID_CELLS,
    Scenario,
    draws_problem,
    load_scenario,
    read_scenario_file,
    salvage_layers,
)
from .scoring.windows import named_criteria, window_problems

__all__ = ["ValidationReport", "check_scenario_data", "load_checked", "mixed_area_problems", "refuse_provincial_list",
           "scenario_warnings", "validate_scenario"]


def refuse_provincial_list(scenario: Scenario) -> None:
    """Raise :class:`ScenarioError` for a national file that lists provincial scenarios: it has no layers
    of its own, so only ``siteplan run`` and ``siteplan validate`` take it (:mod:`siteplan.national`)."""
    if scenario.provincial_list:
        raise ScenarioError("national.scenarios: a national file that lists provincial scenarios has no layers of "
                            "its own; `siteplan run` and `siteplan validate` take it, the other commands take one "
                            "of its provincial scenario files")


def load_checked(scenario: Scenario, *, whole_grid: bool = True) -> tuple[Region, Catalogue]:
    """Load a scenario's region and catalogue and check them (:func:`check_scenario_data`): the first
    step of every run and of ``siteplan validate``, so that both refuse the same scenarios.

    Parameters
    ----------
    scenario
        A parsed scenario.
    whole_grid
        False for the blockwise suitability path (see :func:`check_scenario_data`).

    Returns
    -------
    tuple
        ``(region, catalogue)``; the region's warnings are in ``region.warnings`` (they are not
        issued as Python warnings here).

    Raises
    ------
    InputError
        A layer or the catalogue cannot be read.
    ScenarioError
        Every problem :func:`check_scenario_data` finds.
    """
    refuse_provincial_list(scenario)
    region, read, catalogue, failed = _read_inputs(scenario)
    label_problems = _label_problems(scenario, catalogue, failed)
    # what was read before any problem (excluded rows, repairs) and the settings' own warnings go with
    # the errors: one `validate` shows them all
    warns = list(dict.fromkeys([*scenario_warnings(scenario), *(region.warnings if region is not None else []),
                                *(w for e in failed for w in e.warnings)]))
    if region is not None and catalogue is not None:
        region.warnings[:] = warns
        _check_read(scenario, (region, catalogue), whole_grid=whole_grid, label_problems=label_problems, warns=warns)
        return region, catalogue
    if read is not None and catalogue is not None:
        # the data's problems and the scenario's problems against that data, in one list
        try:
            check_scenario_data(scenario, read, catalogue, whole_grid=whole_grid)
        except ScenarioError as err:
            raise _carrying(InputError(list(dict.fromkeys(failed[0].problems + err.problems))), warns) from None
        raise _carrying(failed[0], warns)
    # the layers or the catalogue cannot be read: list their problems with those of the scenario's own
    # settings (category codes, accepted kinds), so that one `validate` shows them all
    problems = [p for err in failed for p in err.problems]
    problems += _setting_problems(scenario, catalogue)
    kind = ScenarioError if all(isinstance(e, ScenarioError) for e in failed) else InputError
    raise _carrying(kind(list(dict.fromkeys(problems))), warns)


def _read_inputs(scenario: Scenario) -> tuple[Region | None, Region | None, Catalogue | None, list[InputError]]:
    """The region (None when it cannot be read), the region read with implausible values (None unless
    that is the problem), the catalogue (None when it cannot be read) and the errors met."""
    failed: list[InputError] = []
    region = catalogue = None
    read: Region | None = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SiteplanWarning)
        try:
            region = load_region(scenario)
        except ImplausibleDataError as err:
            failed.append(err)
            read = err.region  # every layer read; some values cannot be true
        except InputError as err:
            failed.append(err)
    try:
        catalogue = scenario_catalogue(scenario)
    except InputError as err:
        failed.append(err)
    return region, read, catalogue, failed


def _label_problems(scenario: Scenario, catalogue: Catalogue | None, failed: list[InputError]) -> list[str]:
    """The problems of the scenario's labels file (``classification.labels``), its error added to ``failed``."""
    if catalogue is None or not scenario.classification.labels:
        return []
    from .guilds.labels import read_labels

    try:
        read_labels(scenario.resolve(scenario.classification.labels), catalogue)
    except InputError as err:
        failed.append(err)
        return list(err.problems)
    return []


def _check_read(scenario: Scenario, data: tuple[Region, Catalogue], *, whole_grid: bool, label_problems: list[str],
                warns: list[Notice]) -> None:
    """Check a scenario against its region and catalogue, both read: every problem raised at once, the
    labels file's with the rest."""
    try:
        check_scenario_data(scenario, data[0], data[1], whole_grid=whole_grid)
    except ScenarioError as err:
        if not label_problems:
            raise _carrying(err, warns) from None
        raise _carrying(InputError(list(dict.fromkeys(err.problems + label_problems))), warns) from None
    if label_problems:
        raise _carrying(InputError(label_problems), warns)


def _carrying(err: InputError, warns: list[Notice]) -> InputError:
    """``err`` with the warnings of what was read (printed before the error by the CLI)."""
    err.warnings = list(dict.fromkeys([*err.warnings, *warns]))
    return err


def scenario_warnings(scenario: Scenario) -> list[Notice]:
    """Warnings about the scenario's own settings that need no data (a deprecated setting), said by
    ``validate`` and every run alike."""
    out = []
    if scenario.zoning.shape == "compact":
        out.append(Notice("deprecated-setting", "zoning.shape: 'compact' is deprecated (discs that ignore the "
                          "estate's streets); use 'blocks' (the default) or 'bands'"))
    al = scenario.allocation
    if al.reach_min is not None and "max_distance_km" in al.model_fields_set:
        out.append(Notice("reach-both-given", f"allocation: reach_min ({al.reach_min:g} minutes) and max_distance_km "
                          f"({al.max_distance_km:g} km) both given: the reach of relocation is reach_min, not "
                          "max_distance_km (which then bounds only the straight-line search for new sites and a "
                          "national run's cross-border links); remove max_distance_km, or give the reach in km "
                          "(reach_km) instead of reach_min"))
    return out


def mixed_area_problems(scenario: Scenario, region: Any) -> list[str]:
    """``rules.mixed_areas`` entries that name no town of the urban layer (names compared after Persian
    normalisation: ي/ی, ك/ک, ZWNJ, digits; the closest names suggested)."""
    from .common.textnorm import normalize

    urban = region.layers.get("urban")
    if not scenario.rules.mixed_areas or urban is None:
        return []
    shown: dict[str, str] = {}
    for col in ("name", "name_en"):
        if col in urban.columns:
            for v in urban[col]:
                if isinstance(v, str) and normalize(v):
                    shown.setdefault(normalize(v), v)
    known = set(urban["name_norm"].dropna()) if "name_norm" in urban.columns else set()
    problems = []
    for i, town in enumerate(scenario.rules.mixed_areas):
        if normalize(town) in known:
            continue
        close = difflib.get_close_matches(normalize(town), list(shown), n=3, cutoff=0.6)
        named = ", ".join("'" + shown[c] + "'" for c in close)
        hint = f"; did you mean {named}?" if close else ""
        en = " (name_en values are not matched: write the name as in its 'name' field)" \
            if normalize(town) in shown and normalize(town) not in known else ""
        problems.append(f"rules.mixed_areas[{i}]: '{town}' is not the name of any feature of the urban layer{en}"
                        f"{hint}; the rule would treat no area as mixed")
    return problems


def _setting_problems(scenario: Scenario, catalogue: Catalogue | None) -> list[str]:
    """Problems of the scenario's own settings that need no layer: category codes (against the shipped
    catalogue when the scenario's cannot be read) and ``allocation.accepted_kinds``."""
    from .common.vocab import category_problems, setting_problems, unknown_category_problems
    from .guilds.catalogue import load_catalogue

    if catalogue is None:
        try:
            catalogue = load_catalogue(scenario.resolve(scenario.catalogue.path) if scenario.catalogue.path else None)
        except InputError:
            return setting_problems(scenario)
    codes = list(catalogue.codes)
    top = unknown_category_problems(scenario.categories, codes) if scenario.categories != "all" else []
    return top + category_problems(scenario, codes) + setting_problems(scenario)


@dataclass(frozen=True)
class ValidationReport:
    """A scenario that passed every check, with what was loaded (``siteplan validate``).

    Attributes
    ----------
    path
        The scenario file, as given.
    region
        Its loaded region.
    catalogue
        Its catalogue, overrides and additions applied.
    """

    path: Path
    region: Region
    catalogue: Catalogue

    @property
    def warnings(self) -> list[Notice]:
        """What loading the layers repaired, dropped or assumed (one message each)."""
        return list(self.region.warnings)

    def summary(self) -> str:
        """One line: the file, ``valid``, features per layer and the working CRS."""
        counts = ", ".join(f"{k} {len(v)}" for k, v in self.region.layers.items())
        return f"{self.path}: valid ({counts}; CRS {self.region.crs.name})"


def validate_scenario(path: str | Path) -> ValidationReport:
    """Check a scenario file and its data without running it: what ``siteplan validate`` does.

    The scenario is parsed, its layers and catalogue loaded and the checks a run makes before its
    heavy work applied (:func:`load_checked`).

    Parameters
    ----------
    path
        The scenario YAML.

    Returns
    -------
    ValidationReport

    Raises
    ------
    InputError
        The file, a layer or the catalogue cannot be read; every problem is listed.
    ScenarioError
        The scenario is invalid, or invalid for its data; every problem is listed.
    """
    try:
        scenario = load_scenario(path)
    except ScenarioError as err:
        raise _with_data_problems(Path(path), err) from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the readers' own warnings; siteplan's are in region.warnings
        region, catalogue = load_checked(scenario)
    return ValidationReport(Path(path), region, catalogue)


def _with_data_problems(path: Path, err: ScenarioError) -> InputError:
    """The scenario's own problems, and those of its data as far as the valid part of the scenario can
    read it (:func:`siteplan.scenario.salvage_layers`): files, fields, values and plausibility, so that
    one ``validate`` lists them all."""
    try:
        raw = read_scenario_file(path)
        salvaged = salvage_layers(raw, base_dir=path.parent.resolve())
    except ScenarioError:
        return err
    if salvaged is None:
        return err
    err = _with_raw_categories(err, raw, salvaged)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            region = load_region(salvaged)
        except InputError as data_err:
            return _carrying(InputError(list(dict.fromkeys(err.problems + data_err.problems))),
                             [*scenario_warnings(salvaged), *data_err.warnings])
        except Exception:  # noqa: BLE001 - the salvaged part of a broken scenario may fail in any way; its own errors are said
            return err
    problems = err.problems + mixed_area_problems(salvaged, region) if salvaged.rules.mixed_areas else err.problems
    return _carrying(InputError(list(dict.fromkeys(problems))) if problems != err.problems else err,
                     [*scenario_warnings(salvaged), *region.warnings])


def _with_raw_categories(err: ScenarioError, raw: dict[str, Any], salvaged: Scenario) -> ScenarioError:
    """``err`` with the unknown codes of the file's ``categories:`` list added (the scenario's other problems
    kept it from being checked), when the catalogue they are checked against is known: the built-in one, or
    the scenario's own if its ``catalogue:`` is valid."""
    from .common.vocab import unknown_category_problems
    from .guilds.catalogue import load_catalogue

    cats = raw.get("categories")
    if not isinstance(cats, list) or ("catalogue" in raw and "catalogue" not in salvaged.model_fields_set):
        return err
    try:
        path = salvaged.catalogue.path
        codes = list(load_catalogue(salvaged.resolve(path) if path else None).codes)
    except InputError:
        return err
    more = unknown_category_problems([c if isinstance(c, str) else None for c in cats], codes)
    return ScenarioError(list(dict.fromkeys(err.problems + more))) if more else err


def _count(x: float) -> str:
    return f"{x:,.0f}" if x < 1e12 else f"{x:.3g}" if math.isfinite(x) else "more than 1e308"


def check_scenario_data(scenario: Scenario, region: Any, catalogue: Any, *, whole_grid: bool = True) -> None:
    """The checks of a scenario that need its layers and catalogue; ``validate`` and every run call it
    before the heavy work, so that both refuse the same scenarios.

    Parameters
    ----------
    scenario
        A parsed scenario.
    region
        Its loaded :class:`siteplan.inputs.region.Region` (layers, study area).
    catalogue
        Its :class:`siteplan.guilds.catalogue.Catalogue` with the scenario's overrides.
    whole_grid
        False for the blockwise suitability path, which accepts grids above :data:`MAX_GRID_CELLS`.

    Raises
    ------
    ScenarioError
        Listing every problem: categories not in the catalogue, a grid too large, criterion weights
        that cannot be derived, a catchment radius or blockwise halo whose window exceeds
        :data:`WINDOW_BUDGET_BYTES`, Monte Carlo draws above :data:`MEMORY_BUDGET_BYTES`.
    """
    from .common.vocab import unknown_category_problems

    problems = unknown_category_problems(scenario.categories, catalogue.codes) if scenario.categories != "all" else []
    problems += _value_problems(scenario, region, catalogue)
    problems += mixed_area_problems(scenario, region)
    from .rules.reservations import reservation_problems

    problems += reservation_problems(scenario, region.layers["estates"], catalogue)
    from .programme.phasing import phase_problems

    problems += phase_problems(scenario, region.layers["estates"])
    res = scenario.grid.resolution_m
    minx, miny, maxx, maxy = region.study_area.bounds
    ext_w, ext_h = max(maxx - minx, res), max(maxy - miny, res)
    w, h = math.ceil(ext_w / res), math.ceil(ext_h / res)  # as Grid.covering, give or take a cell
    cells = float(w) * float(h)
    limit = MAX_GRID_CELLS if whole_grid else MAX_BLOCKWISE_CELLS
    if cells > limit:
        coarser = math.ceil(math.sqrt(ext_w * ext_h / limit) * 1.02)
        problems.append(
            f"grid.resolution_m: {res:g} m gives a grid of about {_count(w)} × {_count(h)} = {_count(cells)} cells "
            f"over the study area ({ext_w / 1000:,.0f} × {ext_h / 1000:,.0f} km), more than siteplan's limit of "
            f"{limit:,.0f}"
            + ("" if not whole_grid else " for a whole run in memory")
            + f"; use a coarser resolution (at least {coarser:,.0f} m)"
            + ("" if not whole_grid else ", or `siteplan suitability --blockwise` for one category's surface"))
    problems += _weight_problems(scenario, region, catalogue)
    problems += _road_problems(scenario, region)
    if cells <= limit:
        problems += window_problems(scenario, region, catalogue, (w, h), whole_grid=whole_grid)
    draws = scenario.sensitivity.draws
    if draws > 0:
        n_est = len(region.layers["estates"])
        if scenario.criteria is not None:
            n_crit = len(scenario.criteria)
        else:
            from .guilds.profiles import default_criteria

            n_crit = len(default_criteria(catalogue, region.layers))
        why = draws_problem(draws, max(n_est, 2), max(n_crit, 1), least=False)
        if why:
            problems.append(f"sensitivity.draws: {why}")
    if problems:
        raise ScenarioError(problems)


def _road_problems(scenario: Scenario, region: Any) -> list[str]:
    """A reach in minutes or ``distance: road`` without roads is a problem; on a road network, its
    disconnected parts and the businesses, towns and estates far from any road are warnings (added to
    ``region.warnings``: ``validate`` prints them, a run carries them)."""
    from .relocation.roads import network_notes, road_network

    spec = scenario.allocation
    roads = region.layers.get("roads")
    has = roads is not None and len(roads) > 0
    if not has:
        out = []
        if spec.reach_min is not None:
            out.append("allocation.reach_min: a reach in minutes needs road distances, and the scenario has no roads "
                       "layer; add layers.roads or give the reach in km (allocation.reach_km)")
        if spec.distance == "road":
            out.append("allocation.distance: road needs a roads layer (layers.roads); add one or set distance: straight")
        return out
    net = road_network(scenario, region)
    if net is None:
        return []
    lay = region.layers
    places = {name: lay[key].geometry.values for name, key in
              (("businesses", "businesses"), ("towns", "urban"), ("estates", "estates")) if lay.get(key) is not None}
    notes = network_notes(net, places)
    said = set(messages(region.warnings))
    for n in notes:  # each once, as the run's other warnings
        if n not in said:
            said.add(n)
            region.warnings.append(Notice("roads", n))
    return []


def _value_problems(scenario: Scenario, region: Any, catalogue: Any) -> list[str]:
    """Layer values outside their vocabularies, filters matching nothing, unknown category codes
    (:mod:`siteplan.common.vocab`)."""
    from .common.vocab import scenario_value_problems
    from .inputs.region import ID_FIELDS, NUMERIC_FIELDS, OPTIONAL_FIELDS, REQUIRED_FIELDS

    text_fields = {name: [f for f in (*REQUIRED_FIELDS[name], *OPTIONAL_FIELDS[name], "source")
                          if f not in NUMERIC_FIELDS and f != ID_FIELDS.get(name)] for name in REQUIRED_FIELDS}
    criteria = ([(f"criteria[{i}] ('{c.name}')", c) for i, c in enumerate(scenario.criteria)]
                if scenario.criteria is not None else [])
    return scenario_value_problems(scenario, region.layers, catalogue.codes, criteria, text_fields)


def _weight_problems(scenario: Scenario, region: Any, catalogue: Any) -> list[str]:
    """Each category's criterion weights, as the suitability stage derives them (cheap: no grid)."""
    from .errors import InputError
    from .scoring.suitability import category_weights

    usable = [s for _, s in named_criteria(scenario, region, catalogue)]
    if not usable:
        return [("criteria: no criterion can be evaluated with the scenario's layers; add the layers they read "
                "or list criteria on the layers you have")]
    codes = catalogue.codes if scenario.categories == "all" else [c for c in scenario.categories if c in catalogue]
    problems: list[str] = []
    owa_bad: dict[int, list[str]] = {}
    ow = scenario.aggregation.order_weights or []
    for code in codes:
        try:
            w = category_weights(usable, scenario, code)
        except InputError as exc:
            problems += exc.problems
            continue
        if scenario.aggregation.method == "owa" and (len(ow) != len(w) or any(v < 0 for v in ow) or sum(ow) <= 0):
            owa_bad.setdefault(len(w), []).append(code)
    for n, bad in owa_bad.items():
        problems.append(f"aggregation.order_weights: give {n} non-negative order weights, one per criterion of "
                        f"categor{'y' if len(bad) == 1 else 'ies'} {', '.join(bad)} (got {list(ow)})")
    return list(dict.fromkeys(problems))
