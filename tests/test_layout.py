"""The package layout is the pipeline: stage packages in the order data flows, each with a face.

These tests read the code's own imports (every ``import`` statement, at module level, inside functions
and under ``TYPE_CHECKING``), so a new import that runs back up the pipeline fails here, not in a
review.
"""

from __future__ import annotations

import ast
import importlib
from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "siteplan"

#: the stage packages, in the order data flows; a stage may import only the stages before it
STAGES = ["inputs", "guilds", "rules", "scoring", "relocation", "zoning", "locate", "programme", "report",
          "outputs", "national", "cli"]
#: shared helpers at the top: they import no stage and none of pipeline, checks, results
HELPERS = ["_version", "common", "errors", "grid", "progress", "scenario"]
#: the top of the flow: only the command line, national runs and the package face import these
TOP = ["pipeline", "checks"]

#: imports that still run back up the pipeline (importer -> imported); each is a debt to pay, and this
#: list must shrink, never grow (the test below fails when it is stale either way)
KNOWN_BACK: set[tuple[str, str]] = set()  # all paid


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports() -> set[tuple[str, str]]:
    """(importer, imported) for every import of a siteplan module by another, relative to ``siteplan``."""
    modules = {_module(p) for p in ROOT.rglob("*.py")}
    found: set[tuple[str, str]] = set()
    for p in ROOT.rglob("*.py"):
        me = _module(p)
        package = me if p.name == "__init__.py" else me.rpartition(".")[0]
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".") if package else []
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join([*base, *([node.module] if node.module else [])])
                elif (node.module or "").startswith("siteplan"):
                    target = node.module.removeprefix("siteplan").lstrip(".")  # type: ignore[union-attr]
                else:
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}" if target else alias.name
                    found.add((me, sub if sub in modules else target))
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("siteplan."):
                        found.add((me, alias.name.removeprefix("siteplan.")))
    return {(a, b) for a, b in found if a != b}


def _stage(module: str) -> str:
    return module.split(".")[0]


def test_no_import_runs_back_up_the_pipeline() -> None:
    rank = {s: i for i, s in enumerate(STAGES)}
    back = set()
    for a, b in _imports():
        sa, sb = _stage(a), _stage(b)
        if sa in rank and sb in rank and rank[sb] > rank[sa]:
            back.add((a, b))  # an earlier stage imports a later one
        elif sa in rank and sb in TOP and sa not in ("national", "cli"):
            back.add((a, b))  # a stage imports the pipeline or the checks above it
        elif sa in HELPERS and (sb in rank or sb in TOP or sb == "results"):
            back.add((a, b))  # a shared helper imports a stage
    assert back - KNOWN_BACK == set(), f"new imports running back up the pipeline: {sorted(back - KNOWN_BACK)}"
    assert KNOWN_BACK - back == set(), f"paid debts: strike them from KNOWN_BACK: {sorted(KNOWN_BACK - back)}"


def test_top_level_is_small() -> None:
    """The top holds the scenario, the checks, the pipeline, the results, the shared helpers and two public faces."""
    top = sorted(p.stem for p in ROOT.glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert set(top) <= {*HELPERS, *TOP, "results", "guild_relocation", "facility"}, top
    packages = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file())
    # the scenario is a package of its own (schema sections, programme, loading) but a shared helper
    assert packages == sorted([*STAGES, "common", "scenario"]), packages
    assert len(top) <= 12, top


@pytest.mark.parametrize("stage", [s for s in STAGES if s not in ("report", "national", "cli", "relocation")])
def test_stage_face_lists_its_public_names(stage: str) -> None:
    """Each stage's face lists its public names, says what flows in and out, and imports each name on use."""
    face = importlib.import_module(f"siteplan.{stage}")
    doc = " ".join((face.__doc__ or "").split())
    assert "Flows in" in doc and "Flows out" in doc, stage
    assert sorted(face.__all__) == sorted(face._API), stage
    submodules = {p.stem for p in (ROOT / stage).glob("*.py")}
    assert not set(face.__all__) & submodules, "a public name that a submodule import would shadow"
    for name in face.__all__:
        owner = importlib.import_module(f"siteplan.{stage}.{face._API[name]}")
        assert getattr(face, name) is getattr(owner, name), (stage, name)


