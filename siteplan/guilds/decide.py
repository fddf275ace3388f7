"""Deciding each business: placed by a rule or the name model on calibrated confidence, outside the
catalogue, or to review; the model's veto of rules read from the name; the review table
(``review.csv``); and a run's whole classification (:func:`classify_registry`: the rules, the officer's
labels, the calibrated model)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..common.textnorm import normalize
from .labels import apply_labels, read_labels
from .name_model import DEFAULT_MIN_CONFIDENCE, OTHER, Calibration, NameModel, load_calibration, train

if TYPE_CHECKING:
    from ..scenario import Scenario
    from .catalogue import Catalogue

__all__ = ["REVIEW_COLUMNS", "VETO_RATIO", "apply_fallback", "classify_registry", "review_table"]

#: The columns of ``review.csv``: ``category`` is left empty for the officer to fill (a code, or ``_other``);
#: the filled file is a labels file (``classification.labels``).
REVIEW_COLUMNS = ("biz_id", "name", "category", "best1", "p1", "best2", "p2", "confidence", "land_m2", "words",
                  "reason")

#: Rule kinds placed on their own measured precision; the others are decided with the model.
_RULE_PLACED = ("category", "label", "isic", "osm_tag", "keyword", "outside")
#: Rule kinds the name model can veto: those read from the name itself. An explicit category, an officer's
#: label, an ISIC code or an OSM tag are never second-guessed by the name (a name that holds no trade word,
#: "فروشگاه باقری پلاک 180", says nothing against its ISIC code).
_VETOED_RULES = ("keyword", "outside")
#: The veto: a rule's decision goes to review when the name model (trained without the registry's own rule
#: decisions) gives another category at least this many times the probability of the rule's category.
#: Chosen on the calibration registries only (``benchmarks/bench_classify.py --veto``): at 10 it catches 10 of
#: the 40 wrong keyword/outside decisions of the calibration registries' first runs (before any tuning on
#: them), sends 8 of their 706 right ones (1.1 %) to review, and 4 of the 1315 right ones of today's rules (0.3 %).
VETO_RATIO = 10.0


def _veto(model: NameModel, names: list[object], rule_cat: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which rule decisions the name model vetoes (see :data:`VETO_RATIO`).

    Returns
    -------
    tuple
        The veto (bool per name), the model's best category and its probability, the probability of the
        rule's category.
    """
    pred = model.predict(names)
    b1, p1 = pred["best1"].to_numpy(dtype=object), pred["p1"].to_numpy(dtype=float)
    full = model.proba_of(names, model.classes)
    col = {c: i for i, c in enumerate(model.classes)}
    pr = np.round(np.array([full[i, col[c]] if c in col else 0.0 for i, c in enumerate(rule_cat)], dtype=float), 4)
    vetoed = np.array([b is not None and b != c for b, c in zip(b1, rule_cat)], dtype=bool) & (p1 >= VETO_RATIO * pr)
    return vetoed, b1, p1, pr


def _rank_candidates(model: NameModel, names: list[object], cands: np.ndarray, b1: np.ndarray, p1: np.ndarray,
                     b2: np.ndarray, p2: np.ndarray) -> None:
    """For names whose keywords conflict (``cands``: their categories, ';' between them, else empty), set
    the best two (``b1``/``p1``, ``b2``/``p2``, in place) to the two of those categories the model prefers."""
    js = np.flatnonzero(cands != "")
    if not len(js):
        return
    full = model.proba_of([names[j] for j in js], model.classes)
    col_of = {c: i for i, c in enumerate(model.classes)}
    for k, j in enumerate(js):
        cs = [c for c in str(cands[j]).split(";") if c]
        pr = np.array([full[k, col_of[c]] if c in col_of else 0.0 for c in cs])
        o = np.argsort(-pr, kind="stable")
        b1[j], p1[j] = cs[o[0]], round(float(pr[o[0]]), 4)
        b2[j], p2[j] = cs[o[1]], round(float(pr[o[1]]), 4)


