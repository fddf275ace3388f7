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

from ..common.textnorm import normalize, normalize_compact
from ..errors import InputError
from .catalogue import OUTSIDE, OUTSIDE_TRADES
from .ngram_model import FittedNameModel, fitted_model

if TYPE_CHECKING:
    from ..scenario import Scenario
    from .catalogue import Catalogue

__all__ = ["DEFAULT_MIN_CONFIDENCE", "OTHER", "OUTSIDE_TRADES", "NameModel", "train", "apply_fallback",
           "load_corpus", "CORPUS_COLUMNS",
           "review_table", "REVIEW_COLUMNS", "read_labels", "apply_labels", "Calibration", "load_calibration",
           "LABEL_WEIGHT", "CLASS_STATUS", "classify_registry"]

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
        return np.where(np.asarray(agree, dtype=bool), np.maximum(a, np.interp(p, self.model_x, self.model_y)),
                        np.interp(p, self.model_x, self.model_y))

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


def _registry_labels(classified: pd.DataFrame | None) -> tuple[list[str], list[str], list[float]]:
    """Names, categories and weights of the rows classified by a specific rule or an officer's label
    (trades outside the catalogue as :data:`OTHER`)."""
    if classified is None or not len(classified) or "name" not in classified or "class_rule" not in classified:
        return [], [], []
    rule = classified["class_rule"]
    outside = classified["class_outside"].fillna(False).astype(bool) if "class_outside" in classified \
        else pd.Series(False, index=classified.index)
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

    Attributes
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


# ------------------------------------------------------------------------------------------------
# the officer's labels
# ------------------------------------------------------------------------------------------------

#: What a label may say for a trade outside the catalogue.
_OUTSIDE_WORDS = {OTHER, "other", "outside", "none", "خارج", "سایر"}


