"""Learned fallback for business names the catalogue's keywords miss.

A character n-gram model (scikit-learn ``TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4))`` and a
multinomial ``LogisticRegression``) is trained on

* the catalogue's own terms: each category's Persian and English names and keyword lists, each also
  written with common shop-name words around it (owners' names, "برادران", "کارگاه", ...) that occur
  in every category alike, so the model learns they say nothing about the trade; and
* the rows of the user's own registry that the rules classified with high confidence (an explicit
  ``category``, an ISIC code, an OSM tag, or a specific keyword of the name) — their names, spelled
  as that registry spells them.

Names are compared after :func:`siteplan.textnorm.normalize` (Arabic ي/ك, ZWNJ, digits) and also with
their spaces removed, so «صاف کاری» and «صافکاری» look alike. For each business the rules left
unclassified, the model gives a probability per category: at or above ``min_confidence`` the business
is classified with ``class_by = "model"``; below it nothing is guessed and the business goes to
``review.csv`` with its best two categories, for the officer to label (a ``category`` column in the
registry) and run again. Training and prediction are deterministic (fixed ``random_state``, sorted
inputs) and vectorized: 10^5 names in a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .textnorm import normalize

if TYPE_CHECKING:
    from .guilds import Catalogue

__all__ = ["DEFAULT_MIN_CONFIDENCE", "OTHER", "OUTSIDE_TRADES", "NameModel", "train", "apply_fallback", "review_table",
           "REVIEW_COLUMNS"]

#: Default probability at or above which the model's category is taken (``classification.min_confidence``);
#: chosen on the development registry tests/data/registry_fa.csv, checked on the held-out one
#: (benchmarks/bench_classify.py).
DEFAULT_MIN_CONFIDENCE = 0.5

#: How rules' classifications count as labels for training: these ``class_by`` values always, and
#: ``name`` (a keyword match) at this confidence or more (a specific keyword, not a generic word).
_TRUSTED_BY = ("category", "isic", "isic+name", "osm")
_TRUSTED_NAME_CONF = 0.8
#: At most this many registry rows per category are used for training (deterministic choice).
_MAX_PER_CATEGORY = 500

#: Words found in shop names of every trade: owners' and family names, places, honorifics, shop words.
#: Written around the catalogue's terms in training so the model learns they carry no category.
_FILLERS = (
    "برادران", "حاج", "آقا", "استاد", "محمدی", "حسینی", "رضایی", "احمدی", "کریمی", "موسوی", "جعفری",
    "قاسمی", "رحیمی", "صادقی", "نوری", "کاظمی", "اکبری", "عباسی", "محمد", "علی", "حسن", "رضا", "مهدی",
    "پارس", "ایران", "نوین", "الماس", "ستاره", "البرز", "آریا", "سپهر", "امید", "نگین", "شماره 2",
    "کارگاه", "فروشگاه", "شرکت", "مرکز", "گروه", "تولیدی", "واحد", "خدمات",
)
_N_FILLED = 4  # filled copies of each catalogue term

#: The model's class for trades outside the catalogue: a business it gives this class is never classified.
OTHER = "_other"
#: Trades a provincial registry holds that are none of the catalogue's categories (bakeries, barbers,
#: pharmacies, ...): learnt as :data:`OTHER` so that «نانوایی سنگک» is not taken for stone cutting.
#: A category added to the catalogue wins over these words only where its keywords match.
OUTSIDE_TRADES = (
    "نانوایی", "نانوایی سنگکی", "نانوایی لواش", "نان بربری", "آرایشگاه", "آرایشگاه زنانه", "پیرایش مردانه",
    "داروخانه", "بیمه", "نمایندگی بیمه", "کافی شاپ", "قهوه خانه", "رستوران", "چلوکبابی", "اغذیه فروشی",
    "ساندویچی", "فست فود", "پیتزا", "لبنیات", "قصابی", "مرغ فروشی", "میوه فروشی", "سبزی فروشی",
    "خواربار فروشی", "بقالی", "شیرینی فروشی", "قنادی", "آجیل فروشی", "پوشاک", "بوتیک", "کفش فروشی",
    "طلا فروشی", "جواهری", "عینک سازی", "خیاطی", "تعمیر موبایل", "موبایل فروشی", "کتاب فروشی",
    "گل فروشی", "دفتر پیشخوان", "دفتر خدمات", "مشاور املاک", "املاک", "آژانس مسافرتی", "آژانس تاکسی",
    "خشکشویی", "عکاسی", "مطب", "دندانپزشکی", "آموزشگاه", "باشگاه ورزشی", "تالار پذیرایی", "صرافی",
    "ساعت فروشی", "اسباب بازی", "لوازم آرایشی", "عطاری", "دامپزشکی", "آبمیوه بستنی", "بستنی فروشی",
    "کفاشی", "تعمیر کفش", "تعمیر لوازم خانگی", "لوازم خانگی", "تعمیر کولر گازی", "چاپ و تبلیغات", "چاپخانه",
    "افست", "قالیشویی", "فرش فروشی", "سوپر گوشت", "آموزشگاه رانندگی", "خشکشویی و اتوشویی", "کلینیک",
    "آزمایشگاه طبی", "لوازم التحریر", "نوشت افزار", "پرده فروشی", "لباس عروس", "مزون", "شیرینی سرا",
    "کبابی", "حلیم پزی", "کله پزی", "دفتر اسناد رسمی", "دفتر ازدواج", "باربری", "تاکسی تلفنی",
)


def _text(names: pd.Series | list[object]) -> list[str]:
    """What the vectorizer reads: the normalized name, then the same with no spaces."""
    out = []
    for n in names:
        w = normalize(n)
        out.append(f"{w} {w.replace(' ', '')}" if w else "")
    return out


def _catalogue_terms(catalogue: "Catalogue") -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(0)
    texts: list[str] = []
    labels: list[str] = []
    for r in catalogue.table.itertuples():
        terms = [r.name_fa, r.name_en, *r.keywords_fa, *r.keywords_en, *r.generic_fa]
        for t in terms:
            t = str(t).strip()
            if not t:
                continue
            texts.append(t)
            labels.append(r.code)
            for _ in range(_N_FILLED):
                a, b = rng.choice(len(_FILLERS), size=2, replace=False)
                texts.append(f"{_FILLERS[a]} {t} {_FILLERS[b]}" if rng.random() < 0.5 else f"{t} {_FILLERS[a]}")
                labels.append(r.code)
    for t in OUTSIDE_TRADES:
        texts.append(t)
        labels.append(OTHER)
        for _ in range(_N_FILLED):
            a = int(rng.integers(len(_FILLERS)))
            texts.append(f"{t} {_FILLERS[a]}")
            labels.append(OTHER)
    # the fillers alone belong to every category alike
    for f in _FILLERS:
        for code in catalogue.codes:
            texts.append(f)
            labels.append(code)
    return texts, labels


def _registry_labels(classified: pd.DataFrame | None) -> tuple[list[str], list[str]]:
    """Names and categories of the rows the rules classified with high confidence."""
    if classified is None or not len(classified) or "name" not in classified:
        return [], []
    by = classified["class_by"]
    ok = classified["category"].notna() & classified["name"].notna() & (
        by.isin(_TRUSTED_BY) | ((by == "name") & (classified["class_conf"] >= _TRUSTED_NAME_CONF)))
    rows = classified.loc[ok, ["name", "category"]].astype(str)
    rows = rows[rows["name"].str.strip() != ""]
    rows = rows.sort_values(["category", "name"], kind="mergesort")
    rows = rows.groupby("category", sort=True, group_keys=False).head(_MAX_PER_CATEGORY)
    return rows["name"].tolist(), rows["category"].tolist()


@dataclass
class NameModel:
    """A trained name classifier (see the module docstring)."""

    vectorizer: object
    model: object
    classes: list[str]
    n_catalogue: int
    n_registry: int

    def predict(self, names: pd.Series | list[object]) -> pd.DataFrame:
        """Best two categories and their probabilities for each name.

        Returns
        -------
        pandas.DataFrame
            ``best1``, ``p1``, ``best2``, ``p2`` (one row per name, same order; empty names get
            no category and probability 0).
        """
        texts = _text(names)
        n = len(texts)
        if n == 0:
            return pd.DataFrame({"best1": [], "p1": [], "best2": [], "p2": []})
        proba = self.model.predict_proba(self.vectorizer.transform(texts))  # type: ignore[attr-defined]
        order = np.argsort(-proba, axis=1, kind="stable")[:, :2]
        cls = np.asarray(self.classes, dtype=object)
        rows = np.arange(n)
        p1 = proba[rows, order[:, 0]]
        p2 = proba[rows, order[:, 1]] if proba.shape[1] > 1 else np.zeros(n)
        b1 = cls[order[:, 0]]
        b2 = cls[order[:, 1]] if proba.shape[1] > 1 else np.full(n, None, dtype=object)
        empty = np.array([t == "" for t in texts])
        p1 = np.where(empty, 0.0, p1)
        p2 = np.where(empty, 0.0, p2)
        b1 = b1.astype(object)
        b2 = b2.astype(object)
        b1[empty] = None
        b2[empty] = None
        return pd.DataFrame({"best1": b1, "p1": np.round(p1, 4), "best2": b2, "p2": np.round(p2, 4)})


def train(catalogue: "Catalogue", classified: pd.DataFrame | None = None) -> NameModel:
    """Train the name model on the catalogue's terms and a registry's confidently classified rows.

    Parameters
    ----------
    catalogue
        The guild catalogue (with a scenario's overrides: added keywords are learnt too).
    classified
        Output of :func:`siteplan.guilds.classify` (``name``, ``category``, ``class_by``,
        ``class_conf``), or None.

    Returns
    -------
    NameModel
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    ct, cl = _catalogue_terms(catalogue)
    rt, rl = _registry_labels(classified)
    texts = _text(ct + rt)
    labels = cl + rl
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=1, dtype=np.float32)
    clf = LogisticRegression(C=20.0, max_iter=1000, tol=1e-3, random_state=0)
    from ._cache import fit_name_model

    vec, clf = fit_name_model(vec, clf, texts, labels)  # cached by the training data's hash
    return NameModel(vec, clf, [str(c) for c in clf.classes_], len(ct), len(rt))


