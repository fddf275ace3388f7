"""Clusters without scikit-learn: :func:`siteplan.relocation.clusters.dbscan_labels` gives scikit-learn's
DBSCAN labels, label for label (numbering, border points, noise -1), including points exactly eps apart."""

from __future__ import annotations

import numpy as np
import pytest

from siteplan.relocation.clusters import dbscan_labels

DBSCAN = pytest.importorskip("sklearn.cluster").DBSCAN


def _sets():
    """Point sets that stress DBSCAN: uniform, blobs, a grid (duplicates, many pairs exactly eps apart),
    3-4-5 triangles far from the origin (ties at eps after a subtraction), a line of equal steps."""
    rng = np.random.default_rng(31)
    out = []
    for n in (1, 2, 7, 60, 250):
        out.append(rng.uniform(0, 3000, (n, 2)))
        centres = rng.uniform(0, 5000, (4, 2))
        out.append(centres[rng.integers(0, 4, n)] + rng.normal(0, 250, (n, 2)))
        out.append(rng.integers(0, 12, (n, 2)).astype(float) * 100.0)
        out.append(rng.integers(0, 9, (n, 2)).astype(float) * 3.0 + [5.3e5, 3.9e6])
    out.append(np.c_[np.arange(40) * 400.0, np.zeros(40)])  # each neighbour exactly eps = 400 away
    out.append(np.repeat(rng.uniform(0, 1000, (5, 2)), 9, axis=0))  # only duplicates
    return out


@pytest.mark.parametrize("eps", [15.0, 100.0, 300.0, 400.0])
@pytest.mark.parametrize("min_samples", [1, 2, 4, 8])
def test_labels_equal_sklearn(eps, min_samples):
    for xy in _sets():
        want = DBSCAN(eps=eps, min_samples=min_samples, algorithm="ball_tree").fit_predict(xy)
        got = dbscan_labels(xy, eps=eps, min_samples=min_samples)
        assert got.dtype == want.dtype
        assert np.array_equal(got, want), (len(xy), eps, min_samples)


def test_border_point_joins_the_first_cluster_that_reaches_it():
    # two dense groups and one point between them, within eps of a core point of each: not core itself;
    # scikit-learn gives it to the cluster found first (the one with the lowest core index)
    left = np.c_[np.zeros(4), np.arange(4) * 0.1]
    right = np.c_[np.full(4, 2.0), np.arange(4) * 0.1]
    for xy in (np.r_[right, left, [[1.0, 0.0]]], np.r_[left, right, [[1.0, 0.0]]]):
        want = DBSCAN(eps=1.0, min_samples=4).fit_predict(xy)
        got = dbscan_labels(xy, eps=1.0, min_samples=4)
        assert np.array_equal(got, want)
        assert got[-1] == 0 and set(got) == {0, 1}


def test_empty():
    assert dbscan_labels(np.zeros((0, 2)), eps=1.0, min_samples=3).shape == (0,)
