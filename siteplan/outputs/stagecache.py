"""Reusing the stage results of a finished run: ``siteplan run B.yaml --reuse RUN_A``.

A what-if ("what if E14 gets wastewater?") changes a few inputs; most stage results do not depend
on them. Every run records, in its manifest's ``stages``, a **key** for each expensive stage result:
the SHA-256 of exactly the inputs that result is computed from, plus the package's source and the
versions of the libraries (:func:`source_key`), and saves the results that are not already among its
outputs in ``stages/`` (a few hundred kB on the demo). A run given ``--reuse RUN_A`` computes its own
keys and takes a result from RUN_A only where the keys are equal:

========================  =================================================================================
result                    key: what it is computed from
========================  =================================================================================
classification            the businesses layer as loaded (every column and geometry), the catalogue's
                          table and keyword changes, ``classification`` and the labels file's content
criterion raster (each)   the criterion's spec, the grid, and only what the criterion reads: the
                          filtered features' geometries (and the ``field`` it reads), or the slope
suitability (each         its criterion weights and those criteria's keys, the aggregation, its siting
category)                 rules, each rule target's geometries and reach, the study area, the slope
========================  =================================================================================

So a one-estate attribute change reuses all of them (estates enter the suitability only by their
geometry, through the ``estate_synergy`` criterion); moving an estate recomputes that criterion and the
categories that weigh it; a changed criteria layer recomputes what reads it. Everything after
suitability (allocation, zoning, locate, programme, writing) depends on the estates and is computed.

Finer figures go through the run's memo (:mod:`siteplan.common.memo`, saved in ``stages/memo.npz`` after
every other output): each under the SHA-256 of exactly what it is computed from (the residents near a
set of businesses, :mod:`siteplan.programme.setmemo`; a suitability image of the report,
:mod:`siteplan.report.overlaymemo`), so the programme and the report compute only what the change touches.

Where the results come from: the criterion rasters from RUN_A's ``explain/rasters.npz`` (already an
output), the rule masks and the classification from RUN_A's ``stages/`` files. Each file is checked
against RUN_A's ``outputs_sha256`` and read without pickle (``numpy.load(allow_pickle=False)``, JSON);
a file that is missing, changed, damaged or of another format is not reused (a warning says why) and
the stage is computed — a run with ``--reuse`` writes the same bytes as one without. RUN_A is only
read. The manifest's ``reused`` says what was taken from where.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..common.memo import Memo
from .stagecodec import encode_classified
from .stagekeys import FORMAT as FORMAT
from .stagekeys import STAGES_DIR as STAGES_DIR
from .stagekeys import RuleTargets, StageKey, classify_key, criterion_key, surface_key
from .stagekeys import source_key as source_key
from .stagesource import RunStages as RunStages

if TYPE_CHECKING:
    import geopandas as gpd

    from ..grid import FieldCache, Grid
    from ..guilds.catalogue import Catalogue
    from ..rules.ruleset import RuleSet
    from ..scenario import Scenario
    from ..scoring.suitability import CriterionLayer, Surface

log = logging.getLogger(__name__)

__all__ = ["STAGES_DIR", "FORMAT", "StageReuse", "RunStages", "source_key"]


@dataclass
class _CachedMask:
    """Stands for a category's :class:`siteplan.rules.ruleset.RuleSet` in
    :func:`siteplan.scoring.suitability.surfaces`: its mask as a run computed it."""

    allowed: np.ndarray
    counts: dict[str, int]

    def mask(self, fields: Any = None) -> tuple[np.ndarray, dict[str, int]]:  # noqa: ARG002 - RuleSet.mask's signature
        return self.allowed, dict(self.counts)


@dataclass
class StageReuse:
    """A run's stage keys, the results it may save for later runs, and what it took from ``source``.

    Attributes
    ----------
    source
        The run whose results this run may reuse (``--reuse``), or None.
    keys
        This run's keys (the manifest's ``stages``).
    classified
        The classification as plain arrays and its description (for ``stages/``), or None.
    masks
        Each category's rule mask (bit-packed) and cells excluded per rule (for ``stages/``).
    memo
        Figures keyed by what they are computed from (:mod:`siteplan.common.memo`): those ``source`` stored,
        and those this run uses (for ``stages/memo.npz``).
    reused
        What was reused (the manifest's ``reused``).
    """

    source: RunStages | None = None
    keys: dict[str, Any] = field(default_factory=lambda: {"format": FORMAT, "source": source_key(), "classify": None,
                                                          "criteria": {}, "surfaces": {}})
    classified: tuple[dict[str, np.ndarray], list[dict[str, str]], list[str], int] | None = None
    masks: dict[str, tuple[np.ndarray, dict[str, int]]] = field(default_factory=dict)
    reused: dict[str, Any] = field(default_factory=dict)
    memo: Memo = field(default_factory=Memo)

    def __post_init__(self) -> None:
        """Start the memo from the figures ``source`` stored."""
        if self.source is not None:
            self.memo = Memo(self.source.memo())

    @classmethod
    def from_run(cls, run_dir: str | Path | None) -> StageReuse:
        """The reuse of ``run_dir``'s results (None: keys only)."""
        return cls(RunStages.open(run_dir) if run_dir is not None else None)

    def _mark(self, what: str, reused: int, of: int) -> None:
        if self.source is None:
            return
        self.reused.setdefault("run", str(self.source.run_dir))
        self.reused[what] = {"reused": reused, "of": of}

    @property
    def notes(self) -> list[str]:
        """Why something was not reused (for the run's warnings)."""
        return list(self.source.notes) if self.source is not None else []

    def classify(self, businesses: pd.DataFrame, catalogue: Catalogue, scenario: Scenario
                 ) -> tuple[pd.DataFrame, list[str]]:
        """:func:`siteplan.guilds.decide.classify_registry`, or its result from the source run."""
        from ..guilds.decide import classify_registry

        try:
            key: str | None = classify_key(businesses, catalogue, scenario)
        except Exception as exc:  # noqa: BLE001 - a key that cannot be made (any reason): compute, store nothing
            log.debug("classification key not made: %s", exc)
            key = None
        self.keys["classify"] = key
        got = self.source.classified(key, businesses) if (self.source is not None and key) else None
        if got is not None:
            biz, notes = got
            self._mark("classify", 1, 1)
        else:
            biz, notes = classify_registry(businesses, catalogue, scenario)
            self._mark("classify", 0, 1)
        enc = encode_classified(businesses, biz) if key else None
        if enc is None:
            self.keys["classify"] = None
        else:
            self.classified = (enc[0], enc[1], list(notes), len(businesses))
        return biz, notes

    def criteria(self, specs: list[Any], layers: dict[str, gpd.GeoDataFrame], grid: Grid, cache: FieldCache
                 ) -> list[CriterionLayer]:
        """:func:`siteplan.scoring.suitability.criterion_layers`, each raster taken from the source run
        when its key is the same."""
        from ..scoring.suitability import CriterionLayer, criterion_layers

        out: list[CriterionLayer | None] = []
        todo: list[int] = []
        reused = 0
        for i, s in enumerate(specs):
            try:
                key: str | None = criterion_key(s, layers, grid, cache.slope)
            except Exception as exc:  # noqa: BLE001 - e.g. a filter naming a missing field: criterion_layers says so
                log.debug("criterion %s: key not made: %s", s.name, exc)
                key = None
            if key is not None:
                self.keys["criteria"][s.name] = key
            got = self.source.criterion(s.name, key, grid.shape) if (self.source is not None and key) else None
            if got is not None:
                out.append(CriterionLayer(s, got[0], got[1]))
                reused += 1
            else:
                out.append(None)
                todo.append(i)
        if todo:
            computed = criterion_layers([specs[i] for i in todo], layers, grid, cache)
            for i, c in zip(todo, computed):
                out[i] = c
        self._mark("criteria", reused, len(specs))
        return [c for c in out if c is not None]

    def surfaces(self, codes: list[str], crit: list[CriterionLayer], rules: dict[str, RuleSet],
                 scenario: Scenario, cache: FieldCache) -> dict[str, Surface]:
        """:func:`siteplan.scoring.suitability.surfaces`, each category's rule mask taken from the source
        run when its key is the same (the score, a weighted sum of the criteria, is computed)."""
        from ..scoring.suitability import category_weights, surfaces

        specs = [c.spec for c in crit]
        use: dict[str, Any] = dict(rules)
        targets = RuleTargets(next(iter(rules.values()))) if rules else None
        reused = 0
        for code in codes:
            try:
                w = category_weights(specs, scenario, code)
                assert targets is not None
                key: str | None = surface_key(code, w, self.keys["criteria"], rules[code], scenario, cache.grid,
                                              cache.slope, targets)
            except Exception as exc:  # noqa: BLE001 - any reason: surfaces() raises the proper error
                log.debug("suitability %s: key not made: %s", code, exc)
                key = None
            if key is not None:
                self.keys["surfaces"][code] = key
            got = self.source.mask(code, key, cache.grid.shape) if (self.source is not None and key) else None
            if got is not None:
                use[code] = _CachedMask(*got)
                reused += 1
        out = surfaces(codes, crit, use, scenario, cache)
        for code, s in out.items():
            self.masks[code] = (np.packbits(s.allowed.ravel()), dict(s.rule_cells))
        self._mark("surfaces", reused, len(codes))
        return out

    def surface_file_key(self, code: str, *parts: object) -> str | None:
        """The key of an output file written from category ``code``'s suitability alone (its GeoTIFF;
        with ``parts``, e.g. the sensitivity settings and seed, its SD raster): None when the category
        has no suitability key."""
        sk = (self.keys.get("surfaces") or {}).get(code)
        if not sk:
            return None
        return StageKey("file surface").text("surface", sk).text("parts", list(parts)).hexdigest()

    def rasters_file_key(self, names: list[str], slope: np.ndarray | None) -> str | None:
        """The key of ``explain/rasters.npz``: each criterion's key in the file's order and the slope;
        None when a criterion has no key."""
        ck = self.keys.get("criteria") or {}
        if not all(ck.get(n) for n in names):
            return None
        return StageKey("file rasters").text("criteria", [[n, ck[n]] for n in names]).array("slope", slope).hexdigest()

    def output(self, rel: str, key: str | None, dest: Path) -> bool:
        """Record output file ``rel``'s key (the manifest's ``stages.files``) and, when the source run
        recorded the same key for it, copy the source run's bytes of ``rel`` to ``dest`` (checked against
        its manifest's ``outputs_sha256``, written atomically).

        Parameters
        ----------
        rel
            The file's path in the run folder (``suitability/A1.tif``).
        key
            What the file's bytes are made from (:meth:`surface_file_key`, :meth:`rasters_file_key`), or
            None: not recorded, not copied.
        dest
            Where this run writes it.

        Returns
        -------
        bool
            True when copied (the caller writes nothing); False: the caller encodes the file.
        """
        if key is None:
            return False
        self.keys.setdefault("files", {})[rel] = key
        if self.source is None:
            return False
        done = self.reused.setdefault("outputs", {"reused": 0, "of": 0})
        done["of"] += 1
        self.reused.setdefault("run", str(self.source.run_dir))
        if (self.source.keys.get("files") or {}).get(rel) != key:
            return False
        data = self.source.checked(rel)
        if data is None:
            return False
        from ..common.atomic import atomic_path

        with atomic_path(dest) as tmp:
            tmp.write_bytes(data)
        done["reused"] += 1
        return True

    def stage_names(self) -> list[str]:
        """The stages wholly reused."""
        out = []
        r = self.reused
        if r.get("classify", {}).get("reused"):
            out.append("classify")
        c, s = r.get("criteria", {}), r.get("surfaces", {})
        if c and s and c["reused"] == c["of"] and s["reused"] == s["of"]:
            out.append("suitability")
        return out

    def manifest(self) -> dict[str, Any]:
        """The manifest's ``reused`` (empty without ``--reuse``)."""
        if self.source is None:
            return {}
        memo = {f"memo {k}": {"reused": c[0], "of": c[1]} for k, c in sorted(self.memo.counts.items())}
        return {"run": str(self.source.run_dir), "stages": self.stage_names(),
                **{k: v for k, v in self.reused.items() if k != "run"}, **memo, "notes": self.notes}

    def write(self, folder: Path) -> list[Path]:
        """Write ``stages/`` (the classification's columns, the rule masks) into the run folder ``folder``."""
        from .formats import write_json, write_npz

        d = folder / STAGES_DIR
        d.mkdir(parents=True, exist_ok=True)
        meta: dict[str, Any] = {"format": FORMAT}
        written = []
        if self.classified is not None:
            arrays, cols, notes, rows = self.classified
            meta["classify"] = {"rows": rows, "columns": cols, "notes": notes}
            write_npz(arrays, d / "classify.npz")
            written.append(d / "classify.npz")
        codes = list(self.masks)
        meta["surfaces"] = {"codes": codes, "rule_cells": [list(self.masks[c][1].items()) for c in codes]}
        write_npz({f"allowed{i}": self.masks[c][0] for i, c in enumerate(codes)}, d / "surfaces.npz")
        write_json(meta, d / "stages.json")
        return [*written, d / "surfaces.npz", d / "stages.json"]

    def write_memo(self, folder: Path) -> Path:
        """Write ``stages/memo.npz``: every figure of the memo this run used (:mod:`siteplan.common.memo`), in
        key order (the same bytes whichever run computed them)."""
        from .formats import write_npz

        path = folder / STAGES_DIR / "memo.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_npz(self.memo.arrays(), path)
        return path
