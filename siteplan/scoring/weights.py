"""Criterion weights: direct, rank-order and AHP (eigenvector and geometric mean).

AHP follows Saaty (1980): the principal eigenvector of a positive reciprocal matrix, λmax, the
consistency index CI = (λmax − n)/(n − 1) and ratio CR = CI/RI with a named random-index table.
Incomplete matrices use Harker's (1987) method; several experts' matrices are combined element-wise
by geometric mean (Aczél & Saaty 1983).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal, cast

import numpy as np

from ..common.textnorm import number_text
from ..errors import InputError

__all__ = ["RI_TABLES", "AHPResult", "ahp", "combine_experts", "rank_weights", "direct_weights", "SAATY_SCALE",
           "read_ahp_matrix"]

#: Random consistency indices by matrix size n (index n-1).
RI_TABLES: dict[str, tuple[float, ...]] = {
    # Saaty, T.L. (1980) The Analytic Hierarchy Process, McGraw-Hill, table 1.7 (n = 1..15)
    "saaty": (0.0, 0.0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49, 1.51, 1.48, 1.56, 1.57, 1.59),
    # Alonso, J.A. & Lamata, M.T. (2006) Int. J. Uncertainty, Fuzziness and Knowledge-Based Systems
    # 14(4):445–459, table 2 (n = 1..15)
    "alonso_lamata": (0.0, 0.0, 0.5247, 0.8816, 1.1086, 1.2479, 1.3417, 1.4057, 1.4499, 1.4854, 1.5140,
                      1.5365, 1.5551, 1.5713, 1.5838),
}
SAATY_SCALE = np.array([1 / 9, 1 / 8, 1 / 7, 1 / 6, 1 / 5, 1 / 4, 1 / 3, 1 / 2, 1, 2, 3, 4, 5, 6, 7, 8, 9])


@dataclass(frozen=True)
class AHPResult:
    """Outcome of an AHP computation (as printed by ``siteplan weights ahp``).

    Parameters
    ----------
    weights
        The criteria's weights, in the matrix's order, summing to 1.
    lambda_max
        The λmax: the principal eigenvalue of the (completed) matrix, or with ``geometric_mean`` the mean of
        (A w)_i / w_i.
    ci
        The consistency index (λmax - n) / (n - 1) (0 for n ≤ 2).
    cr
        The consistency ratio: ``ci`` over the random index of ``ri_table`` (0 where that index is 0).
    ri_table
        The random-index table used (a key of :data:`RI_TABLES`).
    consistent
        Whether ``cr`` is within the threshold.
    method
        ``eigenvector`` or ``geometric_mean``.
    worst
        When inconsistent: the judgement (row, col), 0-based, that deviates most from the weights; else None.
    suggested
        When inconsistent: the Saaty-scale value of ``worst`` that would fit the weights; else None.
    """

    weights: np.ndarray
    lambda_max: float
    ci: float
    cr: float
    ri_table: str
    consistent: bool
    method: str
    worst: tuple[int, int] | None = None
    suggested: float | None = None

    def as_dict(self) -> dict[str, object]:
        """The result as JSON-ready values (weights and figures rounded to 10 decimals)."""
        d: dict[str, object] = {
            "weights": [round(float(w), 10) for w in self.weights],
            "lambda_max": round(self.lambda_max, 10), "ci": round(self.ci, 10), "cr": round(self.cr, 10),
            "ri_table": self.ri_table, "consistent": self.consistent, "method": self.method,
        }
        if self.worst is not None:
            d["most_inconsistent"] = {"row": self.worst[0] + 1, "col": self.worst[1] + 1, "suggested": self.suggested}
        return d


def _as_matrix(m: object, where: str) -> tuple[np.ndarray, np.ndarray]:
    """The pairwise matrix as numbers (NaN where a judgement is missing) and the missing mask, with
    the diagonal set to 1 and missing cells filled from their reciprocal; every problem raised at once."""
    a = _parse_cells(m, where)
    n = len(a)
    problems = []
    missing = np.isnan(a)
    for i in range(n):
        if missing[i, i]:
            a[i, i] = 1.0
            missing[i, i] = False
        elif abs(a[i, i] - 1) > 1e-9:
            problems.append(f"{where}: diagonal cell ({i + 1},{i + 1}) must be 1, got {a[i, i]:g}")
    for i in range(n):
        for j in range(n):
            why = _cell_problem(a, missing, i, j, where)
            if why:
                problems.append(why)
    if problems:
        raise InputError(problems)
    return a, missing


#: how far a cell and its mirror may be from reciprocal (|a·b − 1|) when neither is the other's reciprocal
#: rounded to two decimals (a spreadsheet's 0.33 for 1/3, 0.13 or 0.12 for 1/8, 0.11 for 1/9 are accepted so)
RECIPROCAL_TOL = 1e-3


def _reciprocal(a: float, b: float) -> bool:
    """Whether ``a`` and ``b`` are reciprocal, allowing either to be the other's reciprocal rounded (half up or
    down) to two decimals."""
    if abs(a * b - 1) <= RECIPROCAL_TOL:
        return True
    return any(abs(y - 1 / x) <= 0.005 + 1e-9 for x, y in ((a, b), (b, a)) if x > 1)


def _cell_problem(a: np.ndarray, missing: np.ndarray, i: int, j: int, where: str) -> str | None:
    """Cell (i, j): filled from its reciprocal when missing (``a`` and ``missing`` updated), else what is
    wrong with it (not positive, or not the reciprocal of (j, i) when that one is given)."""
    if missing[i, j]:
        if not missing[j, i]:
            a[i, j] = 1.0 / a[j, i]
            missing[i, j] = False
        return None
    if a[i, j] <= 0:
        return f"{where}: cell ({i + 1},{j + 1}) = {a[i, j]:g} must be positive"
    if j > i and not missing[j, i] and not _reciprocal(a[i, j], a[j, i]):
        return (f"{where}: cells ({i + 1},{j + 1}) = {a[i, j]:g} and ({j + 1},{i + 1}) = "
                f"{a[j, i]:g} are not reciprocal (expected {1 / a[i, j]:.4g})")
    return None


def _parse_cells(m: object, where: str) -> np.ndarray:
    """A square matrix of numbers from rows of numbers or strings such as ``"1/3"``; empty, ``?`` and
    ``NA`` cells are NaN (missing judgements)."""
    if not isinstance(m, Iterable):
        raise InputError(f"{where}: give the matrix as a list of rows")
    rows = [list(r) for r in m]
    n = len(rows)
    if n < 1 or any(len(r) != n for r in rows):
        raise InputError(f"{where}: the matrix must be square; got {n} rows of lengths "
                         f"{sorted({len(r) for r in rows})}")
    a = np.full((n, n), np.nan)
    problems = []
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if v is None or (isinstance(v, str) and v.strip() in ("", "?", "NA")):
                continue
            try:
                a[i, j] = float(Fraction(number_text(v))) if isinstance(v, str) else float(v)  # "1/3", "۰٫۵"
            except (ValueError, ZeroDivisionError, TypeError):
                problems.append(f"{where}: cell ({i + 1},{j + 1}) = {v!r} is not a number")
    if problems:
        raise InputError(problems)
    return a


def read_ahp_matrix(path: str | Path) -> tuple[list[list[str | None]], list[str] | None]:
    """Read a pairwise comparison matrix from a CSV file (as ``siteplan weights ahp`` does).

    Parameters
    ----------
    path
        A UTF-8 CSV file (a byte-order mark is allowed): one row per criterion, cells such as ``3``,
        ``1/3`` or ``0.5``; an empty cell is a missing judgement. A header row with the criterion
        names is allowed, with or without a first column naming the rows (in the header's order); blank
        lines are ignored.

    Returns
    -------
    tuple
        ``(matrix, names)``: the cells as strings (``None`` for empty ones), ready for :func:`ahp`,
        and the criterion names of the header row, or ``None`` without a header.

    Raises
    ------
    InputError
        The file is missing, not UTF-8 text, or holds no rows; its header names a criterion twice, or its
        first column does not name the rows in the header's order.

    Examples
    --------
    A file holding ``,roads,towns`` / ``roads,1,3`` / ``towns,1/3,`` gives
    ``([["1", "3"], ["1/3", None]], ["roads", "towns"])``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    except UnicodeDecodeError:
        raise InputError(f"{path}: is not UTF-8 text; save the matrix as a UTF-8 CSV file") from None
    if not rows:
        raise InputError(f"{path}: holds no rows; give one row of judgements per criterion")
    names: list[str] | None = None
    words = [c for c in rows[0] if c.strip() and not _is_judgement(c)]
    if words and len(words) < sum(1 for c in rows[0] if c.strip() and _is_judgement(c)):  # a typo, not names
        raise InputError(f"{path}: row 1 holds {', '.join(repr(w) for w in words)}, not a number, among numbers; "
                         "write each judgement as a number or fraction (3, 1/3, 0.5), or give a header row of "
                         "criterion names")
    if not all(_is_judgement(c) for c in rows[0]) and all(
            len(r) == len(rows[0]) and all(_is_judgement(c) for c in r) for r in rows[1:]):
        names = [c.strip() for c in rows[0]]  # a header row of names over rows of judgements only
        _check_labels(path, names, names)
        rows = rows[1:]
    elif not all(_is_judgement(c) for c in rows[0]):  # a header row, and then a first column of names
        names = [c.strip() for c in rows[0][1:]]
        labels = [r[0].strip() if r else "" for r in rows[1:]]
        _check_labels(path, names, labels)
        rows = [r[1:] for r in rows[1:]]
    return [[c if c.strip() else None for c in r] for r in rows], names


def _check_labels(path: Path, names: list[str], labels: list[str]) -> None:
    """The header's criterion names must be unique and the first column must name the rows in the same order
    (a sheet whose rows are sorted otherwise would give every judgement to the wrong pair)."""
    from ..common.textnorm import normalize_compact

    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"{path}: the header names {', '.join(repr(d) for d in dup)} more than once; give each "
                         "criterion one row and one column")
    if [normalize_compact(x) for x in labels] != [normalize_compact(x) for x in names]:
        raise InputError(f"{path}: the rows are labelled {labels} but the columns {names}; the first column must "
                         "name the rows in the order of the header's columns (row i and column i are the same "
                         "criterion)")


