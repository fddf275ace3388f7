"""Classification accuracy on a registry with known categories: rules, then the name model.

    .venv/bin/python benchmarks/bench_classify.py                       # held-out registry
    .venv/bin/python benchmarks/bench_classify.py --sweep               # every threshold
    .venv/bin/python benchmarks/bench_classify.py tests/data/registry_fa.csv --truth expected
    .venv/bin/python benchmarks/bench_classify.py --speed 100000        # timing on 10^5 names

The classifier sees ``biz_id``, ``name`` and ``isic`` only; the truth column is read after. "Right" is
the share of ALL rows classified to their true category, "wrong" the share given another category,
"review" the share left unclassified (review.csv).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from siteplan.classify_ml import DEFAULT_MIN_CONFIDENCE, apply_fallback, train  # noqa: E402
from siteplan.guilds import classify, load_catalogue  # noqa: E402


def measure(path: Path, truth: str = "true_category", min_confidence: float = DEFAULT_MIN_CONFIDENCE,
            sweep: bool = False) -> dict[str, float]:
    """Figures for one registry (and a threshold sweep printed when asked)."""
    reg = pd.read_csv(path, dtype=str, keep_default_na=False)
    seen = reg[[c for c in ("biz_id", "name", "isic") if c in reg]].replace({"": None})
    cat = load_catalogue()
    rules = classify(seen, cat)
    model = train(cat, rules)
    true = reg[truth].to_numpy()

    def figures(t: float) -> dict[str, float]:
        out = apply_fallback(rules, cat, t, model=model)
        got = out["category"].fillna("").to_numpy()
        right = got == true
        wrong = (got != "") & ~right
        return {"n": len(reg), "right": right.mean(), "wrong": wrong.mean(), "review": (got == "").mean(),
                "n_wrong": int(wrong.sum()), "n_review": int((got == "").sum()),
                "by_model": int((out["class_by"] == "model").sum())}

    r0 = rules["category"].fillna("").to_numpy()
    print(f"{path.name}: {len(reg)} rows; rules alone: right {np.mean(r0 == true):.1%}, "
          f"wrong {np.mean((r0 != '') & (r0 != true)):.1%}, unclassified {np.mean(r0 == ''):.1%}")
    if sweep:
        for t in np.round(np.arange(0.2, 0.95, 0.05), 2):
            f = figures(float(t))
            print(f"  min_confidence {t:.2f}: right {f['right']:.1%}  wrong {f['wrong']:.1%} ({f['n_wrong']})  "
                  f"review {f['review']:.1%} ({f['n_review']})  by model {f['by_model']}")
    f = figures(min_confidence)
    print(f"rules + model (min_confidence {min_confidence:g}): right {f['right']:.1%}, "
          f"wrong guesses {f['wrong']:.1%} ({f['n_wrong']}), sent to review {f['review']:.1%} ({f['n_review']}); "
          f"{f['by_model']} classified by the model")
    return f


def speed(n: int) -> None:
    """Rules + training + model on n synthetic names."""
    reg = pd.read_csv(ROOT / "tests" / "data" / "registry_fa.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(0)
    names = reg["name"].to_numpy()[rng.integers(0, len(reg), n)]
    names = [f"{a} {i % 97}" if i % 3 else f"کارگاه {i} {a}" for i, a in enumerate(names)]
    df = pd.DataFrame({"biz_id": np.arange(n), "name": names})
    cat = load_catalogue()
    t0 = time.perf_counter()
    rules = classify(df, cat)
    t1 = time.perf_counter()
    out = apply_fallback(rules, cat)
    t2 = time.perf_counter()
    print(f"{n} names: rules {t1 - t0:.2f} s, model (train + predict {int(rules['category'].isna().sum())}) "
          f"{t2 - t1:.2f} s; by model {int((out['class_by'] == 'model').sum())}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("registry", nargs="?", default=str(ROOT / "tests" / "data" / "registry_heldout.csv"))
    ap.add_argument("--truth", default="true_category")
    ap.add_argument("--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE)
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--speed", type=int, default=0)
    a = ap.parse_args()
    if a.speed:
        speed(a.speed)
        return
    measure(Path(a.registry), a.truth, a.min_confidence, a.sweep)


if __name__ == "__main__":
    main()
