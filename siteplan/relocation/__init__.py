"""Relocation: which business (or cluster) moves to which estate.

The plan minimizes land-weighted relocation distance minus a suitability bonus, under category-aware
estate capacity and siting eligibility, with every business assigned whole or listed as unassigned
with its reason.

Formulation (units u = businesses, or clusters that must move together; estates j)::

    min  Σ_uj c_uj x_uj + Σ_u p_u y_u
    s.t. Σ_j x_uj + y_u = 1                               for every unit u
         Σ_u a_ujL x_uj ≤ K_j f_jL                        for every estate j and capacity level L
         x, y ∈ {0, 1}

with c_uj = land_u (d_uj − β D s_uj) (km, D the distance limit, s the suitability score, β its
weight), p_u a penalty larger than any assignment cost (scaled up for heavier categories when the
scenario gives them priority), K_j the estate's net vacant land and f_jL the share of the estate that
the categories of level L may use (from :func:`siteplan.zoning.zones.usable_land`). Arcs exist only for
eligible (unit, estate) pairs within D; since an ineligible or too-distant arc can never be used,
this pruning cannot change the optimum.

The model is solved by :func:`~siteplan.relocation.solve.solve_model`: one exact MILP when small
(under a node limit, ``allocation.exact_node_limit``; if it stops there first, the large-instance path
below answers and the manifest says so); else the LP relaxation as a min-cost flow (a proven lower bound),
a MILP over the units it splits, greedy placement and a local search of shifts and ejection chains. The gap between the integer
objective and the bound is always reported. Every step ends at a deterministic work limit (nodes,
passes, tried moves); the scenario's ``allocation.time_limit_s`` is only a wall-clock safety net, which
raises :class:`~siteplan.errors.SafetyNetError` if it ever stops a step first.

Modules, data flowing one way:

- :mod:`~siteplan.relocation.model`: units, and the :class:`AssignmentModel` (arcs, costs,
  penalties, priority, capacity rows) built from the layers by :func:`build_model`;
- :mod:`~siteplan.relocation.relaxation`: the min-cost-flow or LP relaxation and its bound;
- :mod:`~siteplan.relocation.network`, :mod:`~siteplan.relocation.routing` and
  :mod:`~siteplan.relocation.roads`: the road graph, the travel costs on it, and the run's network;
- :mod:`~siteplan.relocation.moves` and :mod:`~siteplan.relocation.local_search`: the candidate moves
  (vectorized) and the shifts and ejection chains that apply them to an integer assignment;
- :mod:`~siteplan.relocation.repair`: the integer assignment rebuilt from the relaxation (sub-MILP,
  greedy placement);
- :mod:`~siteplan.relocation.solve`: :class:`SolverOptions`, the exact MILP and :func:`solve_model`;
- :mod:`~siteplan.relocation.plan`: :func:`estate_capacity`, :func:`allocate` and the :class:`Plan`
  with a reason for every business left out.
"""

from __future__ import annotations

from .model import AssignmentModel, Units, build_model, business_units
from .plan import Plan, allocate, estate_capacity, relocate, relocation_flows
from .solve import AssignmentResult, SolverOptions, solve_assignment, solve_model

__all__ = ["AssignmentModel", "AssignmentResult", "Plan", "SolverOptions", "Units", "allocate", "build_model",
           "relocate", "relocation_flows",
           "business_units", "estate_capacity", "solve_assignment", "solve_model"]