def _vetoed_rules(out: pd.DataFrame, classified: pd.DataFrame, catalogue: Catalogue,
                  extra: tuple[list[str], list[str]] | None, corpus: pd.DataFrame | None, rule_cat: np.ndarray,
                  vet: np.ndarray) -> np.ndarray:
    """The rule decisions the name model vetoes (see :data:`VETO_RATIO`), among the rows ``vet``.

    The model is trained on the catalogue's terms, the corpus and the officer's labels, never on the
    registry's own rule decisions (it would only repeat them). For a vetoed row, ``out``'s
    ``class_best1``/``class_p1`` (the model's category), ``class_best2``/``class_p2`` (the rule's, with the
    model's probability of it) and ``class_note`` (why) are set in place.

    Returns
    -------
    numpy.ndarray
        Bool per row of ``out``: vetoed.
    """
    vetoed = np.zeros(len(out), dtype=bool)
    if not vet.any():
        return vetoed
    vmodel = train(catalogue, classified[classified["class_rule"] == "label"], extra, corpus)
    vpos = np.flatnonzero(vet)
    v, vb1, vp1, vpr = _veto(vmodel, out["name"].iloc[vpos].tolist(), rule_cat[vpos])
    if not v.any():
        return vetoed
    rows, kind = vpos[v], out["class_rule"].to_numpy(dtype=object)[vpos[v]]
    vetoed[rows] = True
    idx = out.index[rows]
    out.loc[idx, "class_best1"] = vb1[v]
    out.loc[idx, "class_p1"] = vp1[v]
    out.loc[idx, "class_best2"] = rule_cat[rows]
    out.loc[idx, "class_p2"] = vpr[v]
    out.loc[idx, "class_note"] = [
        f"{r} rule says {c}, but the name model prefers {b} {q:.2f} to {c} {qq:.2f} "
        f"(at least {VETO_RATIO:g} times): the officer says which"
        for r, c, b, q, qq in zip(kind, rule_cat[rows], vb1[v], vp1[v], vpr[v])]
    return vetoed


def apply_fallback(classified: pd.DataFrame, catalogue: Catalogue, min_confidence: float = DEFAULT_MIN_CONFIDENCE,
                   *, model: NameModel | None = None, calibration: Calibration | None = None,
                   extra: tuple[list[str], list[str]] | None = None, use_model: bool = True,
                   corpus: pd.DataFrame | None = None) -> pd.DataFrame:
    """Decide every business: placed, outside the catalogue, or to review, on calibrated confidence.

    Parameters
    ----------
    classified
        Output of :func:`siteplan.guilds.catalogue.classify` (after :func:`apply_labels`).
    catalogue
        The guild catalogue.
    min_confidence
        Calibrated confidence at or above which a category (or "outside the catalogue") is used.
    model
        A trained model; by default one is trained on ``catalogue``, ``classified`` and ``extra``.
    calibration
        By default the shipped one (:func:`load_calibration`).
    extra
        Labels that matched no business (see :func:`apply_labels`).
    use_model
        False to decide by the rules alone (``classification.model: false``).
    corpus
        The model's corpus (see :func:`train`); None for the shipped one.

    Returns
    -------
    pandas.DataFrame
        A copy with ``category`` (only for placed rows), ``class_by`` (``category``, ``isic``, ``osm_tag``,
        ``keyword``, ``model``, ``label``; empty when nothing decided), ``class_conf`` (the calibrated
        confidence of the category or of "outside"; of the best candidate for a row to review),
        ``class_status`` (:data:`CLASS_STATUS`), the model's ``class_best1``, ``class_p1``,
        ``class_best2``, ``class_p2`` and ``class_note`` (why a row is to review).
    """
    cal = calibration or load_calibration()
    out = classified.copy()
    n = len(out)
    for c in ("class_best1", "class_best2"):
        out[c] = pd.Series([None] * n, index=out.index, dtype=object)
    for c in ("class_p1", "class_p2"):
        out[c] = np.nan
    rule = out["class_rule"].to_numpy(dtype=object)
    outside = out["class_outside"].fillna(value=False).to_numpy(dtype=bool)
    rule_cat = out["category"].to_numpy(dtype=object).copy()
    rule_cat[outside] = OTHER
    conf = np.array([1.0 if r in ("category", "label") else cal.rules.get(str(r), 0.0) for r in rule])
    has_name = out["name"].map(lambda v: bool(normalize(v))).to_numpy(dtype=bool) if "name" in out \
        else np.zeros(n, bool)
    placed_by_rule = np.isin(rule, _RULE_PLACED) & (conf >= min_confidence)
    # a second opinion: the name model, trained without this registry's rule decisions, may veto a rule
    vetoed = _vetoed_rules(out, classified, catalogue, extra, corpus, rule_cat,
                           placed_by_rule & np.isin(rule, _VETOED_RULES) & has_name & use_model)
    placed_by_rule &= ~vetoed
    ask = ~placed_by_rule & has_name & use_model & ~vetoed
    d = _Decisions(
        status=np.where(placed_by_rule, np.where(outside, "outside", "classified"), "review").astype(object),
        category=np.array([c if ok else None for c, ok in zip(rule_cat, placed_by_rule & ~outside)], dtype=object),
        by=np.where(placed_by_rule, out["class_by"].to_numpy(dtype=object), "").astype(object),
        note=out["class_note"].to_numpy(dtype=object).copy(), conf=conf,
        best_conf=np.full(n, np.nan))  # calibrated confidence of the model's best category (review.csv)
    if ask.any():
        model = model or train(catalogue, classified, extra, corpus)
        _model_decisions(out, model, ask, rule_cat, d, cal, min_confidence)
    left = (d.status == "review") & ~ask & ~vetoed
    d.note[left] = [str(x or "") or ("no name" if not h else "rules only (classification.model is off)")
                    for x, h in zip(d.note[left], has_name[left])]
    out["category"] = pd.Series(d.category, index=out.index, dtype=object)
    out["class_by"] = d.by
    # the confidence of the decision taken; a row to review has none (review.csv gives its best candidate's)
    out["class_conf"] = np.round(np.where(d.status == "review", 0.0, d.conf), 4)
    out["class_best_conf"] = np.round(d.best_conf, 4)
    out["class_status"] = d.status
    out["class_outside"] = d.status == "outside"
    out["class_note"] = d.note
    return out


