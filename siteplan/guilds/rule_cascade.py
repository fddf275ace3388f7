"""The rules in order: each business of a registry given a category by its explicit ``category``, its ISIC
code (the name choosing among the code's categories), its OSM tag or its name's keywords, and sent to
review when the name contradicts the rule (:mod:`~siteplan.guilds.review_reasons`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from ..common.textnorm import normalize, normalize_compact
from .keyword_match import Matcher, build_matcher, by_name, fold, in_context
from .review_reasons import doubt, name_conflicts, words_found
from .settle import correct_spelling, nonspecialised_wholesale, settle_conflict, spelling_vocabulary, store_branch
from .trade_words import OUTSIDE

if TYPE_CHECKING:
    from .catalogue_table import Catalogue

__all__ = ["CLASS_BY", "RULE_KINDS", "classify"]

#: How the rules found a category (``class_rule``): an explicit ``category``, the ISIC code (alone or
#: with the name choosing among the code's categories), the code's primary category when the name cannot
#: choose, an OSM tag, a specific keyword of the name, only a generic word of a trade, or a word of a trade
#: outside the catalogue.
RULE_KINDS = ("category", "isic", "isic_primary", "osm_tag", "keyword", "generic", "outside")
#: The public ``class_by`` of each rule kind.
CLASS_BY = {"category": "category", "isic": "isic", "isic_primary": "isic", "osm_tag": "osm_tag",
            "keyword": "keyword", "generic": "keyword", "outside": "keyword", "conflict": "", "unclassified": ""}

#: A rule's decision: (category or None, the rule kind, confidence, the matched keyword).
_Decision = tuple[str | None, str, float, str]


class _Row(NamedTuple):
    """One business classified: the columns :func:`classify` adds."""

    category: str | None
    rule: str
    conf: float
    outside: bool
    words: str
    candidates: str
    note: str


def classify(businesses: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Classify a business registry into guild categories by rules.

    Parameters
    ----------
    businesses
        A frame with any of ``category``, ``isic``, ``osm_tag``, ``name``.
    catalogue
        The guild catalogue.

    Returns
    -------
    pandas.DataFrame
        A copy with ``category`` (None when unclassified or outside the catalogue), ``class_by``
        (``category``, ``isic``, ``osm_tag``, ``keyword``, or empty), ``class_rule`` (one of
        :data:`RULE_KINDS` or ``unclassified``), ``class_conf`` in [0, 1] (the rule's strength;
        :func:`siteplan.guilds.decide.apply_fallback` replaces it with the calibrated confidence),
        ``class_outside`` (True for a trade outside the catalogue), ``class_words`` (the keywords found
        in the name, with their categories) and ``class_note`` explaining a failure.

    Notes
    -----
    Keyword matching is on names with spaces and ZWNJ removed after :func:`siteplan.common.textnorm.normalize`,
    so ``صاف کاری``, ``صافکاری`` and ``صاف‌کاری`` match alike. One pass over the rows with a few
    substring tests each: about 10^5 rows per second.
    """
    m = build_matcher(catalogue)
    n = len(businesses)

    def get(col: str) -> list[Any]:
        return businesses[col].tolist() if col in businesses.columns else [None] * n

    vocab = spelling_vocabulary(m)
    rows = [_classify_row(explicit, isic, tag, name, catalogue, m, vocab)
            for explicit, isic, tag, name in zip(get("category"), get("isic"), get("osm_tag"), get("name"))]
    out = businesses.copy()
    out["category"] = pd.Series([r.category for r in rows], index=out.index, dtype=object)
    out["class_rule"] = [r.rule for r in rows]
    out["class_by"] = [CLASS_BY[r.rule] for r in rows]
    out["class_conf"] = [r.conf for r in rows]
    out["class_outside"] = [r.outside for r in rows]
    out["class_words"] = [r.words for r in rows]
    out["class_candidates"] = [r.candidates for r in rows]  # the categories whose keywords conflict (';' between)
    out["class_note"] = [r.note for r in rows]
    return out


