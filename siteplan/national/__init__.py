"""National runs: a scenario partitioned into provinces, run one by one or on ``dask.distributed``.

========================  ===================================================================
module                    what
========================  ===================================================================
``partition``             a partition layer split into units (ownership, open borders)
``provinces``             a list of provincial scenarios split into units (names, ownership, open borders)
``runner``                running the units: sequentially or as Dask tasks, with the cache
``gather``                the units' outputs into national tables and layers
``report``                the national summary page
``validate``              ``siteplan validate`` of a national scenario (partitions or provinces)
``run``                   the whole national run into one output folder
========================  ===================================================================
"""

from .run import NationalResult, PartitionsFailed, default_cache, is_national, run_national_file

__all__ = ["NationalResult", "PartitionsFailed", "default_cache", "is_national", "run_national_file"]