def test_public_import_paths_kept() -> None:
    """The paths the README and the design card name still import."""
    import siteplan
    from siteplan.facility import capacitated_facility_location, p_median
    from siteplan.guild_relocation import Plan, allocate, estate_capacity
    from siteplan.locate import POP_REACH_KM, propose_sites, rank_estates
    from siteplan.locate.facility import p_median as real_p_median
    from siteplan.progress import listen
    from siteplan.relocation import allocate as real_allocate
    from siteplan.zoning import zone_estates, zone_plan

    assert p_median is real_p_median and callable(capacitated_facility_location)
    assert allocate is real_allocate and Plan is siteplan.Plan and callable(estate_capacity)
    assert rank_estates is siteplan.rank_estates and propose_sites is siteplan.propose_sites and POP_REACH_KM > 0
    assert zone_plan is siteplan.zone_plan and zone_estates is siteplan.zone_estates and callable(listen)
    for name in siteplan.__all__:  # every public name of the package resolves
        assert getattr(siteplan, name) is not None
    assert callable(siteplan.classify) and callable(siteplan.explain)  # functions, not the stage packages


def test_package_data_found() -> None:
    assert resources.files("siteplan.outputs").joinpath("compare.js").is_file()
    assert resources.files("siteplan.report").joinpath("app.js").is_file()
    for f in ("catalogue.csv", "trip_rates.csv", "unit_costs.csv"):
        assert resources.files("siteplan").joinpath("data", f).is_file()


def test_every_noqa_says_why() -> None:
    """A ``# noqa`` names its rules and says why (after `` - `` or in parentheses)."""
    import re

    bare = [f"{p.relative_to(ROOT.parent)}:{i}" for p in ROOT.rglob("*.py")
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if (m := re.search(r"# noqa\b(.*)$", line)) and not re.match(r":\s*[A-Z]+\d+(,\s*[A-Z]+\d+)*\s*(-|\().+", m.group(1))]
    assert bare == [], bare


def test_every_import_of_a_siteplan_name_resolves() -> None:
    """Every ``from siteplan... import name`` in the package, at module level or inside a function, names
    a module or an attribute that exists. The stage faces' lazy ``__getattr__`` hides a stale name from
    mypy, and an import inside a function fails only when that code runs (a moved module once did)."""
    missing = []
    for p in sorted(ROOT.rglob("*.py")):
        if "qgis_plugin" in p.parts:
            continue  # runs inside QGIS, imports its own modules
        me = _module(p)
        package = me if p.name == "__init__.py" else me.rpartition(".")[0]
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(["siteplan", *base, *([node.module] if node.module else [])])
            elif (node.module or "").startswith("siteplan"):
                target = node.module or ""
            else:
                continue
            mod = importlib.import_module(target)
            for alias in node.names:
                if alias.name == "*" or hasattr(mod, alias.name):
                    continue
                try:
                    importlib.import_module(f"{target}.{alias.name}")
                except ModuleNotFoundError:
                    missing.append(f"{p.relative_to(ROOT.parent)}:{node.lineno}: {target}.{alias.name}")
    assert missing == [], missing


def _circles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """The import circles of a graph: each set of modules that import one another, directly or not.

    Parameters
    ----------
    edges
        ``(importer, imported)`` pairs.

    Returns
    -------
    list of list of str
        One sorted list of modules per circle, sorted (empty when the graph has no cycle).
    """
    after: dict[str, set[str]] = {}
    for a, b in edges:
        after.setdefault(a, set()).add(b)
    reach: dict[str, set[str]] = {}
    for start in after:
        seen: set[str] = set()
        todo = list(after[start])
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo.extend(after.get(m, ()))
        reach[start] = seen
    circles = {frozenset({a} | {b for b in reach[a] if a in reach.get(b, ())}) for a in reach if a in reach[a]}
    return sorted(sorted(c) for c in circles)


@pytest.mark.parametrize("package", sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()))
def test_no_import_circle_inside_a_package(package: str) -> None:
    """Inside a package the imports go one way (in the report: page assembly -> sections -> helpers such
    as ``report.words``), imports inside functions included."""
    inside = {(a, b) for a, b in _imports() if a.startswith(f"{package}.") and b.startswith(f"{package}.")}
    assert _circles(inside) == []
