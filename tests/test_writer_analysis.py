"""Issue #25, analysis out of the writer: the score deviation rasters (``suitability/<code>_sd.tif``) are computed
by the locate stage (:mod:`siteplan.locate.deviations`) and handed to the writer, which only encodes them."""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest

from siteplan.locate.deviations import ScoreDeviations, score_deviations
from siteplan.locate.sensitivity import score_sd
from siteplan.outputs import writer


def test_the_writer_imports_no_analysis() -> None:
    """The writer's module imports no sensitivity maths (it used to compute the SD rasters itself)."""
    tree = ast.parse(inspect.getsource(writer))
    found = [(n.module or "", a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
    assert not [(m, a) for m, a in found if "sensitivity" in m or a.startswith("score_sd")], found


def test_score_deviations_are_the_closed_form_on_allowed_cells(demo_result) -> None:
    prep = demo_result.prep
    sd = score_deviations(prep, demo_result.seed)
    assert isinstance(sd, ScoreDeviations) and sd.codes == list(prep.surfaces)
    code = sd.codes[0]
    s = prep.surfaces[code]
    by_name = {c.spec.name: c for c in prep.crit}
    want = score_sd([by_name[n].score for n in s.weights], np.array(list(s.weights.values())),
                    prep.scenario.sensitivity.concentration)
    got = sd(code)
    assert np.array_equal(np.isnan(got), ~s.allowed | np.isnan(want))
    assert np.allclose(got[s.allowed], want[s.allowed], equal_nan=True)
    assert sd.settings() == (prep.scenario.sensitivity.model_dump(mode="json"), demo_result.seed)


def test_write_run_without_the_deviations_it_must_write_says_what_to_pass(demo_result, tmp_path) -> None:
    with pytest.raises(ValueError, match=r"score_sd=siteplan\.locate\.deviations\.score_deviations"):
        writer.write_run(demo_result, tmp_path / "out")
    assert not (tmp_path / "out").exists()
