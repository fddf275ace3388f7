"""One OpenBLAS kernel on every machine of a kind, so that what BLAS computes has the same bits everywhere.

OpenBLAS (numpy's and SciPy's) picks its kernels for the processor it finds at load time: an AVX-512
machine sums a dot product in another order than an AVX2 one, and the name model trained on each
(:func:`siteplan.guilds.ngram_model.fitted_model`, L-BFGS over many dot products) differs in its last
bits; a probability that rounds the other way then changes ``review.csv``. Measured on the demo: trained
with the SkylakeX kernels, review.csv and ``stages/classify.npz`` differ from the Haswell kernels'; with
``OPENBLAS_CORETYPE=Haswell`` on the same machine, all 60 files are the committed bytes.

:func:`pin` sets ``OPENBLAS_CORETYPE`` before numpy is first imported (``import siteplan`` calls it;
a value the user set is kept): ``Haswell`` on x86-64 processors with AVX2 and FMA (every such processor
runs it; the flags are read from Linux's ``/proc/cpuinfo``), ``ARMV8`` on 64-bit ARM. Elsewhere (x86-64
macOS and Windows, processors without AVX2, a numpy built on another BLAS) nothing is pinned and the bytes may
differ from other machines'. The variable is set for the whole process and the programs it starts (other
BLAS work in it runs the pinned kernel too: on an AVX-512 machine a little slower); set ``OPENBLAS_CORETYPE``
yourself to choose another kernel. :func:`kernel_in_use` tells whether the loaded libraries run the pinned kernel (numpy imported
before siteplan loads them with the machine's own); the name model is then trained in a child process
that loads them pinned.

This module imports nothing heavy: it runs before numpy is loaded.
"""

from __future__ import annotations

import os
import platform
import sys
from functools import cache
from pathlib import Path

__all__ = ["ENV", "kernel_in_use", "pin", "pinned_kernel"]

#: the environment variable OpenBLAS reads at load time
ENV = "OPENBLAS_CORETYPE"


@cache
def _cpu_flags() -> frozenset[str]:
    """The processor's feature flags (Linux's /proc/cpuinfo; empty elsewhere)."""
    try:
        with Path("/proc/cpuinfo").open(encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(("flags", "Features")):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def pinned_kernel() -> str | None:
    """The OpenBLAS kernel siteplan runs on this machine: the user's ``OPENBLAS_CORETYPE`` if set, else
    ``Haswell`` (x86-64 with AVX2 and FMA), ``ARMV8`` (64-bit ARM), or None (the machine's own)."""
    own = os.environ.get(ENV, "").strip()
    if own:
        return own
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64") and {"avx2", "fma"} <= _cpu_flags():
        return "Haswell"
    if machine in ("aarch64", "arm64"):
        return "ARMV8"
    return None


def pin() -> str | None:
    """Set ``OPENBLAS_CORETYPE`` to :func:`pinned_kernel` if numpy is not loaded yet (it is read when
    OpenBLAS loads); returns the kernel, or None when nothing is pinned."""
    kernel = pinned_kernel()
    if kernel is not None and "numpy" not in sys.modules and not os.environ.get(ENV, "").strip():
        os.environ[ENV] = kernel  # a blank value counts as unset
    return kernel


def kernel_in_use() -> bool:
    """Whether every OpenBLAS loaded in this process runs :func:`pinned_kernel` (True when nothing is
    pinned, or when the libraries do not say which kernel they run)."""
    kernel = pinned_kernel()
    if kernel is None:
        return True
    from threadpoolctl import threadpool_info

    archs = {str(i.get("architecture") or "").lower() for i in threadpool_info() if i.get("internal_api") == "openblas"}
    archs.discard("")
    return archs <= {kernel.lower()}
