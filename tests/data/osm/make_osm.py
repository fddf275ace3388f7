"""Writes the hand-made OpenStreetMap extracts of tests/test_osm.py (a corner of Qom province, made up):
``python make_osm.py full > qom_hand.osm`` (or ``nodeonly``, ``nested``), then ``python -c "import osmium ..."`` as in
``to_pbf`` below turns the XML into the ``.osm.pbf`` files committed beside it (pyosmium is not a dependency:
the PBFs are committed, this script only says how they were made)."""
import sys, random
from xml.sax.saxutils import quoteattr
random.seed(1)
variant = sys.argv[1] if len(sys.argv) > 1 else "full"
nid = [1000]; wid = [5000]; nodes = []; ways = []; rels = []
def node(lon, lat, tags=None):
    nid[0] += 1; nodes.append((nid[0], lon, lat, tags or {})); return nid[0]
def way(coords, tags, closed=False):
    ids = [node(x, y) for x, y in coords]
    if closed: ids.append(ids[0])
    wid[0] += 1; ways.append((wid[0], ids, tags)); return wid[0]
def rect(x0, y0, x1, y1): return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
# homes
if variant != "nodeonly":  # "nodeonly": the towns mapped as place nodes only, no area drawn
    way(rect(50.85, 34.62, 50.91, 34.67), {"landuse": "residential", "name": "قم", "name:fa": "قم", "name:en": "Qom"}, True)
node(50.88, 34.645, {"place": "town", "name": "قم", "name:fa": "قم", "name:en": "Qom", "population": "۱٬۲۰۰٬۰۰۰"})
if variant != "nodeonly":
    way(rect(50.70, 34.55, 50.715, 34.56), {"place": "village", "name": "کهک", "name:en": "Kahak", "population": "۳۵۰۰"}, True)
else:
    node(50.707, 34.555, {"place": "village", "name:en": "Kahak", "population": "3500"})
if variant == "nested":  # a city's boundary around the residential area and its node; a named area around a node
    way(rect(50.80, 34.58, 50.96, 34.70), {"place": "city", "name": "قم (مرز شهر)"}, True)
    way(rect(50.72, 34.60, 50.74, 34.61), {"landuse": "residential", "name": "فاز ۲"}, True)
    node(50.73, 34.605, {"place": "village", "name": "Dehnow", "population": "900"})
if variant != "noestates":
    way(rect(50.98, 34.58, 51.00, 34.60), {"landuse": "industrial", "name": "شهرک صنعتی شکوهیه", "name:fa": "شهرک صنعتی شکوهیه", "name:en": "Shokouhieh Industrial Estate"}, True)
    way(rect(50.80, 34.70, 50.806, 34.705), {"landuse": "industrial", "name:en": "Small zone"}, True)
if variant != "noroads":
    way([(50.88, 34.645), (50.93, 34.62), (50.99, 34.59)], {"highway": "trunk", "name": "جاده کاشان"})
    way([(50.88, 34.645), (50.84, 34.68), (50.803, 34.702)], {"highway": "primary", "name": "جاده تهران"})
    way([(50.86, 34.63), (50.90, 34.63), (50.90, 34.66)], {"highway": "residential", "name": "خیابان ۱"})
    way([(50.70, 34.555), (50.86, 34.63)], {"highway": "secondary"})
    way([(50.75, 34.75), (51.05, 34.55)], {"highway": "motorway", "name:en": "Tehran-Qom freeway"})
way([(50.75, 34.60), (51.05, 34.62)], {"railway": "rail"})
way([(50.75, 34.58), (51.05, 34.57)], {"power": "line"})
way([(50.75, 34.57), (51.05, 34.565)], {"man_made": "pipeline", "substance": "gas"})
way([(50.95, 34.70), (51.05, 34.72)], {"waterway": "river", "name": "رودخانه قمرود"})
if variant != "nobiz":
    shops = ([("shop", "car_repair", "تعمیرگاه خودرو", "Auto repair")] * 10 + [("craft", "metal_construction", "آهنگری", "Metal works")] * 5
             + [("shop", "tyres", "لاستیک فروشی", "Tyres")] * 4 + [("shop", "car", "نمایشگاه اتومبیل", "Car showroom")] * 2
             + [("craft", "carpenter", "نجاری", "Carpentry")] * 3 + [("amenity", "car_wash", "کارواش", "Car wash")])
    for i, (k, v, fa, en) in enumerate(shops):
        node(50.86 + random.random() * 0.04, 34.625 + random.random() * 0.04,
             {k: v, "name": f"{fa} {i}", "name:fa": f"{fa} {i}", "name:en": f"{en} {i}"})
    node(50.87, 34.64, {"shop": "supermarket", "brand": "افق کوروش", "name": "افق کوروش"})
    node(50.871, 34.641, {"shop": "supermarket", "name": "سوپرمارکت حسن"})
    node(50.872, 34.642, {"shop": "bakery", "name": "نانوایی سنگک"})
    way(rect(50.875, 34.635, 50.8755, 34.6355), {"shop": "car_repair", "building": "yes", "name": "تعمیرگاه بزرگ"}, True)
def to_pbf(src: str, dst: str) -> None:
    """The XML as a PBF (needs ``pip install osmium``)."""
    import osmium

    w = osmium.SimpleWriter(dst, overwrite=True)
    for o in osmium.FileProcessor(src):
        w.add(o)
    w.close()


print('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="hand">')
for i, x, y, t in nodes:
    if t:
        print(f' <node id="{i}" version="1" timestamp="2024-01-01T00:00:00Z" lat="{y:.7f}" lon="{x:.7f}">')
        for k, v in t.items(): print(f'  <tag k={quoteattr(k)} v={quoteattr(v)}/>')
        print(' </node>')
    else:
        print(f' <node id="{i}" version="1" timestamp="2024-01-01T00:00:00Z" lat="{y:.7f}" lon="{x:.7f}"/>')
for i, ids, t in ways:
    print(f' <way id="{i}" version="1" timestamp="2024-01-01T00:00:00Z">')
    for n in ids: print(f'  <nd ref="{n}"/>')
    for k, v in t.items(): print(f'  <tag k={quoteattr(k)} v={quoteattr(v)}/>')
    print(' </way>')
print('</osm>')
