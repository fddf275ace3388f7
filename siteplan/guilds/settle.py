"""Rules that settle names the keywords alone leave open (issue #28): a misspelt trade word, a store's branch,
a school of a trade, a bicycle's parts or repair, a department store of goods outside the catalogue, and an
ISIC code of the same division as the name's keyword.

Each rule is general knowledge of Iranian guild registries (how clerks write, what a union covers), checked on
the calibration registries only (never on a test registry); :func:`~siteplan.guilds.rule_cascade.classify`
applies them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from ..common.textnorm import normalize
from .keyword_match import fold
from .trade_words import OUTSIDE, OUTSIDE_MORE, OUTSIDE_TRADES

if TYPE_CHECKING:
    from .keyword_match import Matcher

__all__ = [
    "BICYCLE_WORDS",
    "BRANCH_WORDS",
    "CHAIN_BRANDS",
    "DEPARTMENT_WORDS",
    "SCHOOL_WORDS",
    "SPELL_MIN",
    "VEHICLE_TRADES",
    "WHOLESALE_FILLERS",
    "correct_spelling",
    "nonspecialised_wholesale",
    "settle_conflict",
    "spelling_vocabulary",
    "store_branch",
]

#: Words of a school or training centre: a school of a trade («آموزشگاه جوشکاری و تراشکاری», «آموزشگاه آزاد
#: مکانیک خودرو») is education, a trade outside the catalogue, whatever trade it teaches (whole words).
SCHOOL_WORDS = ("آموزشگاه", "آموزش", "هنرستان", "هنرکده", "فنی و حرفه ای", "مرکز آموزش", "آموزشکده")
#: Bicycles: their parts, paint or repair («لوازم یدکی دوچرخه», «تعمیر دوچرخه و اسکوتر») are a bicycle shop,
#: outside the catalogue, not a car trade.
BICYCLE_WORDS = ("دوچرخه", "دوچرخه سازی", "دوچرخه فروشی")
#: The car trades a bicycle word turns into a trade outside the catalogue.
VEHICLE_TRADES = ("car_parts", "car_repair", "car_body_paint", "car_showroom", "car_wash_oil")
#: A department store («فروشگاه بزرگ», an outlet, a shopping centre): with goods of trades outside the
#: catalogue (clothes, household goods, toys) it is still a large store — the goods are what it sells.
DEPARTMENT_WORDS = ("فروشگاه بزرگ", "اوتلت", "مرکز خرید", "فروشگاه چند منظوره", "فروشگاه چندمنظوره", "مگا استور")
#: A branch: a store («فروشگاه») or a chain's brand with a branch number («فروشگاه کوثر شعبه ۳», «شهروند
#: شعبه ونک») is a chain store when nothing else in the name names a trade.
BRANCH_WORDS = ("شعبه",)
#: Brands of Iranian chain stores (general knowledge; a brand alone with «شعبه» names the chain).
CHAIN_BRANDS = ("فروشگاه", "شهروند", "رفاه", "افق کوروش", "کوروش", "اتکا", "جانبو", "هفت حصین", "سپه", "کوثر",
                "ویستا", "یاس", "قدس", "امید", "تعاونی")
#: Words of a wholesaler's name that name no goods: the firm, its reach, its trade's own words (the rest is
#: its owner's or brand's name). A wholesale word («پخش», «عمده فروشی», «توزیع», «بنکداری») with these and at
#: most :data:`OWNER_WORDS` words more is a wholesaler of no named goods: non-specialised wholesale, ISIC 4690,
#: which the catalogue counts under ``wholesale_food`` («شرکت پخش البرز», «عمده فروشی برادران طهرانی»).
WHOLESALE_FILLERS = ("شرکت", "برادران", "سراسری", "و", "پخش", "عمده", "فروشی", "فروش", "عمده فروشی", "توزیع",
                     "بنکداری", "بنکدار", "مویرگی", "انبار", "مرکز", "گروه", "حاج", "آقای", "شعبه", "سهامی", "خاص")
OWNER_WORDS = 2
#: Misspelt words are corrected to a trade word of at least this many letters, and only words of at least
#: ``SPELL_MIN - 1`` letters are corrected (one letter dropped, added, changed or two swapped).
SPELL_MIN = 6


def _tokens(text: str) -> set[str]:
    """The words of a text, normalized and folded."""
    return set(fold(normalize(text)).split())


def _has(words: tuple[str, ...], toks: set[str], name_w: str) -> bool:
    """Any of ``words`` in the name: whole words, several-word ones as a phrase."""
    for w in words:
        n = fold(normalize(w))
        if (" " in n and f" {n} " in f" {name_w.strip()} ") or n in toks:
            return True
    return False


def settle_conflict(cands: list[str], name_w: str) -> tuple[str | None, str]:
    """The category (or :data:`OUTSIDE`) that settles keywords of several categories (``cands``) and why, or
    (None, "").

    A school of a trade is a school (:data:`SCHOOL_WORDS`); a bicycle word with car trades' words is a bicycle
    shop (:data:`BICYCLE_WORDS`); a department store (:data:`DEPARTMENT_WORDS`) with goods of trades outside
    the catalogue is a large store.
    """
    toks = set(name_w.split())
    cs = set(cands)
    shown = ", ".join("a trade outside the catalogue" if c == OUTSIDE else c for c in cands)
    if OUTSIDE in cs and _has(SCHOOL_WORDS, toks, name_w):
        return OUTSIDE, f"a school of a trade, outside the catalogue (keywords of {shown})"
    if OUTSIDE in cs and cs - {OUTSIDE} <= set(VEHICLE_TRADES) and _has(BICYCLE_WORDS, toks, name_w):
        return OUTSIDE, f"a bicycle shop, outside the catalogue (keywords of {shown})"
    if cs == {OUTSIDE, "large_store"} and _has(DEPARTMENT_WORDS, toks, name_w):
        return "large_store", f"a department store of goods (keywords of {shown})"
    return None, ""


def store_branch(name_w: str) -> bool:
    """A store or a chain's brand with a branch word (:data:`BRANCH_WORDS`, :data:`CHAIN_BRANDS`): a chain
    store, for a name in which no keyword is found."""
    toks = set(name_w.split())
    return _has(BRANCH_WORDS, toks, name_w) and _has(CHAIN_BRANDS, toks, name_w)


def nonspecialised_wholesale(name_w: str) -> bool:
    """A wholesaler's name that names no goods (see :data:`WHOLESALE_FILLERS`): at most :data:`OWNER_WORDS`
    words (digits aside) besides the wholesale words and fillers."""
    fill = {fold(normalize(w)) for w in WHOLESALE_FILLERS}
    rest = [t for t in name_w.split() if t not in fill and not t.isdigit()]
    return len(rest) <= OWNER_WORDS


def correct_spelling(name_w: str, vocab: tuple[frozenset[str], frozenset[str]]) -> tuple[str, list[tuple[str, str]]]:
    """The name with each word that is no known word but one slip away from exactly one trade word of at least
    :data:`SPELL_MIN` letters replaced by it («صافکری» -> «صافکاری», «ضایغات» -> «ضایعات», «فوشگاه» ->
    «فروشگاه»; see :func:`_edits`), and the corrections made. ``vocab``: :func:`spelling_vocabulary`."""
    fixed, done = [], []
    for t in name_w.split():
        v = _correction(t, *vocab)
        fixed.append(v or t)
        if v:
            done.append((t, v))
    return " ".join(fixed), done


@functools.lru_cache(maxsize=1 << 16)
def _correction(t: str, vocab: frozenset[str], long_words: frozenset[str]) -> str | None:
    """The one trade word of ``long_words`` a slip away from the word ``t`` (see :func:`_edits`), or None (a
    known word, a short one, a number, or none or several near)."""
    if len(t) < SPELL_MIN - 1 or t in vocab or (t[0] == "و" and t[1:] in vocab) or any(ch.isdigit() for ch in t):
        return None
    if any(t[:k] in vocab for k in range(4, len(t))):  # a known word's form («اسقاطی» of «اسقاط»)
        return None
    near = _edits(t) & long_words
    return next(iter(near)) if len(near) == 1 else None


@functools.cache
def _vocab_of(keywords: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """Every word of the keywords, and those of at least :data:`SPELL_MIN` letters."""
    words = set()
    for k in keywords:
        words |= _tokens(k)
    return frozenset(words), frozenset(w for w in words if len(w) >= SPELL_MIN)


def spelling_vocabulary(m: Matcher) -> tuple[frozenset[str], frozenset[str]]:
    """The words of the matcher's keywords (as written) and of the trades outside the catalogue, and those of
    at least :data:`SPELL_MIN` letters (the words a slip is corrected to)."""
    return _vocab_of(tuple(sorted({k[4] for k in m.keywords} | {k[0] for k in m.keywords} | set(OUTSIDE_TRADES)
                                  | set(OUTSIDE_MORE))))


_LETTERS = "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیآئ"
#: Letters a clerk writes for one another: the same shape with other dots (ب پ ت ث ن ی, ج چ ح خ, د ذ,
#: ر ز ژ, س ش, ص ض, ط ظ, ع غ, ف ق, ک گ) or the same sound (س ص ث, ز ذ ض ظ, ت ط, ه ح, ق غ, ا آ).
_ALIKE = ("بپتثنی", "جچحخ", "دذ", "رزژ", "سش", "صض", "طظ", "عغ", "فق", "کگ", "سصث", "زذضظ", "تط", "هح", "قغ", "اآ")


@functools.cache
def _alike() -> dict[str, str]:
    """Each letter's look-alikes and sound-alikes (:data:`_ALIKE`)."""
    out: dict[str, str] = {}
    for group in _ALIKE:
        for ch in group:
            out[ch] = "".join(sorted(set(out.get(ch, "")) | set(group) - {ch}))
    return out


def _edits(w: str) -> set[str]:
    """Every word one slip from ``w``: a letter dropped or added (not after its end: a suffix makes another word,
    «سامان» and «سامانه»), two neighbours swapped, or a letter written for one that looks or sounds alike
    (:data:`_ALIKE`; «پرسکاری» is not «پرستاری»)."""
    alike = _alike()
    splits = [(w[:i], w[i:]) for i in range(len(w) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in alike.get(b[0], "")}
    out |= {a + c + b for a, b in splits[:-1] for c in _LETTERS}  # not at the end: «حسینی» is no «حسینیه»
    out.discard(w)
    return out
