"""HiGHS's stray ``printf`` line does not reach the terminal (siteplan.relocation.milp)."""

from __future__ import annotations

import ctypes
import sys

import numpy as np
import pytest
from scipy.optimize import LinearConstraint

from siteplan.relocation.milp import milp, native_stdout_silenced


@pytest.mark.skipif(sys.platform == "win32", reason="C printf through ctypes")
def test_c_printf_is_silenced_only_inside(capfd: pytest.CaptureFixture[str]) -> None:
    libc = ctypes.CDLL(None)
    with native_stdout_silenced():
        libc.printf(b"HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();\n")
        with native_stdout_silenced():  # nested (another solve in the same process)
            libc.printf(b"inner\n")
        libc.printf(b"still inside\n")
    libc.printf(b"after\n")
    libc.fflush(None)
    out = capfd.readouterr().out
    assert out == "after\n"


def test_milp_same_answer() -> None:
    # a knapsack with a known optimum: items (value, weight) = (6,1) (10,2) (12,3), capacity 5 -> 22
    res = milp(-np.array([6.0, 10.0, 12.0]), constraints=[LinearConstraint(np.array([[1.0, 2.0, 3.0]]), 0, 5)],
               integrality=np.ones(3), bounds=(0, 1))
    assert res.status == 0 and round(-res.fun) == 22 and res.x.round().tolist() == [0, 1, 1]