def _classify_row(explicit: Any, isic: Any, tag: Any, name: Any, catalogue: Catalogue, m: Matcher,
                  vocab: tuple[frozenset[str], frozenset[str]]) -> _Row:
    """One business through the rules (its misspelt trade words read as the words, ``vocab``:
    :func:`~siteplan.guilds.settle.spelling_vocabulary`), then the doubts of
    :func:`~siteplan.guilds.review_reasons.doubt`."""
    explicit, isic, tag = (None if _blank(v) else v for v in (explicit, isic, tag))
    name_w = fold(normalize(name))
    name_c = name_w.replace(" ", "")
    code, how, c, word = _classify_one(explicit, isic, tag, name_c, catalogue, m, f" {name_w} ")
    why: list[str] = []
    if how == "unclassified" and name_c:  # no keyword found: a misspelt trade word, a store's branch?
        name_w, (code, how, c, word) = _unfound(explicit, isic, tag, name_w, catalogue, m, vocab, why)
        name_c = name_w.replace(" ", "")
    if how == "generic" and in_context(code, name_c, name_w):
        how, c = "keyword", 0.8  # a trade's generic word with a word of its own trade: a specific name
    elif how == "generic" and code == "wholesale_food" and nonspecialised_wholesale(name_w):
        how, c = "keyword", 0.8  # a wholesaler of no named goods: non-specialised wholesale (ISIC 4690)
        why.append("a wholesaler of no named goods: non-specialised wholesale (ISIC 4690)")
    found = doubt(code, how, name_c, f" {name_w} ", m, word, _isic_outside(isic, m)) if name_c else []
    if found:  # the name says another category than the ISIC code, or a word registries disagree on
        why.append(found[0])
        code, how, c = None, "conflict", 0.0
    outside = code == OUTSIDE
    if outside:
        why.append(f"a trade outside the catalogue («{word}»)")
        code = None
    cands = ";".join(found[1:])
    if code is None and how == "unclassified":
        cs = name_conflicts(name_c, name_w, m)
        settled, reason = settle_conflict(cs, f" {name_w} ") if len(cs) > 1 else (None, "")
        if settled:  # a school of a trade, a bicycle shop, a department store of goods
            out = settled == OUTSIDE
            return _Row(None if out else settled, "outside" if out else "keyword", 0.8, out,
                        words_found(name_c, name_w, m), "", "; ".join([*why, reason]))
        why.extend(_unknown(explicit, isic, tag))
        if len(cs) > 1:
            how, cands = "conflict", ";".join(cs)
        shown = ", ".join("a trade outside the catalogue" if k == OUTSIDE else k for k in cs)
        why.append(f"keywords of several categories in the name ({shown})" if len(cs) > 1
                   else "no keyword in name" if name_c else "no name")
    return _Row(code, how, c, outside, words_found(name_c, name_w, m) if name_c else "", cands, "; ".join(why))


def _unfound(explicit: Any, isic: Any, tag: Any, name_w: str, catalogue: Catalogue, m: Matcher,
             vocab: tuple[frozenset[str], frozenset[str]], why: list[str]) -> tuple[str, _Decision]:
    """A name in which no keyword is found: its misspelt trade words read as the words («صافکری», «فوشگاه»),
    or a store's branch (:func:`~siteplan.guilds.settle.store_branch`). Returns the name as read and the
    decision (unclassified when neither); the reason is added to ``why``."""
    fixed, done = correct_spelling(name_w, vocab)
    found: _Decision = (None, "unclassified", 0.0, "")
    if done:
        name_w = fixed
        found = _classify_one(explicit, isic, tag, name_w.replace(" ", ""), catalogue, m, f" {name_w} ")
        why.append("spelling read as " + ", ".join(f"«{b}» for «{a}»" for a, b in done))
    if found[1] == "unclassified" and store_branch(f" {name_w} ") and \
            not name_conflicts(name_w.replace(" ", ""), name_w, m):
        found = ("chain_store", "keyword", 0.8, "شعبه")
        why.append("a store's branch («شعبه»): a chain store")
    return name_w, found


def _unknown(explicit: Any, isic: Any, tag: Any) -> list[str]:
    """What the rules could not use of a business's given category, ISIC code and OSM tag."""
    why = []
    if explicit is not None:
        why.append(f"category '{explicit}' unknown")
    if isic is not None:
        why.append(f"ISIC '{isic}' not in catalogue")
    if tag is not None:
        why.append(f"OSM tag '{tag}' not mapped")
    return why


