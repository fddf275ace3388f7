"""The name model cached by its training data's hash: the same predictions, no training on a hit,
never from a file another user could have written."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from siteplan.common import usercache as _cache
from siteplan.guilds import ngram_model
from siteplan.guilds.name_model import train
from siteplan.guilds.catalogue import load_catalogue

NAMES = ["صافکاری برادران احمدی", "نانوایی سنگک", "تعمیرگاه خودرو", "xyz"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SITEPLAN_CACHE_DIR", str(tmp_path / "c"))
    ngram_model._MEMORY.clear()
    yield tmp_path / "c"
    ngram_model._MEMORY.clear()


def _files(folder):
    return sorted((folder / "name-model").glob("*.npz")) if (folder / "name-model").exists() else []


def test_second_training_is_a_cache_hit_with_identical_predictions(cache, monkeypatch):
    cat = load_catalogue()
    m1 = train(cat)
    p1 = m1.predict(NAMES)
    assert len(_files(cache)) == 1
    ngram_model._MEMORY.clear()  # a new process: only the folder cache

    def no_fit(*a, **k):
        raise AssertionError("trained again despite the cache")

    monkeypatch.setattr(ngram_model, "_fit_pinned", no_fit)  # the one training path of fitted_model
    m2 = train(cat)
    pd.testing.assert_frame_equal(p1, m2.predict(NAMES))


def test_other_training_data_is_another_key(cache):
    cat = load_catalogue()
    reg = pd.DataFrame({"name": ["کارواش آرین"], "category": ["car_wash_oil"], "class_rule": ["category"],
                        "class_conf": [1.0]})
    train(cat)
    train(cat, reg)
    assert len(_files(cache)) == 2


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_unsafe_or_damaged_cache_files_are_ignored(cache):
    cat = load_catalogue()
    p0 = train(cat).predict(NAMES)
    (f,) = _files(cache)
    for damage in ("mode", "bytes"):
        ngram_model._MEMORY.clear()
        if damage == "mode":
            os.chmod(f, 0o666)  # writable by others: never read
        else:
            f.write_bytes(b"not an npz")
            os.chmod(f, 0o600)
        pd.testing.assert_frame_equal(p0, train(cat).predict(NAMES))  # trained again, same answer
        os.chmod(f, 0o600)


def test_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("SITEPLAN_CACHE_DIR", "off")
    assert _cache.cache_dir() is None
    monkeypatch.delenv("SITEPLAN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _cache.cache_dir() == tmp_path / "siteplan"
