"""A run's memo of computed figures, keyed by the SHA-256 of exactly what each is computed from.

A stage that computes many independent figures (the residents near each set of businesses, for
instance) asks :func:`active` for the run's memo and, for each figure, looks its key up before computing
it. The run's :class:`siteplan.outputs.stagecache.StageReuse` fills the memo with what a ``--reuse`` run
stored and saves every entry this run used in its ``stages/memo.npz``, so that a what-if computes only
the figures whose inputs changed. The memo holds float64 rows and bytes only (no pickle, no code).

Outside a run (a library call, a test) there is no memo: :func:`active` gives None and every figure is
computed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

__all__ = ["Memo", "active", "using"]


class Memo:
    """Figures by kind and key: those a previous run stored (``known``) and those this run used (``used``).

    Parameters
    ----------
    known
        Kind → (keys as an (n, 32) uint8 array of SHA-256 digests, and per key its float64 row or, for a
        kind of bytes, its uint8 array).
    """

    def __init__(self, known: dict[str, tuple[np.ndarray, Any]] | None = None) -> None:
        self.known: dict[str, dict[bytes, np.ndarray]] = {
            kind: {bytes(k): np.array(v, dtype=v.dtype) for k, v in zip(keys, values)}
            for kind, (keys, values) in (known or {}).items()}
        self.used: dict[str, dict[bytes, np.ndarray]] = {}
        self.counts: dict[str, list[int]] = {}

    def get(self, kind: str, key: bytes) -> np.ndarray | None:
        """The figures stored under ``key`` (recorded as used), or None."""
        got = self.known.get(kind, {}).get(key)
        c = self.counts.setdefault(kind, [0, 0])
        c[1] += 1
        if got is not None:
            c[0] += 1
            self.used.setdefault(kind, {})[key] = got
        return got

    def put(self, kind: str, key: bytes, value: np.ndarray) -> None:
        """Record the figures computed for ``key``."""
        self.used.setdefault(kind, {})[key] = np.array(value, dtype=np.float64).reshape(-1)

    def get_bytes(self, kind: str, key: bytes) -> bytes | None:
        """The bytes stored under ``key`` (a kind of bytes: :meth:`put_bytes`), or None."""
        got = self.get(kind, key)
        return got.astype(np.uint8).tobytes() if got is not None and got.dtype == np.uint8 else None

    def put_bytes(self, kind: str, key: bytes, value: bytes) -> None:
        """Record the bytes computed for ``key`` (e.g. an encoded image)."""
        self.used.setdefault(kind, {})[key] = np.frombuffer(value, dtype=np.uint8).copy()

    def arrays(self) -> dict[str, np.ndarray]:
        """Every entry used, by kind and in key order (the same bytes whichever run computed them):
        ``{kind}_keys`` and ``{kind}_values`` (float rows), or ``{kind}_blob`` and ``{kind}_off`` (bytes)."""
        out: dict[str, np.ndarray] = {}
        for kind in sorted(self.used):
            entries = self.used[kind]
            keys = sorted(entries)
            out[f"{kind}_keys"] = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32)
            if all(entries[k].dtype == np.uint8 for k in keys):
                out[f"{kind}_blob"] = np.concatenate([entries[k] for k in keys]) if keys else np.zeros(0, np.uint8)
                out[f"{kind}_off"] = np.concatenate([[0], np.cumsum([len(entries[k]) for k in keys])]).astype(np.int64)
                continue
            width = max((len(entries[k]) for k in keys), default=0)
            out[f"{kind}_values"] = np.array([entries[k] for k in keys], dtype=np.float64).reshape(len(keys), width)
        return out


_ACTIVE: ContextVar[Memo | None] = ContextVar("siteplan_memo", default=None)


def active() -> Memo | None:
    """The run's memo, or None outside a run."""
    return _ACTIVE.get()


@contextmanager
def using(memo: Memo | None) -> Iterator[None]:
    """Make ``memo`` the active one for the block."""
    token = _ACTIVE.set(memo)
    try:
        yield
    finally:
        _ACTIVE.reset(token)