def _classify_one(explicit: Any, isic: Any, tag: Any, name_c: str, catalogue: Catalogue, m: Matcher,
                  name_w: str = "") -> _Decision:
    """One business: (category or None, how it was found, confidence, the matched keyword), trying in
    order the given category, the ISIC code (with the name to choose among several), the OSM tag and
    the name. ``how`` is one of :data:`RULE_KINDS` or ``unclassified``; the category is
    :data:`OUTSIDE` for a name of a trade outside the catalogue."""
    found = _by_category(explicit, catalogue, m) or _by_isic(isic, name_c, name_w, m) or _by_tag(tag, m)
    if found:
        return found
    code, c, word = by_name(name_c, m, name_words=name_w)
    if code:
        return code, ("outside" if code == OUTSIDE else "keyword" if c >= 0.8 else "generic"), c, word
    return None, "unclassified", 0.0, ""


def _by_category(explicit: Any, catalogue: Catalogue, m: Matcher) -> _Decision | None:
    """The business's own category, by its code or its English or Persian name (None when unknown)."""
    if explicit is None:
        return None
    code = explicit if explicit in catalogue else m.code_norm.get(normalize_compact(explicit))
    return (code, "category", 1.0, "") if code else None


def _by_isic(isic: Any, name_c: str, name_w: str, m: Matcher) -> _Decision | None:
    """The ISIC code's category; the name's keywords choose among a code's several categories, else a full
    code's primary one (None when the code is of no category)."""
    if isic is None:
        return None
    cands, c = isic_candidates(str(isic), m)
    if len(cands) == 1:
        return cands[0], "isic", c, ""
    if len(cands) > 1:
        code, _, word = by_name(name_c, m, among=cands, name_words=name_w)
        if code:
            return code, "isic", c, word
        near = _near_code(str(isic), name_c, name_w, m)
        if near:  # a clerk's near code: the name's keyword of the same ISIC division decides
            return near
        if len(str(isic)) >= 4:
            return cands[0], "isic_primary", c * 0.8, ""  # the code's primary category
    return None


def _near_code(isic: str, name_c: str, name_w: str, m: Matcher) -> _Decision | None:
    """The name's specific keyword when it names a category of the ISIC code's division (its first two digits)
    that is not the code's own («لوازم یدکی خودرو» under 4520, car repair: a parts shop, 4530); else None."""
    division = re.sub(r"\D", "", isic)[:2]
    code, c, word = by_name(name_c, m, name_words=name_w)
    if code is None or code == OUTSIDE or c < 0.8 or len(division) < 2:
        return None
    if not any(k.startswith(division) and code in cats for k, cats in m.isic.items()):
        return None
    return code, "keyword", c, word


def _by_tag(tag: Any, m: Matcher) -> _Decision | None:
    """The category of an OSM tag (``key=value``; the first of several), None when none is mapped."""
    if tag is None:
        return None
    t = str(tag).strip().lower().replace(" ", "")
    code = m.osm.get(t) or m.osm.get(t.split(";")[0])
    return (code, "osm_tag", 0.9, "") if code else None


def isic_candidates(code: str, m: Matcher) -> tuple[list[str], float]:
    """The categories of an ISIC code (4 digits: its class; exactly 2 or 3 digits: every class under the
    prefix) and the rule's strength; none when no category has it."""
    digits = re.sub(r"\D", "", code)
    if not digits:
        return [], 0.0
    if len(digits) >= 4 and digits[:4] in m.isic:
        return m.isic[digits[:4]], 0.95
    for n in (3, 2):
        if len(digits) >= n:
            pref = digits[:n]
            cands = sorted({c for k, v in m.isic.items() if k.startswith(pref) for c in v})
            if cands and len(digits) == n:
                return cands, 0.8
    return [], 0.0


def _isic_outside(isic: object, m: Matcher) -> str:
    """The ISIC code when it is a full class (4 digits or more) of no catalogue category, else ""."""
    if isic is None:
        return ""
    code = str(isic).strip()
    if len(re.sub(r"\D", "", code)) < 4 or isic_candidates(code, m)[0]:
        return ""
    return code


def _blank(v: object) -> bool:
    """None, NaN or an empty string."""
    if v is None:
        return True
    if isinstance(v, float) and np.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()
