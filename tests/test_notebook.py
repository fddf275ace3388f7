"""The walkthrough notebook runs from start to end (so it never rots), shows plots and a map, and is
saved with its outputs (so it reads without running)."""

from __future__ import annotations

import pytest
from conftest import ROOT

nbformat = pytest.importorskip("nbformat")
NOTEBOOK = ROOT / "notebooks" / "walkthrough.ipynb"


def _outputs(nb) -> list[dict]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _check(nb) -> None:
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = " ".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "UTM zone 39N" in text and "scrap at estate E03" in text
    assert "map page:" in text and "unassigned businesses" in text
    # the plots: four panels in two figures
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2
    # the map: an iframe whose page carries Leaflet itself (nothing fetched) and the layers
    (page,) = [o["data"]["text/html"] for o in outputs if "<iframe srcdoc=" in str(o.get("data", {}).get("text/html", ""))]
    assert "src=&quot;http" not in page and "href=&quot;http" not in page.replace(
        "href=&quot;https://leafletjs.com", "")  # Leaflet's own credit link is no request
    assert "proposed sites" in page and "unassigned businesses (colour: reason)" in page


def test_the_saved_notebook_has_its_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("outputs") for c in code), "run the notebook and save it with its outputs"
    assert all(c.get("execution_count") for c in code)
    _check(nb)


def test_walkthrough_executes():
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("matplotlib")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = []
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT / "notebooks")}})
    client.execute()
    _check(nb)
