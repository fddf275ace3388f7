"""The name model trained in a child process (:func:`siteplan.guilds.ngram_model.fit_here`), for a parent
whose OpenBLAS does not run the pinned kernel (:mod:`siteplan.common.blas`).

``python -P -m siteplan.guilds.fit_child FOLDER PACKAGE`` reads ``FOLDER/data.json`` (texts and labels) and
``FOLDER/weights.npy`` and writes ``FOLDER/model.npz``. The folder is the parent's private temporary one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..common.blas import kernel_in_use


def main(folder: str, package: str) -> int:
    """Train on the folder's data and write the model; 0 on success, 2 when the kernel is not pinned, 3 when
    the siteplan imported is not the parent's (``package``: its folder)."""
    import numpy as np

    from .ngram_model import fit_here

    if not kernel_in_use():
        sys.stderr.write("the pinned OpenBLAS kernel is not in use in the child process\n")
        return 2
    mine = str(Path(__file__).resolve().parents[1])
    if mine != package:
        sys.stderr.write(f"the child imported siteplan from {mine}, not the parent's {package}\n")
        return 3
    d = Path(folder)
    texts, labels = json.loads((d / "data.json").read_text(encoding="utf-8"))
    weights = np.load(d / "weights.npy", allow_pickle=False)
    (d / "model.npz").write_bytes(fit_here(texts, labels, weights).to_npz())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