def _read_label_table(path: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Read the labels CSV as text and check it has the columns :func:`read_labels` needs.

    Parameters
    ----------
    path
        The labels CSV.

    Returns
    -------
    tuple
        The table (every cell text) and its columns keyed by their stripped names.

    Raises
    ------
    InputError
        The file cannot be read, or lacks ``category`` or both of ``biz_id`` and ``name``.
    """
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise InputError(f"classification.labels: cannot read {path}: {e}") from None
    cols = {c.strip(): c for c in df.columns}
    if "category" not in cols or not ({"biz_id", "name"} & set(cols)):
        raise InputError(f"classification.labels {path}: needs a 'category' column and a 'biz_id' or 'name' column "
                         f"(a review.csv with its 'category' column filled is one); found: "
                         f"{', '.join(map(str, df.columns)) or 'none'}")
    return df, cols


def _label_vocabulary(catalogue: Catalogue) -> dict[str, str]:
    """Map every word a label may use (code, English or Persian name, outside words) to its code.

    Parameters
    ----------
    catalogue
        The guild catalogue.

    Returns
    -------
    dict
        Compact-normalized word -> catalogue code, or :data:`OTHER` for a trade outside the catalogue.
    """
    known: dict[str, str] = {}
    for r in catalogue.table.itertuples():
        for v in (r.code, r.name_en, r.name_fa):
            known[normalize_compact(v)] = r.code
    for w in _OUTSIDE_WORDS:
        known[normalize_compact(w)] = OTHER
    return known


def read_labels(path: str | Path, catalogue: Catalogue) -> pd.DataFrame:
    """Read the officer's labels (a filled ``review.csv`` is one).

    Parameters
    ----------
    path
        A CSV (UTF-8, a BOM allowed) with ``category`` and ``biz_id`` and/or ``name``; rows with an empty
        ``category`` are not labelled yet and are skipped. ``category`` is a catalogue code, the
        category's English or Persian name, or ``_other`` (also ``other``/``outside``) for a trade
        outside the catalogue.
    catalogue
        The guild catalogue.

    Returns
    -------
    pandas.DataFrame
        ``biz_id`` (text or None), ``name`` (text or None), ``category`` (a code or :data:`OTHER`), ``row``
        (the file's line number).

    Raises
    ------
    InputError
        The file cannot be read, lacks the columns, or a row's category is unknown (every such row named).
    """
    path = Path(path)
    df, cols = _read_label_table(path)
    known = _label_vocabulary(catalogue)
    out, problems = [], []
    for i, row in enumerate(df.to_dict("records")):
        line = i + 2
        raw = str(row[cols["category"]]).strip()
        if not raw:
            continue
        code = known.get(normalize_compact(raw))
        bid = str(row[cols["biz_id"]]).strip() if "biz_id" in cols else ""
        name = str(row[cols["name"]]).strip() if "name" in cols else ""
        if code is None:
            problems.append(f"classification.labels {path}: row {line} (biz_id {bid or '-'}): category {raw!r} is "
                            f"not a catalogue category (codes: {', '.join(catalogue.codes)}; or _other for a "
                            "trade outside the catalogue)")
            continue
        if not bid and not normalize(name):
            problems.append(f"classification.labels {path}: row {line}: neither biz_id nor name is given")
            continue
        out.append({"biz_id": bid or None, "name": name or None, "category": code, "row": line})
    if problems:
        raise InputError(problems)
    return pd.DataFrame(out, columns=["biz_id", "name", "category", "row"])


def apply_labels(classified: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, tuple[list[str], list[str]]]:
    """Give the labelled businesses their label (by ``biz_id``, else by the same name after normalization).

    Parameters
    ----------
    classified
        Output of :func:`siteplan.guilds.catalogue.classify`.
    labels
        Output of :func:`read_labels`.

    Returns
    -------
    tuple
        A copy of ``classified`` where labelled rows have ``category`` (None for :data:`OTHER`, with
        ``class_outside``), ``class_rule`` and ``class_by`` ``label`` and ``class_conf`` 1; and the labels
        that matched no business (names, categories), for the model to learn.
    """
    out = classified.copy()
    if not len(labels) or not len(out):
        return out, ([], [])
    by_id = {b: c for b, c in zip(labels["biz_id"], labels["category"]) if b is not None}
    by_name = {normalize(n): c for n, c in zip(labels["name"], labels["category"])
               if n is not None and normalize(n)}
    ids = out["biz_id"].astype(str).tolist() if "biz_id" in out else [None] * len(out)
    names = [normalize(n) for n in out["name"]] if "name" in out else [""] * len(out)
    got = [by_id.get(b) if b is not None and b in by_id else by_name.get(n) if n else None
           for b, n in zip(ids, names)]
    hit = np.array([g is not None for g in got])
    if hit.any():
        idx = out.index[hit]
        lab = np.array([g for g in got if g is not None], dtype=object)
        out.loc[idx, "category"] = [None if x == OTHER else x for x in lab]
        out.loc[idx, "class_outside"] = lab == OTHER
        out.loc[idx, "class_rule"] = "label"
        out.loc[idx, "class_by"] = "label"
        out.loc[idx, "class_conf"] = 1.0
        out.loc[idx, "class_note"] = np.where(lab == OTHER, "labelled a trade outside the catalogue", "")
    used_ids = set(b for b in ids if b is not None)
    used_names = set(names)
    rest = labels[[not ((b is not None and b in used_ids) or (n is not None and normalize(n) in used_names))
                   for b, n in zip(labels["biz_id"], labels["name"])]]
    rest = rest[rest["name"].notna()]
    return out, (rest["name"].astype(str).tolist(), rest["category"].tolist())


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
                   model: NameModel | None = None, calibration: Calibration | None = None,
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
    outside = out["class_outside"].fillna(False).to_numpy(dtype=bool)
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
    status = np.where(placed_by_rule, np.where(outside, "outside", "classified"), "review").astype(object)
    category = np.array([c if ok else None for c, ok in zip(rule_cat, placed_by_rule & ~outside)], dtype=object)
    by = np.where(placed_by_rule, out["class_by"].to_numpy(dtype=object), "").astype(object)
    note = out["class_note"].to_numpy(dtype=object).copy()
    best_conf = np.full(n, np.nan)  # calibrated confidence of the model's best category (review.csv)
    if ask.any():
        model = model or train(catalogue, classified, extra, corpus)
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
        conf[pos] = np.where(strong & ~agree, conf[pos], np.where(strong, np.maximum(conf[pos], c1), c1))
        status[pos[take]] = np.where(b1[take] == OTHER, "outside", "classified")
        category[pos[take]] = np.where(b1[take] == OTHER, None, b1[take])
        by[pos[take]] = np.where(strong[take], out["class_by"].to_numpy(dtype=object)[pos[take]], "model")
        note[pos[take]] = np.where(b1[take] == OTHER, [f"name model: a trade outside the catalogue ({q:.2f})"
                                                        for q in p1[take]], "")
        rest = ~take
        conflict = rule[ask] == "conflict"
        best_conf[pos] = np.where(conflict, np.nan, c1)
        note[pos[rest]] = [
            "; ".join(x for x in (str(nt or ""), f"name model: {b} {q:.2f}, then {bb} {qq:.2f}" + (
                " (the officer says which)" if cf else f" (calibrated confidence {cc:.3f} < {min_confidence:g})"))
                if x)
            for nt, b, q, bb, qq, cc, cf in zip(note[pos[rest]], b1[rest], p1[rest], b2[rest], p2[rest], c1[rest],
                                                conflict[rest])]
    left = (status == "review") & ~ask & ~vetoed
    note[left] = [str(x or "") or ("no name" if not h else "rules only (classification.model is off)")
                  for x, h in zip(note[left], has_name[left])]
    out["category"] = pd.Series(category, index=out.index, dtype=object)
    out["class_by"] = by
    # the confidence of the decision taken; a row to review has none (review.csv gives its best candidate's)
    out["class_conf"] = np.round(np.where(status == "review", 0.0, conf), 4)
    out["class_best_conf"] = np.round(best_conf, 4)
    out["class_status"] = status
    out["class_outside"] = status == "outside"
    out["class_note"] = note
    return out


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
    get = lambda c: un[c] if c in un else pd.Series([None] * len(un), index=un.index, dtype=object)  # noqa: E731 - a one-line column getter
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
