#!/usr/bin/env bash
# System packages for the tests that drive real outside programs: Debian's chromium + chromedriver
# (browser tests), postgresql + postgresql-postgis (PostGIS tests), qgis + python3-qgis (QGIS tests),
# and axe-core from npm (accessibility check). Installed only when missing and only when we may (root
# with apt-get); otherwise each group's tests skip with a note. One `apt-get update` and one
# `apt-get install` for everything missing, so `make test` can run this in the background while pip
# installs the Python packages.
#
# usage: scripts/system_deps.sh [browser] [postgis] [qgis] [axe]   (no argument: all four)
set -u
want=("$@")
[ ${#want[@]} -eq 0 ] && want=(browser postgis qgis axe)
has() { local w; for w in "${want[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

pkgs=()   # installed without recommends
browser=()  # chromium with its recommends (fonts), as before
if has browser && ! { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }; then
  browser=(chromium chromium-driver)
fi
if has postgis && ! { ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 \
    && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }; then
  pkgs+=(postgresql postgresql-postgis)
fi
if has qgis && ! { /usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 && command -v qgis_process >/dev/null 2>&1; }; then
  pkgs+=(qgis python3-qgis)
fi

all=("${browser[@]}" "${pkgs[@]}")
if [ ${#all[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${all[*]} for the browser, PostGIS and QGIS tests"
    start=$(date +%s)
    ok=1
    apt-get update -qq || ok=0
    if [ $ok = 1 ] && [ ${#browser[@]} -gt 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${browser[@]}" >/dev/null \
        || echo "note: could not install ${browser[*]}; the browser tests will be skipped"
    fi
    if [ $ok = 1 ] && [ ${#pkgs[@]} -gt 0 ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null \
        || echo "note: could not install ${pkgs[*]}; the tests that need them will be skipped"
    fi
    [ $ok = 1 ] || echo "note: apt-get update failed; the tests that need ${all[*]} will be skipped"
    echo "system packages done in $(( $(date +%s) - start )) s"
  else
    echo "note: ${all[*]} not installed (needs root with apt-get); the tests that need them will be skipped"
  fi
fi

# axe-core (accessibility checker) for the browser tests only, never shipped in the report
AXE=tests/.cache/axe-core/axe.min.js
if has axe && [ ! -f "$AXE" ]; then
  if command -v npm >/dev/null 2>&1; then
    ( mkdir -p tests/.cache && cd tests/.cache && npm pack --silent axe-core@4 >/dev/null \
      && tar -xzf axe-core-*.tgz package/axe.min.js package/LICENSE && rm -rf axe-core && mv package axe-core \
      && rm -f axe-core-*.tgz ) || echo "note: could not fetch axe-core; the accessibility check will be skipped"
  else
    echo "note: npm is not installed; the accessibility check will be skipped"
  fi
fi
exit 0
