"""Ctrl-C on a national run with Dask worker processes: the terminal sends SIGINT to the whole process group,
and the workers must not die of it with their own tracebacks (siteplan's process says "interrupted", closes
the cluster and exits 130)."""

from __future__ import annotations

import signal

import pytest

pytest.importorskip("distributed")


def _sigint_disposition() -> str:
    h = signal.getsignal(signal.SIGINT)
    return "ignored" if h is signal.SIG_IGN else "handled"


def test_local_cluster_workers_ignore_sigint_and_the_caller_keeps_its_handler() -> None:
    from distributed import Client

    from siteplan.national.cluster import local_cluster

    def mine(signum, frame):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGINT, mine)
    try:
        cluster = local_cluster(1, processes=True)
        try:
            with Client(cluster) as client:
                got = client.run(_sigint_disposition)
        finally:
            cluster.close()
        assert list(got.values()) == ["ignored"]
        assert signal.getsignal(signal.SIGINT) is mine
    finally:
        signal.signal(signal.SIGINT, before)
