"""Warnings travel as records (:class:`siteplan.common.notice.Notice`): a stable code, the message as
written, the counts it names; the command line, the manifest and the report render the message."""

from __future__ import annotations

import dataclasses

import pytest

from siteplan.checks import scenario_warnings
from siteplan.common.notice import Notice, messages, notices
from siteplan.pipeline import demo_scenario_path
from siteplan.scenario import load_scenario


def test_a_notice_is_its_message_with_a_code_and_counts() -> None:
    n = Notice("rows-excluded", "layer 'x': excluded 3 feature(s)", {"features": 3})
    assert str(n) == f"{n}" == n.message and n.code == "rows-excluded" and n.counts == {"features": 3}
    with pytest.raises(dataclasses.FrozenInstanceError):
        n.code = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        n.counts["features"] = 4  # type: ignore[index]
    assert len({n, Notice("rows-excluded", n.message, {"features": 3})}) == 1  # dedup keeps one
    assert n.prefixed("a.yaml: ").message == "a.yaml: " + n.message and n.prefixed("a: ").code == n.code
    assert messages(notices("zoning", ["a", "b"])) == ["a", "b"]


def test_scenario_warnings_carry_codes() -> None:
    sc = load_scenario(demo_scenario_path())
    sc = sc.model_copy(update={"zoning": sc.zoning.model_copy(update={"shape": "compact"})})
    got = scenario_warnings(sc)
    assert [w.code for w in got] == ["deprecated-setting"]
    assert got[0].message.startswith("zoning.shape: 'compact' is deprecated")


def test_a_notice_survives_pickling():
    """A run's results (and an InputError's warnings) are pickled between processes: a notice comes back
    equal, its counts still read-only."""
    import pickle

    from siteplan.errors import Notice

    n = Notice("rows-excluded", "3 rows excluded", {"rows": 3})
    back = pickle.loads(pickle.dumps(n))
    assert back == n and dict(back.counts) == {"rows": 3}
    with pytest.raises(TypeError):
        back.counts["rows"] = 4  # type: ignore[index]