@dataclass
class _Decisions:
    """What :func:`apply_fallback` decides per row: ``status`` (:data:`CLASS_STATUS`), ``category``, ``by``
    (the rule kind or ``model``), ``note``, the calibrated ``conf`` of the decision and ``best_conf`` of the
    model's best category (review.csv); changed in place as the model decides."""

    status: np.ndarray
    category: np.ndarray
    by: np.ndarray
    note: np.ndarray
    conf: np.ndarray
    best_conf: np.ndarray


def _model_decisions(out: pd.DataFrame, model: NameModel, ask: np.ndarray, rule_cat: np.ndarray, d: _Decisions,
                     cal: Calibration, min_confidence: float) -> None:
    """The name model's decisions for the rows ``ask`` (not placed by a rule): its best two categories set
    in ``out`` and, where its calibrated confidence reaches ``min_confidence``, the row placed (or left
    outside) in ``d``; else the note says why it is to review."""
    rule = out["class_rule"].to_numpy(dtype=object)
    pred = model.predict(out.loc[ask, "name"].tolist())
    idx = out.index[ask]
    b1, p1 = pred["best1"].to_numpy(dtype=object), pred["p1"].to_numpy(dtype=float)
    b2, p2 = pred["best2"].to_numpy(dtype=object), pred["p2"].to_numpy(dtype=float)
    if "class_candidates" in out:  # conflicting keywords: the two best of their categories, by the model
        _rank_candidates(model, out.loc[idx, "name"].tolist(),
                         out.loc[idx, "class_candidates"].fillna("").to_numpy(dtype=object), b1, p1, b2, p2)
    out.loc[idx, "class_best1"] = b1
    out.loc[idx, "class_p1"] = p1
    out.loc[idx, "class_best2"] = b2
    out.loc[idx, "class_p2"] = p2
    weak = rule_cat[ask]
    agree = np.array([w is not None and w == b for w, b in zip(weak, b1)])
    c1 = np.round(cal.model(p1, agree), 4)
    # a specific rule the calibration does not trust enough: the model must name the same category
    strong = np.isin(rule[ask], _RULE_PLACED)
    # keywords of several categories: the officer says which (the model only ranks them)
    take = (c1 >= min_confidence) & (~strong | agree) & (rule[ask] != "conflict")
    pos = np.flatnonzero(ask)
    d.conf[pos] = np.where(strong & ~agree, d.conf[pos], np.where(strong, np.maximum(d.conf[pos], c1), c1))
    d.status[pos[take]] = np.where(b1[take] == OTHER, "outside", "classified")
    d.category[pos[take]] = np.where(b1[take] == OTHER, None, b1[take])
    d.by[pos[take]] = np.where(strong[take], out["class_by"].to_numpy(dtype=object)[pos[take]], "model")
    d.note[pos[take]] = np.where(b1[take] == OTHER, [f"name model: a trade outside the catalogue ({q:.2f})"
                                                    for q in p1[take]], "")
    rest = ~take
    conflict = rule[ask] == "conflict"
    d.best_conf[pos] = np.where(conflict, np.nan, c1)
    d.note[pos[rest]] = [
        "; ".join(x for x in (str(nt or ""), f"name model: {b} {q:.2f}, then {bb} {qq:.2f}" + (
            " (the officer says which)" if cf else f" (calibrated confidence {cc:.3f} < {min_confidence:g})"))
            if x)
        for nt, b, q, bb, qq, cc, cf in zip(d.note[pos[rest]], b1[rest], p1[rest], b2[rest], p2[rest], c1[rest],
                                            conflict[rest])]


