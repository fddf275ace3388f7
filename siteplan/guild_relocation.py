"""Relocation of guilds (businesses) to estates: the public entry points.

The product's design card fixes this module's name, so ``siteplan.guild_relocation`` stays the public
import path; the code lives in the :mod:`siteplan.relocation` package (formulation, model, solver,
local search and plan), and this module only re-exports its public API.
"""

from __future__ import annotations

from .relocation import (
    AssignmentModel,
    AssignmentResult,
    Plan,
    SolverOptions,
    allocate,
    estate_capacity,
    solve_assignment,
)

__all__ = ["AssignmentModel", "AssignmentResult", "Plan", "SolverOptions", "allocate", "estate_capacity",
           "solve_assignment"]
