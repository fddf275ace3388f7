"""siteplan: geospatial site selection and estate planning for relocating nuisance guilds.

Data flows one way: :mod:`~siteplan.scenario` and :mod:`~siteplan.region` load, :mod:`~siteplan.guilds`
classifies, :mod:`~siteplan.criteria`, :mod:`~siteplan.weights` and :mod:`~siteplan.suitability`
score, :mod:`~siteplan.locate`, :mod:`~siteplan.guild_relocation` and :mod:`~siteplan.zoning`
allocate and zone (the relocation model is solved by :mod:`~siteplan.assignment`, with
:mod:`~siteplan.local_search` to improve it), :mod:`~siteplan.report` and :mod:`~siteplan.export` write the results;
:mod:`~siteplan.pipeline` composes the stages and :mod:`~siteplan.cli` is the command line.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
