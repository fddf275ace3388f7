"""Classification an officer can trust: calibrated confidence, review of the uncertain, labels learnt.

The rules of :func:`siteplan.guilds.catalogue.classify` (an explicit category, ISIC code, OSM tag, keywords) are
followed by a character n-gram name model (scikit-learn ``TfidfVectorizer(analyzer="char_wb",
ngram_range=(2, 4))`` and a multinomial ``LogisticRegression``) trained on

* the catalogue's own terms: each category's Persian and English names and keyword lists, each also
  written with common shop-name words around it (owners' names, "برادران", "کارگاه", ...) that occur
  in every category alike, so the model learns they say nothing about the trade; the trades outside the
  catalogue (:data:`siteplan.guilds.catalogue.OUTSIDE_TRADES`) as the class :data:`OTHER`;
* the rows of the user's own registry that the rules classified with a specific rule (an explicit
  ``category``, an ISIC code, an OSM tag, a specific keyword), spelled as that registry spells them;
* the names of the calibration registries with their true categories (``siteplan/data/classify_corpus.csv``,
  written by ``benchmarks/bench_classify.py --calibrate --write`` from tests/data's calibration registries,
  never from a test registry): how other hands name the trades, in and outside the catalogue;
* the officer's labels (``classification.labels``: biz_id or name → category), weighted
  :data:`LABEL_WEIGHT` times, so a name like a labelled one follows the label.

Every business gets ``class_confidence``: the *calibrated* probability that its category is right, as
measured on calibration registries that are never the test (``siteplan/data/classify_calibration.json``,
written by ``benchmarks/bench_classify.py --calibrate``): per rule kind, its measured precision; for the
model, measured leave one registry out (each calibration registry's names scored by a model trained
without that registry's corpus rows), an isotonic map of its probability to the share of right answers, each step's share smoothed
(right + 1) / (rows + 2), so the model places a name only when its calibration step holds enough rows
(at least 98 all right for 0.99); until then it ranks the candidates of review.csv. A business is placed only when
that confidence is at least ``classification.min_confidence`` (default 0.99: an expected error of at most
1 %); a trade outside the catalogue is left out on the same terms; every other business goes to
``review.csv`` with its best two categories, the words that matched and the model's scores. Training
and prediction are deterministic (fixed ``random_state``, sorted inputs) and vectorized. Only training uses
scikit-learn: the trained model is cached by its training data's hash as plain arrays and predicts in numpy
(:mod:`siteplan.guilds.ngram_model`, scikit-learn's probabilities bit for bit), so a run whose model is cached
never imports scikit-learn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..common.textnorm import normalize
from .catalogue import OUTSIDE, OUTSIDE_TRADES
from .ngram_model import FittedNameModel, fitted_model

if TYPE_CHECKING:
    from .catalogue import Catalogue

__all__ = ["DEFAULT_MIN_CONFIDENCE", "OTHER", "OUTSIDE_TRADES", "NameModel", "train", "load_corpus",
           "CORPUS_COLUMNS", "Calibration", "load_calibration", "LABEL_WEIGHT", "CLASS_STATUS"]

#: Default calibrated confidence at or above which a classification is used (``classification.min_confidence``):
#: an expected error of at most 1 %.
DEFAULT_MIN_CONFIDENCE = 0.99

#: The model's class for trades outside the catalogue: a business given it is never placed.
OTHER = OUTSIDE
#: How many times a labelled name counts in training, against once for a rules-classified one.
LABEL_WEIGHT = 20.0
#: How many times a name of the shipped corpus counts in training.
CORPUS_WEIGHT = 1.0
#: ``class_status`` values: placed on its category, left out as a trade outside the catalogue, or listed
#: in review.csv for the officer.
CLASS_STATUS = ("classified", "outside", "review")

#: Rule kinds whose category the model learns from (see :data:`siteplan.guilds.catalogue.RULE_KINDS`).
_TRUSTED_RULES = ("category", "isic", "osm_tag", "keyword", "outside", "label")
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

#: The columns of the shipped training corpus (``siteplan/data/classify_corpus.csv``): a name, its true
#: category (a catalogue code or :data:`OTHER`) and the calibration registry it comes from.
CORPUS_COLUMNS = ("name", "category", "registry")


def load_corpus(path: str | Path | None = None) -> pd.DataFrame:
    """The shipped training corpus (names of the calibration registries with their true categories).

    Parameters
    ----------
    path
        A CSV with :data:`CORPUS_COLUMNS`; None for the shipped one.

    Returns
    -------
    pandas.DataFrame
        :data:`CORPUS_COLUMNS`, as text.
    """
    if path is None:
        with resources.files("siteplan").joinpath("data/classify_corpus.csv").open("r", encoding="utf-8") as fh:
            df = pd.read_csv(fh, dtype=str, keep_default_na=False)
    else:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return df[list(CORPUS_COLUMNS)]


def _corpus_rows(catalogue: Catalogue, corpus: pd.DataFrame | None) -> tuple[list[str], list[str]]:
    """The corpus's names and categories for this catalogue (a category it lacks is not learnt)."""
    df = load_corpus() if corpus is None else corpus
    keep = set(catalogue.codes) | {OTHER}
    df = df[df["category"].isin(keep) & (df["name"].str.strip() != "")]
    return df["name"].tolist(), df["category"].tolist()


