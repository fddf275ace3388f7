"""The keyword matcher: a catalogue's keywords (and the words of :mod:`~siteplan.guilds.trade_words`)
indexed by their first two letters, found in a normalized name, and the best category they give.

Names and keywords are matched after :func:`siteplan.common.textnorm.normalize` with spaces removed (so
``صاف کاری``, ``صافکاری`` and ``صاف‌کاری`` match alike), spellings folded (:data:`SPELLINGS`), from the
start of a word only; keywords of up to :data:`SHORT_KEYWORD` letters match whole words only.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..common.textnorm import normalize, normalize_compact
from .trade_words import (
    CONTEXT_WORDS,
    DISPUTED_IN_RETAIL,
    DISPUTED_WORDS,
    MAKERS,
    MAKING_WORDS,
    OUTSIDE,
    OUTSIDE_GOODS,
    OUTSIDE_MORE,
    OUTSIDE_OVERRIDES,
    OUTSIDE_TRADES,
    SELLING_WORDS,
    SHARED_KEYWORDS,
    TRADE_GOODS,
)

if TYPE_CHECKING:
    from .catalogue_table import Catalogue

__all__ = [
    "SHORT_KEYWORD",
    "SPELLINGS",
    "STEM_MIN",
    "Found",
    "Matcher",
    "build_matcher",
    "by_name",
    "conflicts",
    "fold",
    "generic_conflict",
    "in_context",
    "matches",
]

#: A keyword found in a name: (start, end in the compact name, category, specificity (2 specific,
#: 1 generic), the keyword as written).
Found = tuple[int, int, str, int, str]


def in_context(code: str | None, name_c: str, name_w: str) -> bool:
    """True when the name holds a word of :data:`CONTEXT_WORDS` of ``code`` (whole words, with their
    «ی»/«ها»/«های» forms; words of several parts anywhere in the compact name)."""
    words = _context_words().get(code or "")
    if not words:
        return False
    toks = set(name_w.split())
    toks |= {t[:-1] for t in toks if t.endswith("ی")} | {t[:-2] for t in toks if t.endswith("ها")} | \
        {t[:-3] for t in toks if t.endswith("های")}
    return any((w in name_c) if several else (w in toks) for w, several in words)


@functools.cache
def _context_words() -> dict[str, tuple[tuple[str, bool], ...]]:
    """:data:`CONTEXT_WORDS` normalized: (the word, compact when of several parts; whether it is)."""
    out = {}
    for code, ws in CONTEXT_WORDS.items():
        norm = [fold(normalize(w)) for w in ws]
        out[code] = tuple((w.replace(" ", ""), " " in w) for w in norm)
    return out


_Kw = tuple[str, str, int, str, str]  # (compact keyword, code, specificity, whole word or "", the keyword as written)


@dataclass(frozen=True)
class Matcher:
    """A catalogue's rules as look-ups: ISIC codes and OSM tags to categories, the keywords (and those of
    trades outside the catalogue) by their first two letters, category names to codes, and the disputed
    words (:data:`~siteplan.guilds.trade_words.DISPUTED_WORDS`), all normalized."""

    isic: dict[str, list[str]]
    osm: dict[str, str]
    keywords: list[_Kw]
    code_norm: dict[str, str]
    by_prefix: dict[str, list[_Kw]]  # keywords by their first two letters
    #: (word, its categories, settling words, words without one of which it is not disputed (none: always))
    disputed: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = ()


def build_matcher(cat: Catalogue) -> Matcher:
    """The look-ups of a catalogue's rules (:class:`Matcher`)."""
    isic: dict[str, list[str]] = {}
    osm: dict[str, str] = {}
    kws: list[_Kw] = []
    code_norm: dict[str, str] = {}
    for r in cat.table.itertuples():
        code_norm[normalize_compact(r.code)] = r.code
        code_norm[normalize_compact(r.name_en)] = r.code
        code_norm[normalize_compact(r.name_fa)] = r.code
        for c in r.isic:
            isic.setdefault(re.sub(r"\D", "", c), []).append(r.code)
        for t in r.osm_tags:
            osm.setdefault(t.strip().lower(), r.code)
        for k in r.keywords_fa + r.keywords_en:
            kws.extend(_keyword(v, r.code, 2, k) for v in _stems(k))
        kws.extend(_keyword(k, r.code, 1) for k in r.generic_fa)
    kws += _outside_keywords(cat, {k[:2] for k in kws})
    # the whole tuple breaks ties (two spellings of one compact keyword): never the set's hash order
    kws = sorted(set(kws), key=lambda t: (-t[2], -len(t[0]), t[1], t[0], t[3], t[4]))
    by_prefix: dict[str, list[_Kw]] = {}
    for k in kws:
        if len(k[0]) >= 2:
            by_prefix.setdefault(k[0][:2], []).append(k)
    entries: list[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [
        (w, codes, unless, ()) for w, (codes, unless) in DISPUTED_WORDS.items()]
    entries += [(w, codes, unless, only) for w, (codes, only, unless) in DISPUTED_IN_RETAIL.items()]
    disputed = tuple((fold(normalize_compact(v)), codes, _compact(unless), _compact(only))
                     for w, codes, unless, only in sorted(entries) for v in _stems(w))
    return Matcher(isic, osm, kws, code_norm, by_prefix, disputed)


def _compact(words: tuple[str, ...]) -> tuple[str, ...]:
    """Words as matched in a compact name (normalized, spaces removed, spellings folded)."""
    return tuple(fold(normalize_compact(w)) for w in words)


def _outside_keywords(cat: Catalogue, have: set[tuple[str, str]]) -> list[_Kw]:
    """The keywords of trades outside the catalogue (:data:`OUTSIDE_TRADES`, :data:`OUTSIDE_MORE`; the
    goods of :data:`OUTSIDE_GOODS` at generic strength) but those a category of ``cat`` has itself
    (``have``: its (compact keyword, code) pairs), and the :data:`SHARED_KEYWORDS` of categories it has."""
    kws = []
    for k, spec in [(k, 2) for k in OUTSIDE_TRADES + OUTSIDE_MORE] + [(k, 1) for k in OUTSIDE_GOODS]:
        if not any((fold(normalize_compact(k)), c) in have for c in cat.codes):  # a category's own keyword wins
            kws.append(_keyword(k, OUTSIDE, spec))
    for k, codes in SHARED_KEYWORDS.items():
        if all(c in cat or c == OUTSIDE for c in codes):
            kws.extend(_keyword(k, c, 2) for c in codes)
    return kws


#: keywords this short (after spaces are removed) match whole words only: «سنگ» not in «سنگک», «رینگ» not
#: in «گالری نگین»
SHORT_KEYWORD = 4


def _keyword(k: str, code: str, spec: int, written: str | None = None) -> _Kw:
    """A keyword as matched: compact and folded, with its whole-word form when it is short."""
    c = fold(normalize_compact(k))
    return (c, code, spec, (f" {fold(normalize(k))} " if len(c) <= SHORT_KEYWORD else ""),
            str(k if written is None else written).strip())


#: Spellings registries use for the same word, folded before matching (names and keywords alike): the
#: long vowel written out («اتوموبیل»), a dropped or added letter of a loan word.
SPELLINGS = (("اتوموبیل", "اتومبیل"), ("الومینیم", "الومینیوم"), ("اگزوس", "اگزوز"), ("کمپیوتر", "کامپیوتر"))
#: A catalogue keyword's agent-noun stem (its final «ی» dropped: «سنگتراشی» -> «سنگتراش», «مبل‌سازی» ->
#: «مبل‌ساز», «پنچرگیری» -> «پنچرگیر») matches too, from keywords of at least this many letters (no
#: spaces); keywords ending «ای»/«یی»/«وی» (an adjective or a vowel's «ی») have no such stem.
STEM_MIN = 6


def fold(s: str) -> str:
    """A normalized text with :data:`SPELLINGS` folded (for matching only)."""
    for a, b in SPELLINGS:
        if a in s:
            s = s.replace(a, b)
    return s


def _stems(k: str) -> list[str]:
    """The keyword and, for a trade's «...ی» noun, its agent-noun stem (see :data:`STEM_MIN`)."""
    w = normalize(k)
    c = w.replace(" ", "")
    if len(c) >= STEM_MIN and c.endswith("ی") and c[-2] not in "ایو":
        return [k, w[:-1]]
    return [k]


def matches(name_compact: str, name_words: str, m: Matcher) -> list[Found]:
    """Every keyword occurrence in the name: (start, end, category, specificity, keyword), found through
    an index of the keywords' first two letters (a few dictionary look-ups per letter of the name)."""
    out = []
    words = name_words or f" {name_compact} "
    starts = _word_starts(words)
    last = len(name_compact) - 1
    for i in sorted(i for i in starts if i < last):  # a keyword matches only from the start of a word
        for kw, code, spec, whole, text in m.by_prefix.get(name_compact[i:i + 2], ()):
            if name_compact.startswith(kw, i) and (not whole or whole in words):
                out.append((i, i + len(kw), code, spec, text))
    return _as_goods(out, name_compact, words) if out else out


def _as_goods(found: list[Found], name_compact: str, name_words: str) -> list[Found]:
    """The keywords found, goods words with a word of their trade made the trade's
    (:data:`~siteplan.guilds.trade_words.TRADE_GOODS`: «پخش لبنیات» a food wholesaler, «ضایعات آلومینیوم»
    scrap), and a selling category's keywords in a name of making and not selling made the maker's
    (:data:`~siteplan.guilds.trade_words.MAKERS`: «تولید میز و صندلی چوبی» carpentry)."""
    cats = {c for _, _, c, _, _ in found}
    goods = _goods_words()
    toks = set(name_words.split())
    making = any(w in toks for w in MAKING_WORDS) and not any(w in name_compact for w in _selling())
    out = []
    for a, b, c, spec, text in found:
        trade = next((t for t in goods if t in cats and t != c and name_compact[a:b] in goods[t]), None)
        code = trade or (MAKERS[c] if making and c in MAKERS else c)
        out.append((a, b, code, spec, text))
    return out


@functools.cache
def _selling() -> tuple[str, ...]:
    """:data:`~siteplan.guilds.trade_words.SELLING_WORDS` as matched."""
    return _compact(SELLING_WORDS)


@functools.cache
def _goods_words() -> dict[str, frozenset[str]]:
    """:data:`~siteplan.guilds.trade_words.TRADE_GOODS` as matched (compact, folded)."""
    return {t: frozenset(_compact(ws)) for t, ws in TRADE_GOODS.items()}


def _word_starts(words: str) -> set[int]:
    """Positions in the compact name (spaces removed) where a word of ``words`` begins; a word written
    joined to the «و» before it («وصافکاری», «ولوازم») begins after the «و».

    A keyword matches only from the start of a word: «لاستیک» not in «پلاستیک», «استور» not in «پاستور»
    (the spaces a registry leaves out inside a keyword, «صاف کاری»/«صافکاری», still match).
    """
    starts, pos = set(), 0
    for t in words.split():
        starts.add(pos)
        if len(t) > 2 and t[0] == "و":
            starts.add(pos + 1)
        pos += len(t)
    return starts


def by_name(name_compact: str, m: Matcher, among: list[str] | None = None, name_words: str = ""
            ) -> tuple[str | None, float, str]:
    """Best keyword match: highest specificity, then longest keyword; a tie between categories is
    ambiguous and gives None, and so are specific keywords of several categories apart from each
    other in the name (see :func:`conflicts`). ``name_words`` is the normalized name with spaces
    around it, for short keywords that must match whole words. Returns (category, confidence, the
    matched keyword); the category is :data:`OUTSIDE` for a trade outside the catalogue."""
    found = [t for t in matches(name_compact, name_words, m) if among is None or t[2] in among] if name_compact else []
    if not found:
        return None, 0.0, ""
    best = max((spec, b - a) for a, b, _, spec, _ in found)
    codes = {c for a, b, c, spec, _ in found if (spec, b - a) == best}
    if len(codes) != 1 or (among is None and _undecided(found, best[0], next(iter(codes)))):
        return None, 0.0, ""
    word = next(t for a, b, c, spec, t in found if (spec, b - a) == best)
    return next(iter(codes)), (0.8 if best[0] == 2 else 0.6), word


def _undecided(found: list[Found], spec: int, code: str) -> bool:
    """True when the words of other trades elsewhere in the name leave the best keyword (of specificity
    ``spec``, giving ``code``) undecided: generic words of two trades («عمده فروشی آهن»: the longer
    cannot decide), specific keywords of several categories apart, or a trade outside the catalogue with
    a catalogue trade's word («عمده فروشی ... عطاری»: a wholesale word with the outside trade's)."""
    if spec == 1 and generic_conflict(found):
        return True
    if spec == 2:
        cs = conflicts(found)
        if len(cs) > 1 and code in cs:
            return True
    return code == OUTSIDE and \
        len(conflicts([t for t in found if not (t[3] == 1 and t[4] in OUTSIDE_OVERRIDES)], generic=True)) > 1


def conflicts(found: list[Found], *, generic: bool = False) -> list[str]:
    """Categories whose specific keywords occur in the name apart from each other (a keyword inside a
    longer matched one, as «تراش» in «سنگتراشی», does not count): «ضایعات مس و آلومینیوم» names scrap
    and metalwork; more than one means the keywords cannot decide. ``generic``: count generic words too."""
    spans = [(a, b, c) for a, b, c, spec, _ in found if spec == 2 or generic]
    return sorted({c for _, _, c in _outer(spans)})


def _outer(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The spans not inside or across a longer one: «تراش» in «سنگتراشی» and «تعمیرگاه ماشین» across
    «ماشین آلات کشاورزی» are read as part of the longer word."""
    return [(a, b, c) for a, b, c in spans
            if not any(a2 < b and a < b2 and (b2 - a2) > (b - a) for a2, b2, _ in spans)]


def generic_conflict(found: list[Found]) -> list[str]:
    """Categories of words of a trade in two places of the name that share no category («عمده فروشی» and
    «آهن»), a word inside a longer found one left out; empty when there are none («گالری» alone names two
    categories in one place: the model may rank them)."""
    kept = _outer([(a, b, c) for a, b, c, *_ in found])
    spans: dict[tuple[int, int], set[str]] = {}
    for a, b, c in kept:
        spans.setdefault((a, b), set()).add(c)
    sets = list(spans.values())
    if any(not (x & y) for i, x in enumerate(sets) for y in sets[i + 1:]):
        return sorted(set().union(*sets))
    return []