def _is_judgement(cell: str) -> bool:
    """A matrix cell: a number, a fraction such as ``1/3``, or a missing judgement (empty, ``?``, ``NA``)."""
    c = number_text(cell)
    if c in ("", "?", "NA"):
        return True
    try:
        Fraction(c)
    except ZeroDivisionError:  # "1/0": a number, wrong; ahp() says so
        return True
    except ValueError:
        return False
    return True


def combine_experts(matrices: list[object]) -> np.ndarray:
    """Element-wise geometric mean of several experts' complete judgement matrices."""
    mats = [_as_matrix(m, f"expert {k + 1}")[0] for k, m in enumerate(matrices)]
    if len({m.shape for m in mats}) != 1:
        raise InputError("experts' matrices have different sizes")
    return cast("np.ndarray", np.exp(np.mean(np.log(np.stack(mats)), axis=0)))


def ahp(matrix: object, *, method: Literal["eigenvector", "geometric_mean"] = "eigenvector",
        ri_table: str = "saaty", threshold: float = 0.10) -> AHPResult:
    """AHP weights and consistency of a pairwise comparison matrix.

    Parameters
    ----------
    matrix
        The n×n judgements; ``None``/empty cells are missing (Harker's method fills them); strings such
        as ``"1/3"`` are accepted.
    method
        ``eigenvector`` (Saaty) or ``geometric_mean`` (row geometric means, Crawford & Williams 1985).
    ri_table
        A key of :data:`RI_TABLES`.
    threshold
        CR above which the matrix is reported inconsistent.

    Returns
    -------
    AHPResult
        Weights summing to 1, λmax, CI, CR, and when inconsistent the judgement (row, col) that
        deviates most from the weights and the Saaty-scale value that would fit them.

    Examples
    --------
    >>> r = ahp([[1, 3], [1/3, 1]])
    >>> [round(w, 3) for w in r.weights], r.cr
    ([0.75, 0.25], 0.0)
    """
    if ri_table not in RI_TABLES:
        raise InputError(f"ri_table: '{ri_table}' unknown; choose one of {', '.join(RI_TABLES)}")
    a, missing = _as_matrix(matrix, "AHP matrix")
    n = a.shape[0]
    if n > len(RI_TABLES[ri_table]):
        raise InputError(f"AHP matrix: n = {n} exceeds the {ri_table} random-index table (max {len(RI_TABLES[ri_table])})")
    b = a.copy()
    if missing.any():  # Harker: zero the missing cells, add their count to the diagonal
        b[missing] = 0.0
        b[np.diag_indices(n)] = 1.0 + missing.sum(axis=1)
    if method == "eigenvector":
        vals, vecs = np.linalg.eig(b)
        k = int(np.argmax(vals.real))
        w = np.abs(vecs[:, k].real)
        w = w / w.sum()
        lam = float(vals[k].real)
    elif method == "geometric_mean":
        if missing.any():
            raise InputError("geometric_mean needs a complete matrix; use method eigenvector (Harker) for gaps")
        w = np.exp(np.log(a).mean(axis=1))
        w = w / w.sum()
        lam = float(np.mean((a @ w) / w))
    else:
        raise InputError(f"AHP method '{method}' unknown (eigenvector, geometric_mean)")
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ci = max(ci, 0.0) if abs(ci) < 1e-12 else ci
    ri = RI_TABLES[ri_table][n - 1]
    cr = ci / ri if ri > 0 else 0.0
    consistent = cr <= threshold
    worst = suggested = None
    if not consistent:
        dev = np.abs(np.log(np.where(missing, 1.0, a) * np.outer(1 / w, w)))
        dev[np.tril_indices(n)] = -1
        i, j = np.unravel_index(int(np.argmax(dev)), dev.shape)
        worst = (int(i), int(j))
        ideal = w[i] / w[j]
        suggested = float(SAATY_SCALE[np.argmin(np.abs(np.log(SAATY_SCALE) - np.log(ideal)))])
    return AHPResult(w, lam, float(ci), float(cr), ri_table, bool(consistent), method, worst, suggested)


