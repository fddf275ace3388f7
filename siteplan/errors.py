"""Exceptions and warnings of siteplan.

One root exception, :class:`SiteplanError`; its subclasses also inherit a built-in so callers can catch
them the usual way. The CLI turns any :class:`SiteplanError` into one clear message and exit status 1.
"""

from __future__ import annotations

from .common.notice import Notice


class SiteplanError(Exception):
    """Root of every error siteplan raises on purpose."""


class InputError(SiteplanError, ValueError):
    """A problem with the user's input (scenario, layer, field, row).

    Parameters
    ----------
    problems
        One message per problem; each names the file, layer, row or key and what to do.

    Attributes
    ----------
    warnings
        Warnings of what was read before the problems were found (rows excluded, repairs, notes); the
        CLI prints them before the error, so that fixing the errors reveals nothing that was known.
    """

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.warnings: list[Notice] = []
        super().__init__(self._render())

    def _render(self) -> str:
        if len(self.problems) == 1:
            return self.problems[0]
        lines = [f"{len(self.problems)} problems:"] + [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class ScenarioError(InputError):
    """The scenario file is invalid; every problem names its key path."""


class InfeasibleError(SiteplanError, RuntimeError):
    """A model cannot meet its targets; the message says which target failed and by how much."""


class SolverError(SiteplanError, RuntimeError):
    """An optimization solver failed on a model built from valid input (status and message included);
    not the user's input at fault, so not an :class:`InputError`."""


class SafetyNetError(SolverError):
    """A solver step ran into its wall-clock safety net (``allocation.time_limit_s``) before its
    deterministic work limit (nodes, passes, moves) ended it.

    Where it stopped would depend on the machine's speed and load, so siteplan stops with this error
    rather than give an answer that another run of the same inputs might not reproduce.
    """


class SiteplanWarning(UserWarning):
    """Warnings users can filter: repaired geometries, excluded rows, assumptions used."""
