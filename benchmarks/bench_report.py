#!/usr/bin/env python
"""Report size and time to interactive (targets: demo report at most 5 MB; a report over 100,000
businesses and 1,000 estates at most 20 MB and interactive in headless Chromium within 5 s).

Runs the demo, then a synthetic province of 100,000 businesses and 1,000 estates
(``benchmarks/_synthetic.py``) through the whole pipeline, and loads each report in headless Chromium
with networking disabled, timing navigation start to the end of the load event (every script run,
the map and its layers built). Needs Debian's chromium and chromedriver.

Run: ``python benchmarks/bench_report.py [--businesses 100000 --estates 1000]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _synthetic import write_region  # noqa: E402

from siteplan.pipeline import demo_scenario_path, run_scenario_file  # noqa: E402


def time_to_interactive(html: Path, runs: int = 3) -> list[float]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900",
              "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--disable-background-networking"):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    out = []
    try:
        for _ in range(runs):
            d.get(html.as_uri())
            ms = d.execute_script("var t = performance.timing; return t.loadEventEnd - t.navigationStart;")
            n = d.execute_script("var k = Object.keys(window).find(k => k.startsWith('map_') && window[k]._layers);"
                                 "var c = 0; window[k].eachLayer(function () { c++; }); return c;")
            assert n > 0
            out.append(ms / 1000)
    finally:
        d.quit()
    return sorted(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--businesses", type=int, default=100_000)
    ap.add_argument("--estates", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run_scenario_file(demo_scenario_path(), tmp / "demo")
        demo = tmp / "demo" / "report.html"
        t = time_to_interactive(demo)
        print(f"demo report: {demo.stat().st_size / 1e6:.2f} MB (target <= 5 MB); "
              f"interactive in {t[len(t) // 2]:.2f} s (median of {len(t)})")
        sc = write_region(tmp / "big", n_businesses=args.businesses, n_estates=args.estates)
        t0 = time.perf_counter()
        res = run_scenario_file(sc, tmp / "big" / "out")
        wall = time.perf_counter() - t0
        big = tmp / "big" / "out" / "report.html"
        t = time_to_interactive(big)
        print(f"{args.businesses} businesses, {args.estates} estates: pipeline {wall:.1f} s; report "
              f"{big.stat().st_size / 1e6:.2f} MB (target <= 20 MB); interactive in {t[len(t) // 2]:.2f} s "
              f"(median of {len(t)}; target <= 5 s)")
        print("stage timings:", res.timings)


if __name__ == "__main__":
    main()
