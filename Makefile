# Two commands: `make demo` and `make test` (`make test-fast` skips the slow tests). Both create .venv if missing and install what is needed.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.siteplan-installed
AXE     = tests/.cache/axe-core/axe.min.js

.PHONY: demo test test-fast install bench clean browser postgis qgis lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# uv (from PyPI, through pip) installs the same packages several times faster than pip (parallel
# downloads); plain pip is the fallback when uv cannot be had or fails.
$(STAMP): pyproject.toml | $(BIN)/python
	@if $(BIN)/python -m pip install --quiet uv && $(BIN)/python -m uv pip install --quiet --python $(BIN)/python -e '.[test]'; then :; \
	else echo "note: installing with pip (uv was not available)"; \
	  $(BIN)/python -m pip install --quiet --upgrade pip && $(BIN)/python -m pip install --quiet -e '.[test]'; fi
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/siteplan demo --out out/demo --overwrite

# The browser tests need Debian's chromium and chromedriver; installed here when we may (root with
# apt-get), else those tests skip with a note.
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium and chromium-driver for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	  || echo "note: could not install chromium; the browser tests will be skipped"; \
	else echo "note: chromium is not installed; the browser tests will be skipped"; fi
	@# axe-core (accessibility checker) for the browser tests only, never shipped in the report
	@if [ -f $(AXE) ]; then :; elif command -v npm >/dev/null 2>&1; then \
	  mkdir -p tests/.cache && cd tests/.cache && npm pack --silent axe-core@4 >/dev/null \
	  && tar -xzf axe-core-*.tgz package/axe.min.js package/LICENSE && rm -rf axe-core && mv package axe-core \
	  && rm -f axe-core-*.tgz || echo "note: could not fetch axe-core; the accessibility check will be skipped"; \
	else echo "note: npm is not installed; the accessibility check will be skipped"; fi

# The PostGIS tests start a throwaway PostgreSQL + PostGIS server (tests/test_gis_io.py); Debian's
# packages are installed here when we may (root with apt-get), else those tests skip with a note.
postgis:
	@if ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 \
	  && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing postgresql and postgresql-postgis for the PostGIS tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    postgresql postgresql-postgis >/dev/null) \
	  || echo "note: could not install postgresql and postgis; the PostGIS tests will be skipped"; \
	else echo "note: PostgreSQL with PostGIS is not installed; the PostGIS tests will be skipped"; fi

# The QGIS tests need Debian's QGIS (qgis_process and the python bindings, in the system python);
# installed here when we may (root with apt-get; about 140 MB to download, 1.1 GB installed, 4 minutes),
# else those tests skip with a note.
qgis:
	@if /usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 && command -v qgis_process >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing qgis and python3-qgis for the QGIS tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    qgis python3-qgis >/dev/null) \
	  || echo "note: could not install QGIS; the QGIS tests will be skipped"; \
	else echo "note: QGIS is not installed; the QGIS tests will be skipped"; fi

lint: $(STAMP)
	$(BIN)/ruff check siteplan
	$(BIN)/mypy

# The whole suite; tests/conftest.py orders the files heaviest first, so the two workers end together.
test: $(STAMP) browser postgis qgis lint
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder

# The inner loop: everything but the tests marked slow (whole demo runs, browsers, QGIS, wheel, notebook).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder -m "not slow"

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf out .pytest_cache
