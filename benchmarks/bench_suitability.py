#!/usr/bin/env python
"""Suitability engine benchmarks (figures for the suitability issue).

1. Exact distance field on an 8000 × 8000 grid: siteplan (the edt package, two threads) against GDAL's
   ``gdal_proximity.py`` (Debian's gdal-bin) on the same input, with the maximum difference in pixels.
2. Weighted combination of 6 float32 criteria on 8000 × 8000 against the time to copy the 6 arrays once.
3. Monte Carlo rank acceptability: 1,000 weight draws over 1,000 candidates.

Run: ``python benchmarks/bench_suitability.py [--size 8000]``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from siteplan.scoring.criteria import distance_field
from siteplan.locate.sensitivity import rank_acceptability
from siteplan.scoring.suitability import wlc


def best_of(fn, n=3):
    ts = []
    out = None
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), sorted(ts)[len(ts) // 2], out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=8000)
    args = ap.parse_args()
    n = args.size
    rng = np.random.default_rng(0)
    mask = rng.random((n, n)) < 2e-5  # scattered features
    mask[n // 2, : n // 3] = True  # and a line
    _, med, d = best_of(lambda: distance_field(mask, 1.0), 3)
    from scipy import ndimage

    t0 = time.perf_counter()
    ref = ndimage.distance_transform_edt(~mask)
    t_ref = time.perf_counter() - t0
    print(f"distance field {n}x{n}: siteplan median {med:.2f} s; scipy's exact EDT {t_ref:.2f} s; "
          f"max |siteplan - scipy| = {np.abs(d - ref).max():.2e} px (target < 0.01)")
    del ref
    exe = shutil.which("gdal_proximity.py") or shutil.which("gdal_proximity")
    if exe:
        import rasterio
        from rasterio.transform import from_origin

        with tempfile.TemporaryDirectory() as tmp:
            src, dst = Path(tmp) / "src.tif", Path(tmp) / "dst.tif"
            with rasterio.open(src, "w", driver="GTiff", width=n, height=n, count=1, dtype="uint8",
                               transform=from_origin(0, n, 1, 1), crs="EPSG:32639") as ds:
                ds.write(mask.astype("uint8"), 1)
            ts = []
            for _ in range(3):
                dst.unlink(missing_ok=True)
                t0 = time.perf_counter()
                subprocess.run([exe, str(src), str(dst), "-values", "1", "-distunits", "PIXEL", "-ot", "Float32",
                                "-q"], check=True)
                ts.append(time.perf_counter() - t0)
            with rasterio.open(dst) as ds:
                g = ds.read(1)
            print(f"distance field {n}x{n}: GDAL gdal_proximity median {sorted(ts)[1]:.2f} s (whole process); "
                  f"max |siteplan - GDAL| = {np.abs(d - g).max():.3f} px (GDAL's proximity is not exact)")
    else:
        print("gdal_proximity not found: install Debian's gdal-bin to compare")
    del d
    crit = [rng.random((n, n), dtype=np.float32) for _ in range(6)]
    w = np.full(6, 1 / 6)
    out = np.empty((n, n), np.float32)
    _, t_wlc, _ = best_of(lambda: wlc(crit, w, out=out), 3)
    dst = [np.empty_like(c) for c in crit]
    _, t_copy, _ = best_of(lambda: [np.copyto(o, c) for o, c in zip(dst, crit)], 3)
    print(f"WLC of 6 criteria {n}x{n}: median {t_wlc:.2f} s; copying the 6 inputs once: {t_copy:.2f} s; "
          f"ratio {t_wlc / t_copy:.2f} (target <= 3)")
    del crit, dst
    x = rng.random((1000, 6))
    wt = rng.dirichlet(np.ones(6))
    _, t_mc, _ = best_of(lambda: rank_acceptability(x, wt, draws=1000, seed=1), 5)
    print(f"Monte Carlo: 1,000 weight draws x 1,000 candidates: median {t_mc:.3f} s (target < 1 s)")


if __name__ == "__main__":
    main()
