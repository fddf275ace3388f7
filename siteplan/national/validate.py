"""``siteplan validate`` of a national scenario: the national file, its data and its partitions.

* Partition layer (``national: {partitions, field}``): the national layers as for any scenario
  (:func:`siteplan.checks.validate_scenario`) and the partition layer
  (:func:`siteplan.national.partition.read_partitions`: readable, the field present, keys not empty nor
  repeated, polygons, a CRS), every problem listed together; warnings for businesses and estates outside
  every partition and partitions with no business or no estate.
* Provincial scenarios (``national: {scenarios}``): each listed file checked as ``validate`` would check
  it alone (its problems start with the file), the rules between them (unique names, single ownership,
  with open borders the settings of the provinces planned together), every problem listed together;
  warnings of each province (starting with its file) and provinces with no business or no estate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..common.notice import Notice
from ..errors import InputError, ScenarioError
from ..scenario import NationalSpec, Scenario, load_scenario, read_scenario_file

__all__ = ["NationalValidation", "validate_national"]


@dataclass
class NationalValidation:
    """A national scenario that passed every check.

    Attributes
    ----------
    path
        The national scenario file, as given.
    form
        ``partitions`` (a partition layer) or ``scenarios`` (a list of provincial scenarios).
    counts
        Businesses and estates per partition, in key order.
    crs
        The national working CRS.
    warnings
        What the checks found worth saying (one message each).
    joint
        With open borders, the partitions planned together (``A + B``), one entry per joint run.
    """

    path: Path
    form: str
    counts: dict[str, tuple[int, int]]
    crs: str
    warnings: list[Notice] = field(default_factory=list)
    joint: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: the file, ``valid``, the partitions and their totals."""
        b = sum(c[0] for c in self.counts.values())
        e = sum(c[1] for c in self.counts.values())
        what = "provincial scenarios" if self.form == "scenarios" else "partitions"
        joint = f"; open borders, planned together: {'; '.join(self.joint)}" if self.joint else ""
        return (f"{self.path}: valid (national: {len(self.counts)} {what}: {', '.join(self.counts)}; "
                f"businesses {b}, estates {e}; CRS {self.crs}{joint})")


def _empty_warnings(counts: dict[str, tuple[int, int]], what: str) -> list[Notice]:
    out = []
    for k, (b, e) in counts.items():
        if b == 0:
            out.append(Notice("no-business", f"national: {what} '{k}' has no business: nothing of it will be "
                              "relocated"))
        if e == 0:
            out.append(Notice("no-estate", f"national: {what} '{k}' has no estate: its businesses can go nowhere"
                              + (" in it" if what == "partition" else " of their own province")))
    return out


def _provisional(path: Path) -> Scenario | None:
    """The national section of a national file that does not parse as a whole, so that its partitions
    or provinces can be checked with its other problems."""
    try:
        data = read_scenario_file(path)
        nat = NationalSpec(**data["national"])
    except Exception:  # noqa: BLE001 - a file that does not parse in any way: its own errors are said
        return None
    crs = data.get("crs") if isinstance(data.get("crs"), str) else None
    return Scenario.model_construct(national=nat, base_dir=str(path.parent.resolve()), crs=crs, name=str(
        data.get("name", "scenario")))


def validate_national(path: str | Path) -> NationalValidation:
    """Check a national scenario file, its data and its partitions without running it.

    Parameters
    ----------
    path
        The national scenario YAML.

    Returns
    -------
    NationalValidation

    Raises
    ------
    InputError
        Listing every problem of the national file, its layers, its partitions or provinces.
    """
    path = Path(path)
    problems: list[str] = []
    scenario: Scenario | None
    try:
        scenario = load_scenario(path)
    except ScenarioError as err:
        problems += err.problems
        scenario = _provisional(path)
    if scenario is None:  # the national section itself is wrong: the file's problems, with its data's
        from ..checks import validate_scenario

        validate_scenario(path)
        raise InputError(problems)  # (validate_scenario raised already; for the type checker)
    assert scenario.national is not None
    if scenario.national.scenarios is not None:
        return _validate_list(path, scenario, problems)
    return _validate_layer(path, scenario, problems)


def _validate_layer(path: Path, scenario: Scenario, problems: list[str]) -> NationalValidation:
    from ..checks import validate_scenario
    from .partition import ownership, read_partitions

    region = None
    warns: list[Notice] = []
    try:  # the national file as any scenario: its own problems, its layers' (as far as they can be read)
        report = validate_scenario(path)
        region, warns = report.region, list(report.warnings)
    except InputError as err:
        problems += err.problems
    crs: Any = region.crs if region is not None else (scenario.crs or "EPSG:4326")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parts = read_partitions(scenario, crs)
    except InputError as err:
        problems += err.problems
        parts = None
    if problems:
        raise InputError(list(dict.fromkeys(problems)))
    assert region is not None and parts is not None
    own, own_warns = ownership(region, parts)
    n = len(parts)
    nb = np.bincount(own["businesses"], minlength=n)
    ne = np.bincount(own["estates"], minlength=n)
    counts = {k: (int(nb[i]), int(ne[i])) for i, k in enumerate(parts["partition"])}
    warns += own_warns + _empty_warnings(counts, "partition")
    joint: list[str] = []
    if scenario.national is not None and scenario.national.cross_border:
        from .partition import reach_groups

        group = reach_groups(own["businesses"], region.layers["businesses"].geometry.values, own["estates"],
                             region.layers["estates"].geometry.values, n, scenario.allocation.max_distance_km * 1000.0)
        joint = _joint_labels(group, list(parts["partition"]))
    return NationalValidation(path, "partitions", counts, region.crs.to_string(), warns, joint)


def _joint_labels(group: np.ndarray, keys: list[str]) -> list[str]:
    out = []
    for g in sorted(set(group.tolist())):
        members = np.flatnonzero(group == g)
        if len(members) > 1:
            out.append(" + ".join(keys[i] for i in members))
    return out


def _validate_list(path: Path, scenario: Scenario, problems: list[str]) -> NationalValidation:
    from .provinces import group_problems, load_provinces, national_crs, ownership_problems, province_groups

    nat = scenario.national
    assert nat is not None
    provinces, prov_problems, warns = load_provinces(scenario)
    problems += prov_problems
    from .provinces import joint_warnings

    crs = None
    joint: list[str] = []
    if not prov_problems and provinces:
        crs = national_crs(scenario, provinces)
        problems += ownership_problems(provinces, crs)
        if nat.cross_border:
            group = province_groups(provinces, crs, cross_border=True)
            seed_set = "seed" in scenario.model_fields_set
            for g in sorted(set(group.tolist())):
                members = [provinces[i] for i in np.flatnonzero(group == g)]
                if len(members) > 1:
                    problems += group_problems(members, seed_set=seed_set)
            joint = _joint_labels(group, [p.key for p in provinces])
            warns += joint_warnings(provinces, [np.flatnonzero(group == g) for g in sorted(set(group.tolist()))])
    if problems or crs is None:
        raise InputError(list(dict.fromkeys(problems)) or [f"{path}: national.scenarios: no province"])
    counts = {p.key: (len(p.region.layers["businesses"]), len(p.region.layers["estates"])) for p in provinces}
    warns += _empty_warnings(counts, "province")
    return NationalValidation(path, "scenarios", counts, crs.to_string(), warns, joint)