def rank_weights(ranks: list[int], method: Literal["rank_sum", "reciprocal", "roc"] = "roc") -> np.ndarray:
    """Weights from ranks (1 = most important; ties share a rank).

    Parameters
    ----------
    ranks
        One rank per criterion.
    method
        ``rank_sum`` (n − r + 1), ``reciprocal`` (1/r) or ``roc`` (rank-order centroid,
        Barron & Barrett 1996).

    Examples
    --------
    >>> [round(x, 4) for x in rank_weights([1, 2, 3], "roc")]
    [0.6111, 0.2778, 0.1111]
    """
    r = np.asarray(ranks, dtype=float)
    n = len(r)
    if n == 0 or (r < 1).any():
        raise InputError("ranks must be positive integers, 1 = most important")
    if method == "rank_sum":
        w = n - r + 1
    elif method == "reciprocal":
        w = 1.0 / r
    elif method == "roc":
        w = np.array([np.sum(1.0 / np.arange(int(k), n + 1)) / n for k in r])
    else:
        raise InputError(f"rank method '{method}' unknown (rank_sum, reciprocal, roc)")
    return cast("np.ndarray", w / w.sum())


def direct_weights(values: list[float]) -> np.ndarray:
    """Direct weights normalized to sum to 1 (non-negative, not all zero)."""
    w = np.asarray(values, dtype=float)
    if (w < 0).any() or w.sum() <= 0:
        raise InputError(f"weights must be non-negative and not all zero, got {list(values)}")
    return cast("np.ndarray", w / w.sum())
