"""Why a rule's category is not to be trusted, and what the name says: the reasons a business goes to
review instead of being placed, with the candidates an officer chooses among.

A single ISIC category the name's own keywords contradict, a word registries disagree on
(:data:`~siteplan.guilds.trade_words.DISPUTED_WORDS`), a name-found category under an ISIC code of a trade
outside the catalogue, a shop's keyword with a word of selling parts
(:data:`~siteplan.guilds.trade_words.SERVICE_OR_SALE`), or keywords of several categories in one name.
"""

from __future__ import annotations

import functools

from ..common.textnorm import normalize_compact
from .keyword_match import SHORT_KEYWORD, Matcher, conflicts, fold, generic_conflict, matches
from .trade_words import (
    GOODS_TRADERS,
    NONFOOD_GOODS,
    OUTSIDE,
    OUTSIDE_OVERRIDES,
    SERVICE_OR_SALE,
    SERVICE_SETTLES,
    SETTLED_BY_ISIC,
)

__all__ = ["disputed", "doubt", "isic_doubt", "name_conflicts", "words_found"]


def doubt(code: str | None, how: str, name_c: str, name_w: str, m: Matcher, word: str = "",
          isic_outside: str = "") -> list[str]:
    """Why a rule's category is not to be trusted, then the candidates (empty when it is): a single ISIC
    category the name's own keywords contradict («هایپرمارکت» under the chain stores' code 4711, «فروشگاه
    مبل» under furniture making), a category with a word of :data:`DISPUTED_WORDS`, a name-found category
    under an ISIC code of a trade outside the catalogue (``isic_outside``: the code), or a keyword (``word``)
    with a word of :data:`SERVICE_OR_SALE`.

    Parameters
    ----------
    code
        The rules' category (None or :data:`OUTSIDE`: nothing to doubt).
    how
        The rule kind that found it (:data:`~siteplan.guilds.rule_cascade.RULE_KINDS`).
    name_c, name_w
        The normalized name, compact and with spaces around its words.
    m
        The catalogue's matcher.
    word
        The keyword that found ``code``.
    isic_outside
        The registry's ISIC code when it is a trade outside the catalogue, else "".

    Returns
    -------
    list of str
        The reason, then the candidate categories; empty when nothing is in doubt.
    """
    if code is None or code == OUTSIDE or how not in ("isic", "keyword", "generic"):
        return []
    if how == "isic":
        return isic_doubt(code, name_c, name_w, m) or ([] if code in SETTLED_BY_ISIC else disputed(code, name_c, name_w, m))
    if isic_outside and not _related_isic(isic_outside, code, m):
        return [f"the ISIC code {isic_outside} is of a trade outside the catalogue, the name's «{word}» says {code}",
                *sorted({code, OUTSIDE})]
    found = disputed(code, name_c, name_w, m)
    if found or how != "keyword":
        return found
    return _service_or_sale(code, name_c, name_w, word)


def _related_isic(isic: str, code: str, m: Matcher) -> bool:
    """True when an ISIC code of no category is in the same group (its first three digits) as one of
    ``code``'s own: a clerk's near code (2512 tanks of metal for metalwork's 2511, 4662 metals for the building
    materials' 4663) does not contradict the name."""
    group = "".join(ch for ch in isic if ch.isdigit())[:3]
    return any(k[:3] == group and code in cats for k, cats in m.isic.items())


def _service_or_sale(code: str, name_c: str, name_w: str, word: str) -> list[str]:
    """A repair shop's keyword (``word``) with a word of selling parts, or the reverse
    (:data:`SERVICE_OR_SALE`), and no word of the service itself (:data:`SERVICE_SETTLES`): why, then both
    categories; else empty."""
    if code not in SERVICE_OR_SALE or any(fold(normalize_compact(w)) in name_c for w in SERVICE_SETTLES.get(code, ())):
        return []
    words, other = SERVICE_OR_SALE[code]
    kw = fold(normalize_compact(word))
    spaced = name_w.replace(" ", "  ")
    for w in words:
        if w not in kw and (w in name_c if len(w) > SHORT_KEYWORD else f" {w} " in spaced):
            return [f"«{word}» is {code} but «{w}» says {other}", *sorted({code, other})]
    return []


