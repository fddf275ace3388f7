"""The name model's arithmetic in numpy: scikit-learn's answers, bit for bit, without importing it.

:mod:`siteplan.guilds.name_model` trains a scikit-learn ``TfidfVectorizer(analyzer="char_wb",
ngram_range=(2, 4), sublinear_tf=True, dtype=float32)`` and ``LogisticRegression`` (:data:`VECTORIZER`,
:data:`CLASSIFIER`). Only training needs scikit-learn (about 1.6 s of CPU to import); a
:class:`FittedNameModel` keeps what prediction reads — the vocabulary, the idf weights, the coefficients,
the intercepts and the classes — and reproduces ``vectorizer.transform`` then ``predict_proba`` with the
same operations in the same order on the same dtypes:

* the ``char_wb`` analyzer (lower case, runs of white space folded, each word padded with a space, its
  2- to 4-grams, a word shorter than ``n`` counted once);
* counts as float32, ``log(count) + 1`` (float32), times the idf (float32), each row divided by its l2
  norm: the squares (float32) summed in float64 in column order, as scikit-learn's Cython loop sums them;
* ``x @ coef.T + intercept`` by scipy's sparse product, then scikit-learn's softmax (several classes) or
  logistic (two classes).

``tests/test_name_model_numpy.py`` checks ``np.array_equal`` against scikit-learn on the shipped corpus
and on registries. The fitted model is cached by its training data's hash in the user's cache folder
(:func:`siteplan.common.usercache.cache_dir`) as an ``.npz`` of plain arrays read with
``allow_pickle=False`` (never a pickle), only from a file the user owns and nobody else may write; a file
that does not load or does not fit together is trained again.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..common.usercache import cache_dir, safe_file, store_file, versions_key

log = logging.getLogger(__name__)

__all__ = ["VECTORIZER", "CLASSIFIER", "FittedNameModel", "char_wb_ngrams", "fit_here", "fitted_model", "training_key"]

#: ``TfidfVectorizer``'s settings (the others are scikit-learn's defaults, checked after fitting).
VECTORIZER: dict[str, Any] = {"analyzer": "char_wb", "ngram_range": (2, 4), "sublinear_tf": True, "min_df": 1,
                              "dtype": "float32"}
#: ``LogisticRegression``'s settings.
CLASSIFIER: dict[str, Any] = {"C": 20.0, "max_iter": 1000, "tol": 1e-3, "random_state": 0}
#: scikit-learn defaults :meth:`FittedNameModel.transform` reproduces (checked on the fitted vectorizer).
_REPRODUCED = {"lowercase": True, "strip_accents": None, "preprocessor": None, "norm": "l2", "use_idf": True,
               "input": "content", "vocabulary": None, "binary": False}
#: bump when the cached file's content changes
_FORMAT = "npz 1"
#: fitted models kept in memory (most recent)
_MEMORY_SLOTS = 4
_MEMORY: OrderedDict[str, FittedNameModel] = OrderedDict()
_WHITE_SPACES = re.compile(r"\s\s+")  # scikit-learn's _VectorizerMixin._white_spaces


def _word_grams(word: str, min_n: int, max_n: int) -> list[str]:
    """The n-grams of one word padded with a space each side (scikit-learn's ``_char_wb_ngrams`` loop)."""
    w = f" {word} "
    size = len(w)
    grams: list[str] = []
    for n in range(min_n, max_n + 1):
        if size <= n:  # a word no longer than n gives itself, once, and no longer n-grams
            grams.append(w)
            break
        grams += [w[o:o + n] for o in range(size - n + 1)]
    return grams


def _words(doc: str) -> list[str]:
    """The words ``char_wb`` reads: lower case, runs of white space folded, split on white space."""
    return _WHITE_SPACES.sub(" ", doc.lower()).split()


def char_wb_ngrams(doc: str, ngram_range: tuple[int, int] = (2, 4)) -> list[str]:
    """scikit-learn's ``char_wb`` analyzer (with ``lowercase=True``): the n-grams of each padded word.

    Parameters
    ----------
    doc
        A text.
    ngram_range
        The smallest and largest ``n``.

    Returns
    -------
    list of str
        The n-grams in scikit-learn's order (per word, per ``n``, left to right).
    """
    return [g for w in _words(doc) for g in _word_grams(w, *ngram_range)]


def _row_sums_in_order(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Each CSR row's sum, added left to right from 0.0 (as a C loop does; ``np.add.reduceat`` sums pairwise).

    Step ``k`` adds the ``k``-th value of every row that has one: the rows longest first, so those are a
    prefix; O(number of values).
    """
    lens = np.diff(indptr)
    order = np.argsort(-lens, kind="stable")
    desc = -lens[order]  # ascending
    starts = indptr[:-1][order]
    acc = np.zeros(len(lens), dtype=np.float64)
    for k in range(int(-desc[0]) if len(desc) else 0):
        m = int(np.searchsorted(desc, -k, side="left"))  # the rows longer than k
        acc[:m] += values[starts[:m] + k]
    out = np.empty_like(acc)
    out[order] = acc
    return out


@dataclass(frozen=True, eq=False)
class FittedNameModel:
    """A fitted ``TfidfVectorizer`` + ``LogisticRegression`` as plain arrays (module docstring).

    Attributes
    ----------
    terms
        The vocabulary's n-grams, in column order.
    idf
        The idf weight of each column (float32).
    coef, intercept
        The classifier's ``coef_`` (one row per class; one row for two classes) and ``intercept_``.
    classes
        The classifier's ``classes_``.
    """

    terms: tuple[str, ...]
    idf: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    classes: tuple[str, ...]
    vocabulary: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index the terms; ValueError when the arrays do not fit the terms and classes."""
        object.__setattr__(self, "vocabulary", {t: i for i, t in enumerate(self.terms)})
        n, k = len(self.terms), len(self.classes)
        rows = 1 if k == 2 else k
        if k < 2 or self.idf.shape != (n,) or self.coef.shape != (rows, n) or self.intercept.shape != (rows,):
            raise ValueError(f"a name model that does not fit together: {n} terms, {k} classes, idf "
                             f"{self.idf.shape}, coef {self.coef.shape}, intercept {self.intercept.shape}")

    @classmethod
    def from_sklearn(cls, vec: Any, clf: Any) -> FittedNameModel:
        """The arrays of a fitted scikit-learn ``TfidfVectorizer`` and ``LogisticRegression``.

        Raises
        ------
        RuntimeError
            The vectorizer's settings are not those :meth:`transform` reproduces.
        """
        params = vec.get_params()
        changed = {k: params.get(k) for k, v in _REPRODUCED.items() if params.get(k) != v}
        if changed or params.get("analyzer") != VECTORIZER["analyzer"]:
            raise RuntimeError(f"name model: the vectorizer's settings {changed} are not reproduced by ngram_model")
        terms = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
        return cls(tuple(terms), np.asarray(vec.idf_), np.asarray(clf.coef_), np.asarray(clf.intercept_),
                   tuple(str(c) for c in clf.classes_))

    def transform(self, texts: list[str]) -> Any:
        """``TfidfVectorizer.transform(texts)``: a float32 CSR matrix, one l2-normalized row per text."""
        from scipy import sparse

        n_terms = len(self.terms)
        ngram_range = tuple(VECTORIZER["ngram_range"])
        voc = self.vocabulary
        of_word: dict[str, list[int]] = {}  # a word's columns (its n-grams in the vocabulary), once per word
        cols: list[int] = []
        per_doc = np.zeros(len(texts), dtype=np.int64)
        for i, doc in enumerate(texts):
            start = len(cols)
            for w in _words(doc):
                got = of_word.get(w)
                if got is None:
                    got = of_word[w] = [j for j in map(voc.get, _word_grams(w, *ngram_range)) if j is not None]
                cols += got
            per_doc[i] = len(cols) - start
        docs = np.repeat(np.arange(len(texts), dtype=np.int64), per_doc)
        key, counts = np.unique(docs * n_terms + np.asarray(cols, dtype=np.int64), return_counts=True)
        indices = (key % n_terms).astype(np.int32)
        indptr = np.searchsorted(key // n_terms, np.arange(len(texts) + 1)).astype(np.int32)
        data = counts.astype(np.float32)
        np.log(data, data)  # sublinear_tf
        data += 1.0
        data *= self.idf[indices]
        norm = np.sqrt(_row_sums_in_order((data * data).astype(np.float64), indptr))
        norm[norm == 0.0] = 1.0  # scikit-learn leaves an all-zero row as it is
        data = (data.astype(np.float64) / np.repeat(norm, np.diff(indptr))).astype(np.float32)
        return sparse.csr_matrix((data, indices, indptr), shape=(len(texts), n_terms))

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """``LogisticRegression.predict_proba(vectorizer.transform(texts))``: one row per text, one column
        per class of :attr:`classes`."""
        scores = self.transform(texts) @ self.coef.T + self.intercept
        if len(self.classes) == 2:  # scikit-learn's _predict_proba_lr
            from scipy.special import expit

            prob = scores.reshape(-1)
            expit(prob, out=prob)
            return np.stack([1 - prob, prob], axis=1)
        # sklearn.utils.extmath.softmax
        scores -= np.reshape(np.max(scores, axis=1), (-1, 1))
        np.exp(scores, out=scores)
        scores /= np.reshape(np.sum(scores, axis=1), (-1, 1))
        return np.asarray(scores)

    def to_npz(self) -> bytes:
        """The model as an ``.npz`` of plain arrays (text as UTF-8 JSON bytes; no pickled object)."""
        def text(v: object) -> np.ndarray:
            return np.frombuffer(json.dumps(v, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)

        buf = io.BytesIO()
        np.savez(buf, terms=text(list(self.terms)), classes=text(list(self.classes)), idf=self.idf, coef=self.coef,
                 intercept=self.intercept)
        return buf.getvalue()

    @classmethod
    def from_npz(cls, path: Path) -> FittedNameModel:
        """The model :meth:`to_npz` wrote (raises OSError, ValueError, KeyError on a file that is not one)."""
        def text(a: np.ndarray) -> list[str]:
            v = json.loads(a.astype(np.uint8).tobytes().decode("utf-8"))
            if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
                raise ValueError("not a list of strings")
            return v

        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("terms", "classes", "idf", "coef", "intercept")}
        for k in ("idf", "coef", "intercept"):
            if arrays[k].dtype not in (np.float32, np.float64):
                raise ValueError(f"{k} is {arrays[k].dtype}")
        return cls(tuple(text(arrays["terms"])), arrays["idf"], arrays["coef"], arrays["intercept"],
                   tuple(text(arrays["classes"])))


def training_key(texts: list[str], labels: list[str], sample_weight: np.ndarray) -> str:
    """SHA-256 of everything the fitted model depends on: the texts, labels and weights, the settings
    (:data:`VECTORIZER`, :data:`CLASSIFIER`), the file format and the versions of Python and the libraries
    (scikit-learn's read from its metadata, without importing it)."""
    from ..common.blas import pinned_kernel

    h = hashlib.sha256()
    head = [versions_key(), _FORMAT, f"blas {pinned_kernel()}", "TfidfVectorizer", repr(sorted(VECTORIZER.items())),
            "LogisticRegression",
            repr(sorted(CLASSIFIER.items()))]
    h.update(json.dumps(head, ensure_ascii=False).encode("utf-8"))
    h.update(json.dumps([list(map(str, texts)), list(map(str, labels))], ensure_ascii=False).encode("utf-8"))
    h.update(np.ascontiguousarray(np.asarray(sample_weight, dtype=np.float64)).tobytes())
    return h.hexdigest()


def _fit_pinned(texts: list[str], labels: list[str], sample_weight: np.ndarray) -> tuple[FittedNameModel, bool]:
    """Train with scikit-learn (the only place it is imported), on one BLAS thread: the fitted
    coefficients' last bits would otherwise depend on how many cores the machine has (OpenBLAS sums in
    per-thread blocks), and so would the run's bytes; one thread is also ~3x cheaper on a busy machine.
    Where the loaded OpenBLAS does not run the pinned kernel (numpy imported before siteplan:
    :mod:`siteplan.common.blas`), the training runs in a child process that loads it pinned. Returns the
    model and whether it was trained with the pinned kernel (only such a model is stored in the cache folder,
    under a key that names that kernel)."""
    from ..common.blas import kernel_in_use

    if kernel_in_use():
        return fit_here(texts, labels, sample_weight), True
    got = _fit_in_child(texts, labels, sample_weight)
    if got is not None:
        return got, True
    return fit_here(texts, labels, sample_weight), False


#: seconds a child process may take to train the name model (a registry of a province trains in seconds)
CHILD_TIMEOUT_S = 900.0


def _fit_in_child(texts: list[str], labels: list[str], sample_weight: np.ndarray) -> FittedNameModel | None:
    """:func:`fit_here` in a child process whose OpenBLAS runs the pinned kernel (the data passed as
    JSON and ``.npy`` files in a private temporary folder; the model read back from its ``.npz``). The child
    is this Python with this process's import path and nothing else (``-P``: not the working folder), and
    it checks that it imported this siteplan. None, with a warning in the log, where no child Python can be
    started (an embedding program such as QGIS, whose ``sys.executable`` is not Python) or the child fails:
    the model is then trained here, with this machine's own kernel, and its last bits may differ from
    another machine's (it is not stored in the cache folder)."""
    import os
    import subprocess
    import sys
    import tempfile

    from ..common.blas import ENV, pinned_kernel

    def fallback(why: str) -> None:
        log.warning("name model: numpy was loaded before siteplan with this machine's own OpenBLAS kernel and %s; "
                    "trained here, with that kernel (its last bits may differ from other machines'; not cached)", why)

    exe = Path(sys.executable or "")
    if not exe.name.lower().startswith("python"):
        fallback(f"{exe.name or 'this program'} is not a Python to train in")
        return None
    package = str(Path(__file__).resolve().parents[1])
    with tempfile.TemporaryDirectory(prefix="siteplan-fit-") as tmp:
        d = Path(tmp)
        (d / "data.json").write_text(json.dumps([list(map(str, texts)), list(map(str, labels))], ensure_ascii=False),
                                     encoding="utf-8")
        np.save(d / "weights.npy", np.asarray(sample_weight, dtype=np.float64), allow_pickle=False)
        env = {**os.environ, ENV: str(pinned_kernel()), "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        try:
            r = subprocess.run([sys.executable, "-P", "-m", "siteplan.guilds.fit_child", str(d), package],  # noqa: S603 - our module
                               env=env, capture_output=True, text=True, check=False, timeout=CHILD_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            fallback(f"the child process training it with the pinned kernel failed ({exc})")
            return None
        if r.returncode != 0 or not (d / "model.npz").is_file():
            fallback("the child process training it with the pinned kernel failed "
                     f"({r.stderr.strip()[-300:] or f'exit {r.returncode}'})")
            return None
        try:
            return FittedNameModel.from_npz(d / "model.npz")
        except (OSError, ValueError, KeyError, UnicodeDecodeError, EOFError) as exc:
            fallback(f"the child process's model could not be read ({exc})")
            return None


def fit_here(texts: list[str], labels: list[str], sample_weight: np.ndarray) -> FittedNameModel:
    """Train the name model in this process (scikit-learn, one BLAS thread), whatever kernel it runs.

    Parameters
    ----------
    texts
        What the vectorizer reads, one per training row.
    labels
        Each row's class.
    sample_weight
        Each row's weight.

    Returns
    -------
    FittedNameModel
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    vec = TfidfVectorizer(**{**VECTORIZER, "dtype": np.dtype(VECTORIZER["dtype"]).type})
    clf = LogisticRegression(**CLASSIFIER)
    with threadpool_limits(limits=1, user_api="blas"):
        clf.fit(vec.fit_transform(texts), labels, sample_weight=sample_weight)
    return FittedNameModel.from_sklearn(vec, clf)


def _load(path: Path) -> FittedNameModel | None:
    """The cached model in ``path``, or None (no file, not the user's own, or not a model)."""
    if not path.is_file() or not safe_file(path):
        return None
    try:
        return FittedNameModel.from_npz(path)
    except (OSError, ValueError, KeyError, UnicodeDecodeError, EOFError) as exc:
        log.debug("name model cache %s not used: %s", path, exc)
    return None


def _store(path: Path, model: FittedNameModel) -> None:
    """Write ``model`` to ``path`` atomically, readable by the user only (a folder that cannot be written
    is ignored)."""
    store_file(path, model.to_npz())


def fitted_model(texts: list[str], labels: list[str], sample_weight: np.ndarray) -> FittedNameModel:
    """The model trained on ``texts``/``labels``/``sample_weight``: from memory, from the cache folder, or
    trained now (with scikit-learn) and cached.

    Parameters
    ----------
    texts
        What the vectorizer reads, one per training row.
    labels
        Each row's class.
    sample_weight
        Each row's weight.

    Returns
    -------
    FittedNameModel
        Shared by the calls that hit the cache (read-only).
    """
    key = training_key(texts, labels, sample_weight)
    if key in _MEMORY:
        _MEMORY.move_to_end(key)
        return _MEMORY[key]
    folder = cache_dir()
    path = folder / "name-model" / f"{key}.npz" if folder is not None else None
    got = _load(path) if path is not None else None
    if got is None:
        got, pinned = _fit_pinned(texts, labels, sample_weight)
        if path is not None and pinned:  # the key names the pinned kernel: a model trained with another is not kept
            _store(path, got)
    else:
        log.debug("name model from the cache (%s)", path)
    _MEMORY[key] = got
    while len(_MEMORY) > _MEMORY_SLOTS:
        _MEMORY.popitem(last=False)
    return got