@dataclass(frozen=True)
class Calibration:
    """How sure each way of classifying is, measured on calibration registries (never the test ones).

    Attributes
    ----------
    rules
        Measured precision per rule kind (``keyword``, ``isic``, ``outside``, ...).
    model_x, model_y
        Isotonic map of the model's best probability to the share of right answers (``np.interp``).
    agree_x, agree_y
        The same for names whose generic word (or ISIC code) names the model's best category.
    source
        Which registries, how many rows, when.
    """

    rules: dict[str, float]
    model_x: tuple[float, ...]
    model_y: tuple[float, ...]
    agree_x: tuple[float, ...]
    agree_y: tuple[float, ...]
    source: str = ""

    def model(self, p: np.ndarray, agree: np.ndarray) -> np.ndarray:
        """Calibrated confidence of the model's best category (``agree``: the rules' weak candidate is it)."""
        p = np.asarray(p, dtype=float)
        a = np.interp(p, self.agree_x, self.agree_y) if self.agree_x else np.interp(p, self.model_x, self.model_y)
        out: np.ndarray = np.where(np.asarray(agree, dtype=bool), np.maximum(a, np.interp(p, self.model_x, self.model_y)),
                                   np.interp(p, self.model_x, self.model_y))
        return out

    def to_json(self) -> dict[str, object]:
        """The JSON form (``classify_calibration.json``)."""
        return {"rules": self.rules, "model_x": list(self.model_x), "model_y": list(self.model_y),
                "agree_x": list(self.agree_x), "agree_y": list(self.agree_y), "source": self.source}


def load_calibration(path: str | Path | None = None) -> Calibration:
    """The shipped calibration (``siteplan/data/classify_calibration.json``), or one from ``path``."""
    if path is None:
        with resources.files("siteplan").joinpath("data/classify_calibration.json").open("r", encoding="utf-8") as fh:
            d = json.load(fh)
    else:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
    return Calibration({str(k): float(v) for k, v in d["rules"].items()}, tuple(d["model_x"]), tuple(d["model_y"]),
                       tuple(d.get("agree_x", ())), tuple(d.get("agree_y", ())), str(d.get("source", "")))


def _text(names: pd.Series | list[object]) -> list[str]:
    """What the vectorizer reads: the normalized name, then the same with no spaces."""
    out = []
    for n in names:
        w = normalize(n)
        out.append(f"{w} {w.replace(' ', '')}" if w else "")
    return out


def _catalogue_terms(catalogue: Catalogue) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(0)
    texts: list[str] = []
    labels: list[str] = []
    for r in catalogue.table.itertuples():
        terms = [r.name_fa, r.name_en, *r.keywords_fa, *r.keywords_en, *r.generic_fa]
        for term in terms:
            t = str(term).strip()
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


