# Two commands: `make demo` and `make test` (`make test-fast` skips the slow tests). Both create .venv if missing and install what is needed.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.siteplan-installed
SYSLOG  = .sysdeps.log
SYSDONE = .sysdeps.done

.PHONY: demo test test-fast install bench clean browser postgis qgis sysdeps lint constraints

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# uv (from PyPI, through pip) installs the same packages several times faster than pip (parallel
# downloads); plain pip is the fallback when uv cannot be had or fails.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	@if $(BIN)/python -m pip install --quiet uv && $(BIN)/python -m uv pip install --quiet --compile-bytecode --python $(BIN)/python -c constraints.txt -e '.[test]'; then :; \
	else echo "note: installing with pip (uv was not available)"; \
	  $(BIN)/python -m pip install --quiet --upgrade pip && $(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'; fi
	touch $(STAMP)

install: $(STAMP)

# The package's own bytecode, written where the sources are (only files changed since are compiled; an error
# in a source stops the target): a
# process then starts in about 0.8 s instead of 2.5 s where PYTHONDONTWRITEBYTECODE is set (CI machines,
# containers), which keeps Python from caching what it compiles. uv compiles the installed packages.
BYTECODE = $(BIN)/python -m compileall -q siteplan

demo: $(STAMP)
	@$(BYTECODE)
	$(BIN)/siteplan demo --out out/demo --overwrite

# The browser, PostGIS and QGIS tests drive real programs (Debian's chromium + chromedriver, postgresql +
# postgresql-postgis, qgis + python3-qgis; axe-core from npm). scripts/system_deps.sh installs what is
# missing when we may (root with apt-get; QGIS is about 140 MB to download), else those tests skip with a
# note. `make test` runs it in the background while pip installs and the linters run.
browser:
	@scripts/system_deps.sh browser axe
postgis:
	@scripts/system_deps.sh postgis
qgis:
	@scripts/system_deps.sh qgis
sysdeps:
	@scripts/system_deps.sh

lint: $(STAMP)
	$(BIN)/ruff check siteplan
	$(BIN)/mypy
	$(BIN)/python scripts/check_docstrings.py

# The whole suite; tests/conftest.py orders the files heaviest first, so the two workers end together.
test:
	@rm -f $(SYSDONE); (scripts/system_deps.sh >$(SYSLOG) 2>&1; touch $(SYSDONE)) & \
	$(MAKE) --no-print-directory lint; st=$$?; \
	while [ ! -f $(SYSDONE) ]; do sleep 2; done; cat $(SYSLOG); rm -f $(SYSDONE) $(SYSLOG); \
	[ $$st = 0 ] || exit $$st; \
	$(BYTECODE) && $(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=25

# The inner loop: everything but the tests marked slow (whole demo runs, browsers, QGIS, wheel, notebook).
test-fast: $(STAMP)
	@$(BYTECODE)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder -m "not slow"

bench: $(STAMP)
	@$(BYTECODE)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# Record the installed versions as the constraints (after a deliberate upgrade; then rewrite the demo
# expectations with scripts/demo_expectations.py --write if output bytes changed).
constraints:
	@{ echo '# Exact versions the tests and the committed demo expectations (tests/data/demo_outputs.json) were made with.'; \
	  echo '# `make install` installs within them; regenerate with `make constraints` after a deliberate upgrade.'; \
	  $(BIN)/python -m uv pip freeze --python $(BIN)/python | grep -v '^-e'; } > constraints.txt

clean:
	rm -rf out .pytest_cache
	find siteplan -name __pycache__ -type d -prune -exec rm -rf {} +
