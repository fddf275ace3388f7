"""Issue #31, the write stage: each faster path gives exactly what the slower code it replaced gave (the
demo's outputs are pinned byte for byte by test_demo_run; these check the same on awkward inputs too)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from markupsafe import Markup

from siteplan.common.units import M2_PER_HA


def _score_sd_whole(scores, weights, concentration):
    """score_sd as it was: whole arrays, a new temporary per product."""
    w = np.asarray(weights, dtype=float)
    a = np.maximum(w * concentration, 1e-3)
    a0 = a.sum()
    cov = (np.diag(a) * a0 - np.outer(a, a)) / (a0 ** 2 * (a0 + 1))
    var = np.zeros(scores[0].shape, dtype=np.float64)
    for i, si in enumerate(scores):
        for j, sj in enumerate(scores):
            if j < i:
                continue
            var += cov[i, j] * (1 if i == j else 2) * si.astype(np.float64) * sj
    return np.sqrt(np.maximum(var, 0.0)).astype(np.float32)


@pytest.mark.parametrize("shape", [(1,), (7, 3), (300, 250), (1 << 15,), ((1 << 15) + 1,)])
def test_score_sd_blockwise_has_the_same_bits(shape):
    from siteplan.locate.sensitivity import score_sd

    rng = np.random.default_rng(len(shape) + shape[0])
    for k in (1, 2, 5):
        scores = [rng.random(shape, dtype=np.float32) for _ in range(k)]
        scores[0][..., :1] = np.nan  # NaN stays NaN
        w = rng.dirichlet(np.ones(k))
        got, want = score_sd(scores, w, 30.0), _score_sd_whole(scores, w, 30.0)
        assert got.dtype == np.float32 and got.shape == want.shape
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32))


def _origin_table_by_group(res, by="town"):
    """origin_table as it was: a frame per group."""
    from siteplan.programme.summaries import origins

    rows = res.plan.rows.copy()
    rows[by] = origins(res).reindex(rows["biz_id"]).to_numpy()
    rows[by] = rows[by].fillna("(unknown)")
    out = []
    for key, g in rows.groupby(by, sort=True):
        c = g.loc[g["status"] == "assigned", "estate_id"].value_counts()
        out.append({by: key, "businesses": len(g), "assigned": int((g["status"] == "assigned").sum()),
                    "unassigned": int((g["status"] == "unassigned").sum()),
                    "unclassified": int(g["category"].isna().sum()),
                    "land_ha": round(float(g["land_m2"].sum()) / M2_PER_HA, 3),
                    "destinations": "; ".join(f"{e} ({n})" for e, n in c.items())})
    t = pd.DataFrame(out, columns=[by, "businesses", "assigned", "unassigned", "unclassified", "land_ha",
                                   "destinations"])
    return t.sort_values(["businesses", by], ascending=[False, True], kind="mergesort").reset_index(drop=True)


def test_origin_table_equals_the_per_group_table(demo_result):
    from siteplan.programme.summaries import origin_table

    res = demo_result
    assert origin_table(res).equals(_origin_table_by_group(res))
    # land with gaps and thirds (float sums whose order matters), statuses shuffled
    rng = np.random.default_rng(3)
    rows = res.plan.rows
    land = np.where(rng.random(len(rows)) < 0.1, np.nan, rng.random(len(rows)) * 1e4 / 3)
    odd = dataclasses.replace(res, plan=dataclasses.replace(
        res.plan, rows=rows.assign(land_m2=land, status=rng.permutation(rows["status"].to_numpy()))))
    assert origin_table(odd).equals(_origin_table_by_group(odd))


def _chains_by_group(res):
    """The chains table's rows as they were built: a frame per (level, id, chain)."""
    rows = []
    for (level, gid, chain), g in res.programme.chains.groupby(["level", "id", "chain"], sort=False):
        present = g.loc[g["status"] == "present", "link"].tolist()
        near = g.loc[g["status"] == "in reach", "link"].tolist()
        miss = g[g["status"] == "missing"]
        missing = "; ".join(f"{r.link} ({r.nearest_biz_id} {r.nearest_km:g} km)" if r.nearest_biz_id else
                            f"{r.link} (none in the province)" for r in miss.itertuples())
        done = (len(present) + len(near)) / len(g)
        rows.append([level, gid, chain, g["headed_to"].iloc[0] or "—", int(g["members"].iloc[0]),
                     ", ".join(present), ", ".join(near) or "—", missing or "—", f"{done:.0%}"])
    return rows


def test_chains_rows_equal_the_per_group_rows(demo_result, monkeypatch):
    from siteplan.report import programme

    seen = []
    real = programme.table
    monkeypatch.setattr(programme, "table", lambda hdr, rows: seen.append(rows) or real(hdr, rows))
    assert programme._chains(demo_result)
    assert seen and seen[0] == _chains_by_group(demo_result) and len(seen[0]) > 10


def test_table_escapes_as_markup_format():
    from siteplan.report.tables import cell, table

    hostile = ['<script>alert(1)</script>', "a & b", '"q"', "نانوایی", None, float("nan"), 1.5, 3,
               Markup("<b>kept</b>"), "{0} {x}"]
    want = Markup('<table class="sp"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>').format(
        Markup("").join(Markup("<th>{}</th>").format(cell(h)) for h in hostile),
        Markup("").join(Markup("<tr>{}</tr>").format(Markup("").join(Markup("<td>{}</td>").format(cell(c)) for c in r))
                        for r in [hostile, list(reversed(hostile))]))
    got = table(hostile, [hostile, list(reversed(hostile))])
    assert isinstance(got, Markup) and got == want and "<script>" not in got


def test_suitability_overlays_in_one_warp_equal_one_by_one(demo_result):
    from siteplan.report import lang
    from siteplan.report.overlays import overlay_images, suitability

    codes = list(demo_result.prep.codes)[:4]
    images, bounds = overlay_images(demo_result, codes)
    with lang.language("both"):
        for code, image in zip(codes, images):
            alone = overlay_images(demo_result, [code])
            assert np.array_equal(alone[0][0], image, equal_nan=True) and alone[1] == bounds
            assert suitability(demo_result, code) == suitability(demo_result, code, (image, bounds))


def test_csv_neutralising_each_text_once_keeps_every_value():
    from siteplan.outputs.formats import _defuse, neutralise_formulas, safe_csv

    col = ["=x", "=x", None, float("nan"), [1, 2], "ok", "\u200b+1", 3, 1, True, 1.0, -0.0, 0.0, "", "a\rb", "-3"]
    df = pd.DataFrame({"a": col, "b": pd.array(["=y", None, "z", "=y"] * 4, dtype="string")})
    got = neutralise_formulas(df)
    for c in df:
        want = [_defuse(v) for v in df[c].tolist()]
        assert [(type(v), repr(v)) for v in got[c].tolist()] == [(type(v), repr(v)) for v in want]
    text = safe_csv(df)
    assert "\r\n" in text and "True" in text and "-0.0" in text and "'=x" in text  # CRLF: a cell holds a CR