def review_table(classified: pd.DataFrame, catalogue: Catalogue | None = None) -> pd.DataFrame:
    """The businesses to review, for the officer to label (``review.csv``).

    Parameters
    ----------
    classified
        Output of :func:`apply_fallback`.
    catalogue
        For ``land_m2`` (the best candidate's land per business); None leaves it empty.

    Returns
    -------
    pandas.DataFrame
        :data:`REVIEW_COLUMNS`: the id, the name, an empty ``category`` to fill, the model's best two
        categories with their probabilities (empty when the model did not look at the row, e.g. no
        name), the calibrated ``confidence`` of the best, ``land_m2``, the keywords found (``words``)
        and why it is not decided; most probable first.
    """
    if "class_status" in classified:
        un = classified[classified["class_status"] == "review"]
    else:
        un = classified[classified["category"].isna()]

    def get(c: str) -> pd.Series:
        return un[c] if c in un else pd.Series([None] * len(un), index=un.index, dtype=object)

    land = {} if catalogue is None else dict(zip(catalogue.table["code"], catalogue.table["land_m2"]))
    t = pd.DataFrame({
        "biz_id": get("biz_id"), "name": get("name"), "category": "", "best1": get("class_best1"),
        "p1": get("class_p1"), "best2": get("class_best2"), "p2": get("class_p2"), "confidence": get("class_best_conf"),
        "land_m2": get("class_best1").map(land), "words": get("class_words"), "reason": get("class_note"),
    })
    for c in ("p1", "p2", "confidence"):  # to 4 decimals (float32 noise says nothing to an officer)
        t[c] = pd.to_numeric(t[c], errors="coerce").astype("float64").round(4)
    t["land_m2"] = pd.to_numeric(t["land_m2"], errors="coerce")
    return t.sort_values("p1", ascending=False, na_position="last", kind="mergesort").reset_index(drop=True)


def classify_registry(businesses: pd.DataFrame, catalogue: Catalogue, scenario: Scenario
                      ) -> tuple[pd.DataFrame, list[str]]:
    """A run's classification: rules, the officer's labels, the calibrated model; with the run's notes.

    Parameters
    ----------
    businesses
        The registry layer.
    catalogue
        The scenario's catalogue (its keyword changes are logged here).
    scenario
        For ``classification`` (``model``, ``min_confidence``, ``labels``).

    Returns
    -------
    tuple
        The classified frame (see :func:`apply_fallback`) and the warnings for the run's manifest.
    """
    import logging

    from .catalogue import classify

    log = logging.getLogger("siteplan.pipeline")
    for change in catalogue.changes:
        log.info("catalogue: %s", change)
    spec = scenario.classification
    biz = classify(businesses, catalogue)
    extra: tuple[list[str], list[str]] | None = None
    notes: list[str] = []
    if spec.labels:
        labels = read_labels(scenario.resolve(spec.labels), catalogue)
        biz, extra = apply_labels(biz, labels)
        n_lab = int((biz["class_rule"] == "label").sum())
        log.info("classification: %d of %d labels matched a business (%s); the model learns them all",
                 n_lab, len(labels), spec.labels)
    biz = apply_fallback(biz, catalogue, spec.min_confidence, extra=extra, use_model=spec.model)
    by = biz["class_by"]
    counts = {k: int((by == k).sum()) for k in ("category", "isic", "osm_tag", "keyword", "model", "label")}
    log.info("classification: %s; outside the catalogue %d; to review %d",
             ", ".join(f"{k} {v}" for k, v in counts.items()), int((biz["class_status"] == "outside").sum()),
             int((biz["class_status"] == "review").sum()))
    if counts["model"]:
        notes.append(f"businesses: {counts['model']} classified by the name model (class_by 'model' and their "
                     f"class_confidence, ≥ {spec.min_confidence:g}, are in relocation.csv)")
    n_out = int((biz["class_status"] == "outside").sum())
    if n_out:
        notes.append(f"businesses: {n_out} are trades outside the catalogue (bakeries, barbers, ...): not placed; "
                     "relocation.csv gives each its reason")
    rev = biz["class_status"] == "review"
    if rev.any():
        ids = ", ".join(biz.loc[rev, "biz_id"].astype(str).head(15)) if "biz_id" in biz else ""
        notes.append(f"businesses: {int(rev.sum())} could not be classified with confidence ≥ {spec.min_confidence:g} "
                     f"(ids: {ids}{' …' if rev.sum() > 15 else ''}); they are listed in relocation.csv as unassigned "
                     "and in review.csv with their best two categories: fill its category column and give the file "
                     "as classification.labels (`siteplan review RUN_DIR` lists the answers that settle most)")
    return biz, notes
