"""The name model without scikit-learn at run time: :class:`siteplan.guilds.ngram_model.FittedNameModel`
gives scikit-learn's tf-idf matrix and probabilities bit for bit; its cache is an .npz of plain arrays;
a run whose model is cached never imports scikit-learn (classification and clusters)."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from siteplan.guilds import name_model as nm
from siteplan.guilds import ngram_model as ng
from siteplan.guilds.catalogue import classify, load_catalogue

sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")
sklearn_linear = pytest.importorskip("sklearn.linear_model")

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ["", "   ", "A  B\t\tC", "ABC def", "x", "ab", "\u2003q\u00a0 w\u3000e", "ÜNÏCODE Ça", "a" * 300,
           "ک ی ي ك", "٠١٢ 123", "😀 emoji", "line\nbreak"]


def _sklearn_pair(texts, labels, weights):
    vec = sklearn_text.TfidfVectorizer(**{**ng.VECTORIZER, "dtype": np.float32})
    clf = sklearn_linear.LogisticRegression(**ng.CLASSIFIER)
    clf.fit(vec.fit_transform(texts), labels, sample_weight=weights)
    return vec, clf


def _assert_same(vec, clf, fitted, texts):
    want, got = vec.transform(texts), fitted.transform(texts)
    assert got.dtype == want.dtype == np.float32
    assert np.array_equal(got.indptr, want.indptr) and np.array_equal(got.indices, want.indices)
    assert np.array_equal(got.data, want.data)
    p_want, p_got = clf.predict_proba(want), fitted.predict_proba(texts)
    assert p_got.dtype == p_want.dtype
    assert np.array_equal(p_got, p_want)


@pytest.fixture(scope="module")
def registry_model():
    """scikit-learn's pair trained as a run trains it (catalogue, corpus, a registry's rule decisions)."""
    cat = load_catalogue()
    reg = pd.read_csv(ROOT / "tests/data/registry_fa.csv", dtype=str, keep_default_na=False)
    texts, labels, weights, _ = nm._training_data(cat, classify(reg, cat))
    vec, clf = _sklearn_pair(texts, labels, weights)
    return vec, clf, ng.FittedNameModel.from_sklearn(vec, clf), texts


@pytest.mark.slow  # trains a name model with scikit-learn (5-10 CPU s)
def test_equals_sklearn_on_corpus_and_registries(registry_model):
    vec, clf, fitted, train_texts = registry_model
    sets = [nm._text(nm.load_corpus()["name"]), train_texts[:500], HOSTILE, nm._text(HOSTILE)]
    for f in sorted(glob.glob(str(ROOT / "tests/data/registry_*.csv"))):
        sets.append(nm._text(pd.read_csv(f, dtype=str, keep_default_na=False)["name"]))
    for texts in sets:
        _assert_same(vec, clf, fitted, texts)


@pytest.mark.slow
def test_equals_sklearn_after_the_npz_round_trip(registry_model, tmp_path):
    vec, clf, fitted, _ = registry_model
    p = tmp_path / "m.npz"
    p.write_bytes(fitted.to_npz())
    back = ng.FittedNameModel.from_npz(p)
    assert back.terms == fitted.terms and back.classes == fitted.classes
    _assert_same(vec, clf, back, nm._text(nm.load_corpus()["name"]))


def test_two_classes_equal_sklearn():
    # two classes: scikit-learn's logistic (one row of coefficients), not the softmax
    texts = ["صافکاری احمدی", "صافکاری نوین", "نانوایی سنگک", "نانوایی بربری", "صافکار", "نان"] * 3
    labels = ["a", "a", "b", "b", "a", "b"] * 3
    vec, clf = _sklearn_pair(texts, labels, np.ones(len(texts)))
    fitted = ng.FittedNameModel.from_sklearn(vec, clf)
    assert fitted.coef.shape[0] == 1
    _assert_same(vec, clf, fitted, texts + HOSTILE)


def test_a_pickled_or_mismatched_npz_is_never_used(tmp_path, monkeypatch):
    monkeypatch.setenv("SITEPLAN_CACHE_DIR", str(tmp_path))
    bad = tmp_path / "obj.npz"
    np.savez(bad, terms=np.array([{"x": 1}], dtype=object), classes=np.zeros(2), idf=np.zeros(1),
             coef=np.zeros((1, 1)), intercept=np.zeros(1))  # holds a pickle: np.load refuses it
    os.chmod(bad, 0o600)
    assert ng._load(bad) is None
    fitted = ng.FittedNameModel(("ab", "bc"), np.ones(2, np.float32), np.ones((3, 2), np.float32),
                                np.ones(3, np.float32), ("a", "b", "c"))
    ok = tmp_path / "ok.npz"
    ok.write_bytes(fitted.to_npz())
    os.chmod(ok, 0o600)
    back = ng._load(ok)
    assert back is not None and back.terms == fitted.terms and back.classes == fitted.classes
    assert all(np.array_equal(getattr(back, k), getattr(fitted, k)) for k in ("idf", "coef", "intercept"))
    short = tmp_path / "short.npz"
    np.savez(short, terms=np.frombuffer(b'["ab"]', np.uint8), classes=np.frombuffer(b'["a","b","c"]', np.uint8),
             idf=np.ones(2), coef=np.ones((3, 2)), intercept=np.ones(3))  # 1 term, 2 columns
    os.chmod(short, 0o600)
    assert ng._load(short) is None


_CHILD = """
import json, sys
import geopandas as gpd, numpy as np, pandas as pd
from siteplan.guilds.catalogue import classify, load_catalogue
from siteplan.guilds.decide import apply_fallback
from siteplan.guilds.name_model import CORPUS_COLUMNS
from siteplan.relocation.clusters import find_clusters
reg = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False).head(60)
cat = load_catalogue()
out = apply_fallback(classify(reg, cat), cat, corpus=pd.DataFrame(columns=list(CORPUS_COLUMNS)))
pts = gpd.GeoDataFrame({"category": ["car_repair"] * 12 + ["car_parts"] * 3},
                       geometry=gpd.points_from_xy(np.arange(15) * 100.0, np.zeros(15)), crs=32639)
cid, hulls = find_clusters(pts, cat, eps_m=150.0, min_samples=3)
print(json.dumps({"sklearn": sorted(m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")),
                  "p1": out["class_p1"].fillna(-1).tolist(), "status": out["class_status"].tolist(),
                  "clusters": cid.fillna("").tolist()}))
"""


@pytest.mark.slow  # two fresh processes, the first trains two name models
def test_warm_run_never_imports_sklearn(tmp_path):
    """Classification (both models cached) and clusters in a fresh process: scikit-learn never imported,
    the same answers as the process that trained them."""
    env = {**os.environ, "SITEPLAN_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    reg = str(ROOT / "tests/data/registry_fa.csv")

    def child():
        r = subprocess.run([sys.executable, "-c", _CHILD, reg], env=env, capture_output=True, text=True,
                           timeout=600, check=False)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout.strip().splitlines()[-1])

    cold = child()  # trains both models (the veto's and the registry's) and caches them
    assert len(list((tmp_path / "cache" / "name-model").glob("*.npz"))) == 2
    warm = child()
    assert warm["sklearn"] == []
    assert warm == {**cold, "sklearn": []}
    assert set(warm["clusters"]) == {"auto-001"}  # 15 points of the auto chain, 100 m apart: one cluster
