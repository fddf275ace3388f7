"""Notices and the results that carry them pickle (a process-based Dask worker sends results back; the
suite's shared demo run is kept as a pickle of its RunResult): a read-only mapping alone would not."""

from __future__ import annotations

import pickle

from siteplan.common.notice import Notice


def test_notice_pickles_equal_and_stays_read_only() -> None:
    """A notice comes back from a pickle equal, its counts still read-only."""
    n = Notice("rows-excluded", "layer 'businesses': 3 rows excluded", {"rows": 3})
    back = pickle.loads(pickle.dumps(n, protocol=pickle.HIGHEST_PROTOCOL))  # noqa: S301 — our own bytes
    assert back == n and str(back) == str(n) and dict(back.counts) == {"rows": 3}
    try:
        back.counts["rows"] = 4  # type: ignore[index]
    except TypeError:
        pass
    else:
        raise AssertionError("a notice's counts must stay read-only after pickling")
    assert pickle.loads(pickle.dumps([n, n.prefixed("a.shp: ")])) == [n, n.prefixed("a.shp: ")]  # noqa: S301 — ours