def _registry_labels(classified: pd.DataFrame | None) -> tuple[list[str], list[str], list[float]]:
    """Names, categories and weights of the rows classified by a specific rule or an officer's label
    (trades outside the catalogue as :data:`OTHER`)."""
    if classified is None or not len(classified) or "name" not in classified or "class_rule" not in classified:
        return [], [], []
    rule = classified["class_rule"]
    outside = classified["class_outside"].fillna(value=False).astype(bool) if "class_outside" in classified \
        else pd.Series(data=False, index=classified.index)
    cat = classified["category"].where(~outside, OTHER)
    ok = cat.notna() & classified["name"].notna() & rule.isin(_TRUSTED_RULES)
    rows = pd.DataFrame({"name": classified.loc[ok, "name"].astype(str), "category": cat[ok].astype(str),
                         "w": np.where(rule[ok] == "label", LABEL_WEIGHT, 1.0)})
    rows = rows[rows["name"].str.strip() != ""]
    rows = rows.sort_values(["w", "category", "name"], ascending=[False, True, True], kind="mergesort")
    lab = rows[rows["w"] > 1]
    rest = rows[rows["w"] <= 1].groupby("category", sort=True, group_keys=False).head(_MAX_PER_CATEGORY)
    rows = pd.concat([lab, rest])
    return rows["name"].tolist(), rows["category"].tolist(), rows["w"].tolist()


@dataclass
class NameModel:
    """A trained name classifier (see the module docstring).

    Parameters
    ----------
    fitted
        The vectorizer and classifier as arrays: scikit-learn's predictions in numpy
        (:class:`siteplan.guilds.ngram_model.FittedNameModel`).
    classes
        The categories it knows (:data:`OTHER` among them), in the order of its probabilities.
    n_catalogue, n_registry
        Its training rows from the catalogue and corpus, and from the registry and labels.
    """

    fitted: FittedNameModel
    classes: list[str]
    n_catalogue: int
    n_registry: int

    def proba_of(self, names: list[object], classes: list[str]) -> np.ndarray:
        """The model's probability of each of ``classes`` (0 for one it does not know), per name."""
        proba = self.fitted.predict_proba(_text(names))
        pos = {c: i for i, c in enumerate(self.classes)}
        return np.stack([proba[:, pos[c]] if c in pos else np.zeros(len(names)) for c in classes], axis=1)

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
        proba = self.fitted.predict_proba(texts)
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


def train(catalogue: Catalogue, classified: pd.DataFrame | None = None,
          extra: tuple[list[str], list[str]] | None = None, corpus: pd.DataFrame | None = None) -> NameModel:
    """Train the name model on the catalogue's terms, a registry's rule-classified rows and labels.

    Parameters
    ----------
    catalogue
        The guild catalogue (with a scenario's overrides: added keywords are learnt too).
    classified
        Output of :func:`siteplan.guilds.catalogue.classify` (after :func:`apply_labels`), or None.
    extra
        Labelled names that match no business of the registry (names, categories), learnt as labels.
    corpus
        Names with known categories (:data:`CORPUS_COLUMNS`); None for the shipped corpus
        (:func:`load_corpus`), an empty frame for none.

    Returns
    -------
    NameModel
    """
    texts, labels, weights, n_catalogue = _training_data(catalogue, classified, extra, corpus)
    fitted = fitted_model(texts, labels, weights)  # cached by the training data's hash; trained with scikit-learn
    return NameModel(fitted, list(fitted.classes), n_catalogue, len(texts) - n_catalogue)


def _training_data(catalogue: Catalogue, classified: pd.DataFrame | None = None,
                   extra: tuple[list[str], list[str]] | None = None, corpus: pd.DataFrame | None = None
                   ) -> tuple[list[str], list[str], np.ndarray, int]:
    """What :func:`train` learns from (its parameters).

    Returns
    -------
    tuple
        The texts the vectorizer reads, their categories, their weights, and how many of the rows (the
        first) come from the catalogue and the corpus.
    """
    ct, cl = _catalogue_terms(catalogue)
    st, sl = _corpus_rows(catalogue, corpus)
    rt, rl, rw = _registry_labels(classified)
    et, el = extra or ([], [])
    texts = _text(ct + st + rt + list(et))
    labels = cl + sl + rl + list(el)
    weights = np.array([1.0] * len(ct) + [CORPUS_WEIGHT] * len(st) + rw + [LABEL_WEIGHT] * len(et))
    return texts, labels, weights, len(ct) + len(st)