#: The columns of ``review.csv``.
REVIEW_COLUMNS = ("biz_id", "name", "best1", "p1", "best2", "p2", "reason")


def apply_fallback(classified: pd.DataFrame, catalogue: "Catalogue", min_confidence: float = DEFAULT_MIN_CONFIDENCE,
                   model: NameModel | None = None) -> pd.DataFrame:
    """Classify, with the name model, the businesses the rules left unclassified.

    Parameters
    ----------
    classified
        Output of :func:`siteplan.guilds.classify`.
    catalogue
        The guild catalogue.
    min_confidence
        Probability at or above which the model's best category is taken.
    model
        A trained model; by default one is trained on ``catalogue`` and ``classified``.

    Returns
    -------
    pandas.DataFrame
        A copy: rows taken by the model get ``category``, ``class_by = "model"`` and ``class_conf`` (the
        probability); every row the model looked at gets ``class_best1``, ``class_p1``, ``class_best2``,
        ``class_p2`` (see :func:`review_table`); the others keep them empty.
    """
    out = classified.copy()
    for c in ("class_best1", "class_best2"):
        out[c] = pd.Series([None] * len(out), index=out.index, dtype=object)
    for c in ("class_p1", "class_p2"):
        out[c] = np.nan
    # a name whose only keyword is a generic word of a trade («تعمیر», «گالری», «پخش») is for the model
    # to decide with the rest of the name: «تعمیر کفش» is no car repair
    generic = ((out["class_by"] == "name") & (out["class_conf"] < _TRUSTED_NAME_CONF)).to_numpy()
    todo = out["category"].isna().to_numpy() | generic
    if "name" in out:
        todo &= out["name"].map(lambda v: bool(normalize(v))).to_numpy(dtype=bool)
    else:
        todo[:] = False
    if not todo.any():
        return out
    model = model or train(catalogue, classified)
    pred = model.predict(out.loc[todo, "name"].tolist())
    idx = out.index[todo]
    out.loc[idx, "class_best1"] = pred["best1"].to_numpy()
    out.loc[idx, "class_p1"] = pred["p1"].to_numpy()
    out.loc[idx, "class_best2"] = pred["best2"].to_numpy()
    out.loc[idx, "class_p2"] = pred["p2"].to_numpy()
    take = (pred["p1"].to_numpy() >= min_confidence) & (pred["best1"].to_numpy() != OTHER)
    # ... for a generic word, the model's other category only when the word's is not among its best two
    rule_cat = out.loc[idx, "category"].to_numpy()
    in_top2 = (rule_cat == pred["best1"].to_numpy()) | (rule_cat == pred["best2"].to_numpy())
    take &= ~(generic[out.index.get_indexer(idx)] & in_top2 & (rule_cat != pred["best1"].to_numpy()))
    tidx = idx[take]
    out.loc[tidx, "category"] = pred["best1"].to_numpy()[take]
    out.loc[tidx, "class_by"] = "model"
    out.loc[tidx, "class_conf"] = pred["p1"].to_numpy()[take]
    out.loc[tidx, "class_note"] = ""
    # a generic word's category stands unless the model is sure the name is a trade outside the catalogue
    is_gen = generic[out.index.get_indexer(idx)]
    veto = (pred["p1"].to_numpy() >= min_confidence) & (pred["best1"].to_numpy() == OTHER)
    keep = is_gen & ~take & ~veto
    vidx = idx[is_gen & veto]
    out.loc[vidx, "class_note"] = ("a generic word of " + out.loc[vidx, "category"].astype(str)
                                   + " in the name, but the name is of another trade")
    out.loc[vidx, "category"] = None
    out.loc[vidx, "class_by"] = "unclassified"
    out.loc[vidx, "class_conf"] = 0.0
    ridx = idx[~take & ~keep]
    out.loc[ridx, "class_note"] = [
        (f"{note}; name model: a trade outside the catalogue ({p1:.2f}; next {b2} {p2:.2f}): listed in review.csv"
         if b1 == OTHER else
         f"{note}; name model not sure ({b1} {p1:.2f}, {b2} {p2:.2f} < {min_confidence:g}): listed in review.csv")
        for note, b1, p1, b2, p2 in zip(out.loc[ridx, "class_note"], pred["best1"][~take], pred["p1"][~take],
                                         pred["best2"][~take], pred["p2"][~take])]
    return out


def review_table(classified: pd.DataFrame) -> pd.DataFrame:
    """The businesses left unclassified, for the officer to label (``review.csv``).

    Parameters
    ----------
    classified
        Output of :func:`apply_fallback` (or :func:`siteplan.guilds.classify`).

    Returns
    -------
    pandas.DataFrame
        :data:`REVIEW_COLUMNS`: the id, the name, the model's best two categories with their
        probabilities (empty when the model did not look at the row, e.g. no name) and why the rules
        did not classify it; most probable first.
    """
    un = classified[classified["category"].isna()]
    get = lambda c: un[c] if c in un else pd.Series([None] * len(un), index=un.index, dtype=object)  # noqa: E731
    t = pd.DataFrame({
        "biz_id": get("biz_id"), "name": get("name"), "best1": get("class_best1"), "p1": get("class_p1"),
        "best2": get("class_best2"), "p2": get("class_p2"), "reason": get("class_note"),
    })
    for c in ("p1", "p2"):  # probabilities to 4 decimals (float32 noise says nothing to an officer)
        t[c] = pd.to_numeric(t[c], errors="coerce").astype("float64").round(4)
    return t.sort_values("p1", ascending=False, na_position="last", kind="mergesort").reset_index(drop=True)
