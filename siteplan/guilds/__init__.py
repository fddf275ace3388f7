"""The guilds stage: each business of the registry given a guild category, with how sure it is.

Flows in: the registry layer of a :class:`~siteplan.inputs.Region` and the scenario's catalogue
settings. Flows out: a :class:`Catalogue` (categories, separations, profiles, sources) and the
registry with ``category``, ``class_by`` and calibrated ``confidence`` columns; ``review.csv`` rows
for an officer to check.

Modules, in the order data flows:

- :mod:`~siteplan.guilds.profiles`: default criteria by category (the catalogue's ``profile``);
- :mod:`~siteplan.guilds.catalogue`: the catalogue read and a scenario's overrides applied; the face of
  the catalogue and the rules, whose parts are :mod:`~siteplan.guilds.catalogue_values` (columns and
  their checks), :mod:`~siteplan.guilds.catalogue_table` (:class:`Catalogue`),
  :mod:`~siteplan.guilds.trade_words` (the rules' words), :mod:`~siteplan.guilds.keyword_match` (the
  keyword matcher), :mod:`~siteplan.guilds.review_reasons` (why a rule is doubted) and
  :mod:`~siteplan.guilds.rule_cascade` (the rules in order: explicit category, ISIC code, OSM tag,
  keywords);
- :mod:`~siteplan.guilds.name_model`: the calibrated character n-gram name model (its trained model
  cached by :mod:`~siteplan.common.usercache`);
- :mod:`~siteplan.guilds.labels`: the officer's labels (``classification.labels``);
- :mod:`~siteplan.guilds.decide`: each business placed, outside or to review, and ``review.csv``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common.face import lazy_face

if TYPE_CHECKING:
    from .catalogue import (
        LISTING_COLUMNS,
        OUTSIDE,
        OUTSIDE_TRADES,
        RULE_KINDS,
        SHARED_KEYWORDS,
        SUMMARY_COLUMNS,
        VNG_DISTANCES,
        Catalogue,
        classify,
        load_catalogue,
        scenario_catalogue,
        separation_m,
    )
    from .decide import classify_registry, review_table
    from .labels import apply_labels, read_labels
    from .name_model import NameModel
    from .profiles import DEFAULT_CRITERIA, PROFILES, assign_profiles, default_criteria

#: public name -> the module of this package that defines it
_API: dict[str, str] = {
    "PROFILES": "profiles", "DEFAULT_CRITERIA": "profiles", "assign_profiles": "profiles",
    "default_criteria": "profiles",
    "VNG_DISTANCES": "catalogue", "Catalogue": "catalogue", "load_catalogue": "catalogue",
    "scenario_catalogue": "catalogue", "LISTING_COLUMNS": "catalogue", "SUMMARY_COLUMNS": "catalogue",
    "classify": "catalogue", "separation_m": "catalogue", "OUTSIDE": "catalogue", "OUTSIDE_TRADES": "catalogue",
    "SHARED_KEYWORDS": "catalogue", "RULE_KINDS": "catalogue",
    "NameModel": "name_model", "classify_registry": "decide", "review_table": "decide",
    "read_labels": "labels", "apply_labels": "labels",
}

__all__ = [
    "Catalogue", "DEFAULT_CRITERIA", "LISTING_COLUMNS", "NameModel", "OUTSIDE", "OUTSIDE_TRADES", "PROFILES",
    "RULE_KINDS", "SHARED_KEYWORDS", "SUMMARY_COLUMNS", "VNG_DISTANCES", "apply_labels", "assign_profiles",
    "classify", "classify_registry", "default_criteria", "load_catalogue", "read_labels", "review_table",
    "scenario_catalogue", "separation_m",
]

__getattr__, __dir__ = lazy_face(__name__, _API)
