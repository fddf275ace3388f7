"""Validate the public API's docstrings with numpydoc (``make lint`` runs it; exit 1 on any finding).

    .venv/bin/python scripts/check_docstrings.py            # every public name, findings listed
    .venv/bin/python scripts/check_docstrings.py --count    # findings per check code

The public API is what users import: the names of ``siteplan.__all__`` and the ``__all__`` of every stage
package's face (``siteplan.locate``, ``siteplan.zoning``, ...). Every one of them must pass numpydoc's
validation but for the checks in :data:`IGNORED`, each ignored for the reason written beside it. Internal
modules' docstrings are checked by ruff's pydocstyle rules (numpy convention) instead.
"""

from __future__ import annotations

import argparse
import collections
import importlib
import inspect
import sys

from numpydoc.validate import validate

#: numpydoc checks not enforced, and why (the rest of numpydoc's checks are)
IGNORED = {
    "ES01": "an extended summary is optional: many functions say all in their summary",
    "SA01": "a See Also section is optional; the module docstrings link related functions",
    "EX01": "an Examples section is optional; the README and notebooks hold worked examples",
    "PR04": "parameter types live in the annotations (checked by mypy --strict); repeating them drifts",
    "SS06": "a summary may run over two lines (ruff D205 off, the house style)",
    "GL02": "closing quotes on the summary's last line (ruff D209 off, the house style)",
    "SS05": "a summary says what a function gives ('The grid covering ...'; ruff D401 off, the house style)",
}

#: the package faces whose ``__all__`` is public API (besides ``siteplan`` itself)
FACES = ("siteplan.inputs", "siteplan.guilds", "siteplan.rules", "siteplan.scoring", "siteplan.relocation",
         "siteplan.zoning", "siteplan.locate", "siteplan.programme", "siteplan.report", "siteplan.outputs",
         "siteplan.national", "siteplan.guild_relocation")


def public_names() -> list[str]:
    """The public API's dotted names: the functions and classes of ``siteplan.__all__`` and of every face's
    ``__all__`` (constants and type aliases are documented where they are defined, with ``#:`` comments)."""
    names = []
    for face in ("siteplan", *FACES):
        module = importlib.import_module(face)
        for n in getattr(module, "__all__", ()):
            obj = getattr(module, n, None) if not n.startswith("_") else None
            if inspect.isfunction(obj) or inspect.isclass(obj):
                names.append(f"{face}.{n}")
    return sorted(set(names))


def findings(names: list[str]) -> list[tuple[str, str, str]]:
    """(name, check code, message) for every finding of numpydoc's validation not in :data:`IGNORED`."""
    out = []
    for name in names:
        result = validate(name)
        out += [(name, code, msg) for code, msg in result["errors"] if code not in IGNORED]
    return out


def main() -> int:
    """Print the findings; 0 when there are none, 1 otherwise."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", action="store_true", help="print the findings per check code")
    args = ap.parse_args()
    names = public_names()
    found = findings(names)
    if args.count:
        for code, n in collections.Counter(c for _, c, _ in found).most_common():
            print(f"{n:5d} {code}")
    else:
        for name, code, msg in found:
            print(f"{name}: {code} {msg}")
    print(f"numpydoc: {len(names)} public names, {len(found)} findings", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