def isic_doubt(code: str, name_c: str, name_w: str, m: Matcher) -> list[str]:
    """The name's longest specific keywords name another category than the ISIC code's ``code`` (a trade
    outside the catalogue does not, for :data:`GOODS_TRADERS`): why, then the candidates; else empty."""
    every = matches(name_c, name_w, m)
    found = [t for t in every if t[3] == 2]
    if not found:  # no specific word: a generic word of another trade («مارکت» under the large stores' 4719)
        found = [t for t in every if t[2] != code and t[4] not in OUTSIDE_OVERRIDES]
    if not found:
        return []
    best = max(b - a for a, b, *_ in found)
    cs = {c for a, b, c, *_ in found if b - a == best}
    if code in GOODS_TRADERS and (code != "wholesale_food" or not any(
            name_c[a:b] in _nonfood() for a, b, c, *_ in every if c == OUTSIDE)):
        cs.discard(OUTSIDE)  # the goods of a wholesaler («عمده فروشی ... روغن نباتی»), but no food for a food one
    if not cs - {code}:
        return []
    cands = sorted(cs | {code})
    shown = ", ".join("a trade outside the catalogue" if c == OUTSIDE else c for c in cands)
    return [f"the name's keywords ({shown}) contradict the ISIC code's {code}", *cands]


def disputed(code: str, name_c: str, name_w: str, m: Matcher) -> list[str]:
    """A word of :data:`DISPUTED_WORDS` (or of :data:`DISPUTED_IN_RETAIL` with a word of a shop) for ``code``
    in the name and none that settles it: why, then the candidates (``code`` and :data:`OUTSIDE`); else
    empty."""
    spaced = name_w.replace(" ", "  ")
    for w, codes, unless, only in m.disputed:
        if code in codes and (w in name_c if len(w) > SHORT_KEYWORD else f" {w} " in spaced) and \
                not any(u in name_c for u in unless) and (not only or any(o in name_c for o in only)):
            return [f"«{w}»: registries disagree whether it is {code} or a trade outside the catalogue",
                    *sorted({code, OUTSIDE})]
    return []



def name_conflicts(name_c: str, name_w: str, m: Matcher) -> list[str]:
    """The categories (:data:`OUTSIDE` among them) whose keywords occur apart in a name the rules could not
    decide: specific ones, with generic words when a trade outside the catalogue is among them, else generic
    words of two trades; one or none when nothing conflicts."""
    found = matches(name_c, f" {name_w} ", m) if name_c else []
    cs = conflicts(found)
    if len(cs) <= 1 and OUTSIDE in {t[2] for t in found}:
        cs = conflicts(found, generic=True)
    if len(cs) <= 1:
        cs = generic_conflict(found) or cs
    return cs


def words_found(name_c: str, name_w: str, m: Matcher) -> str:
    """The keywords found in a name with their categories («هایپرمارکت» large_store, ...), longest first,
    a keyword inside a longer found one left out."""
    found = matches(name_c, f" {name_w} ", m)
    kept = [(a, b, c, t) for a, b, c, spec, t in found
            if not any(a2 <= a and b <= b2 and (b2 - a2) > (b - a) for a2, b2, *_ in found)]
    seen: dict[str, tuple[str, list[str]]] = {}  # by the compact keyword: (as written, categories)
    for a, b, c, t in sorted(kept, key=lambda k: (k[0] - k[1], k[0], k[2])):
        cs = seen.setdefault(name_c[a:b], (t, []))[1]
        if c not in cs:
            cs.append(c)
    return "; ".join(f"«{t}» {'/'.join(sorted(cs))}" for t, cs in seen.values())



@functools.cache
def _nonfood() -> frozenset[str]:
    """:data:`~siteplan.guilds.trade_words.NONFOOD_GOODS` as matched (compact, folded)."""
    return frozenset(fold(normalize_compact(w)) for w in NONFOOD_GOODS)
