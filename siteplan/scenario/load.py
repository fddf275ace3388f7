"""Reading and validating a scenario file: every problem collected and named by its key path."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..common.safeyaml import YamlLimitError, load_yaml, lone_surrogates
from ..errors import ScenarioError
from .limits import LAYER_NAMES, shown_value
from .model import NATIONAL_LIST_KEYS, Scenario
from .specs import LayerSpec
from .urls import is_db_url

__all__ = ["load_scenario", "parse_scenario", "read_scenario_file", "salvage_layers"]

def _model_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Known keys at a location (for suggesting the fix of a misspelt key)."""
    import typing

    cur: Any = model
    keyed = False  # the previous part was a dict of models (layers): this part is a user's key
    for part in loc[:-1]:
        if isinstance(part, int) or cur is None or keyed:
            keyed = False
            continue
        field = getattr(cur, "model_fields", {}).get(part)
        if field is None:
            return []
        ann = field.annotation
        keyed = any(typing.get_origin(a) is dict for a in (ann, *typing.get_args(ann)))
        cur = _first_model(ann)
    return list(getattr(cur, "model_fields", {}).keys()) if cur is not None else []


def _first_model(ann: Any) -> Any:
    import typing

    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in typing.get_args(ann):
        m = _first_model(arg)
        if m is not None:
            return m
    return None


def _format_errors(err: ValidationError) -> list[str]:
    out = []
    for e in err.errors():
        loc = tuple(e["loc"])
        path = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(".[", "[")
        if e["type"] == "extra_forbidden":
            known = _model_keys(Scenario, loc)
            hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
            fix = f"did you mean '{hint[0]}'?" if hint else f"known keys here: {', '.join(known)}"
            out.append(f"{path}: unknown key ({fix})")
        elif e["type"] == "missing":
            out.append(f"{path}: required key is missing")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] == "finite_number":
                msg = f"must be a finite number (not .inf or .nan), got {shown_value(e.get('input'))}"
            elif e["type"] == "int_parsing" and isinstance(e.get("input"), str) and _is_float(e["input"]):
                msg = (f"must be a whole number, got the text {e['input']!r} (YAML reads a number such as 1e9 "
                       "as text): write the digits, e.g. 1000")
            elif msg.startswith("Input should be "):
                msg = f"must be {msg.removeprefix('Input should be ')}, got {shown_value(e.get('input'))}"
                if e["type"] in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
                    msg += _allowed_range(Scenario, loc)
            out.append(f"{path}: {msg}" if path else msg)  # top-level checks name their keys
    return out


def _allowed_range(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """``" (allowed: above 0 up to 5,000 km)"``: the bounds of the setting at ``loc``, its unit taken
    from the key's suffix; empty when the location is not a bounded field."""
    import annotated_types as at

    cur: Any = model
    info = None
    keyed = False
    for part in loc:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        info = getattr(cur, "model_fields", {}).get(part)
        if info is None:
            return ""
        keyed = any(getattr(a, "__origin__", None) is dict for a in (info.annotation,))
        cur = _first_model(info.annotation)
    if info is None:
        return ""
    lo = hi = ""
    for m in info.metadata:
        if isinstance(m, at.Gt):
            lo = f"above {m.gt:,g}"
        elif isinstance(m, at.Ge):
            lo = f"from {m.ge:,g}"
        elif isinstance(m, at.Lt):
            hi = f"below {m.lt:,g}"
        elif isinstance(m, at.Le):
            hi = f"up to {m.le:,g}"
    key = str(loc[-1])
    unit = next((u for suf, u in (("_km", " km"), ("_ha", " ha"), ("_m", " m"), ("_s", " s"), ("_pct", " %"))
                 if key.endswith(suf)), "")
    span = " ".join(x for x in (lo, hi) if x)
    return f" (allowed: {span}{unit})" if span else ""


def _is_float(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def parse_scenario(data: dict[str, Any], *, base_dir: str | Path = ".", source: str = "scenario") -> Scenario:
    """Build a :class:`Scenario` from a mapping, collecting every problem.

    Parameters
    ----------
    data
        The parsed YAML mapping.
    base_dir
        Folder that relative paths are resolved against.
    source
        Name used in messages (the scenario file).

    Returns
    -------
    Scenario
        The validated scenario with ``base_dir`` set.

    Raises
    ------
    ScenarioError
        Listing every problem with its key path; includes missing files.
    """
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: the scenario must be a YAML mapping of keys to values")
    data, first = _national_list_keys(dict(data), source)
    try:
        sc = Scenario(**data, base_dir=str(base_dir))
    except ValidationError as err:
        # missing files are said with the other problems (a typo elsewhere must not hide them)
        raise ScenarioError(list(dict.fromkeys(first + [f"{source}: {m}" for m in _format_errors(err)]
                                               + _raw_file_problems(data, Path(base_dir), source)))) from None
    problems = _layer_file_problems(sc, source) + _national_file_problems(sc, source) + _catalogue_file_problems(sc, source)
    if first:
        raise ScenarioError(first + problems)
    if problems:
        raise ScenarioError(problems)
    return sc


def _national_list_keys(data: dict[str, Any], source: str) -> tuple[dict[str, Any], list[str]]:
    """The mapping without ``base_dir`` (and, for a national file listing provincial scenarios, without
    the settings that belong in the provinces' files), and the problems said with every other one (a
    model check would only run once the fields are valid)."""
    data.pop("base_dir", None)
    nat = data.get("national")
    listed = isinstance(nat, dict) and "scenarios" in nat
    first = [] if listed or "layers" in data else [f"{source}: layers: required key is missing"]
    moved = sorted(k for k in data if listed and k in Scenario.model_fields and k not in NATIONAL_LIST_KEYS)
    if moved:
        first.append(f"{source}: {', '.join(moved)}: a national file with a list of provincial scenarios "
                     f"(national.scenarios) sets only {', '.join(NATIONAL_LIST_KEYS)}; each province's layers and "
                     "settings are in its own scenario file: move these there")
        data = {k: v for k, v in data.items() if k not in moved}
    return data, first


def _layer_file_problems(sc: Scenario, source: str) -> list[str]:
    """The layer files that are missing or cannot be read safely (a database layer is read, and its
    problems said, when the layers are loaded)."""
    problems = []
    for name, spec in {n: s for n, s in sc.layers.items() if not is_db_url(s.path)}.items():
        p = sc.resolve(spec.path)
        if not p.exists():
            problems.append(f"{source}: layers.{name}.path: file not found: {spec.path} (looked in {p.parent})")
        else:
            problems += _file_problems(f"{source}: layers.{name}.path", spec.path, p)
    return problems


def _national_file_problems(sc: Scenario, source: str) -> list[str]:
    """The national partitions layer and the provincial scenario files that are missing or unsafe."""
    if sc.national is None:
        return []
    problems = []
    part = sc.national.partitions
    if part is not None:
        if not sc.resolve(part.path).exists():
            problems.append(f"{source}: national.partitions.path: file not found: {part.path}")
        else:
            problems += _file_problems(f"{source}: national.partitions.path", part.path, sc.resolve(part.path))
    for i, f in enumerate(sc.national.scenarios or []):
        why = _file_problems(f"{source}: national.scenarios[{i}]", f, sc.resolve(f))
        if why:
            problems += why
        elif not sc.resolve(f).is_file():
            problems.append(f"{source}: national.scenarios[{i}]: file not found: {f} (looked in {sc.resolve(f).parent})")
    return problems


def _catalogue_file_problems(sc: Scenario, source: str) -> list[str]:
    """The scenario's own catalogue file, missing or unsafe."""
    if not sc.catalogue.path:
        return []
    if not sc.resolve(sc.catalogue.path).exists():
        return [f"{source}: catalogue.path: file not found: {sc.catalogue.path}"]
    return _file_problems(f"{source}: catalogue.path", sc.catalogue.path, sc.resolve(sc.catalogue.path))


def _missing_file(path: object, base_dir: Path) -> Path | None:
    """The file a path of the mapping names when it does not exist (None when it does, or is no file
    path: not text, blank, a database URL, or a name the system refuses; the schema says why)."""
    if not isinstance(path, str) or not path.strip() or is_db_url(path):
        return None
    p = Path(path) if Path(path).is_absolute() else base_dir / path
    try:
        return None if p.exists() else p
    except (OSError, ValueError):  # a name the system refuses (NUL, too long): the schema says why
        return None


def _raw_national_problems(nat: Any, base_dir: Path, source: str) -> list[str]:
    """The national partitions layer and provincial scenarios a mapping names that do not exist."""
    if not isinstance(nat, dict):
        return []
    problems = []
    part = nat.get("partitions")
    if isinstance(part, dict) and _missing_file(part.get("path"), base_dir) is not None:
        problems.append(f"{source}: national.partitions.path: file not found: {part['path']}")
    for i, f in enumerate(nat.get("scenarios") or [] if isinstance(nat.get("scenarios"), list) else []):
        if (p := _missing_file(f, base_dir)) is not None:
            problems.append(f"{source}: national.scenarios[{i}]: file not found: {f} (looked in {p.parent})")
    return problems


def _raw_file_problems(data: dict[str, Any], base_dir: Path, source: str) -> list[str]:
    """The files a scenario mapping names that do not exist, read from the mapping as written (the
    scenario itself did not validate): layers, national partitions and scenarios, the catalogue."""
    problems = []
    layers = data.get("layers")
    for name, spec in (layers.items() if isinstance(layers, dict) else ()):
        p = _missing_file(spec.get("path"), base_dir) if isinstance(spec, dict) else None
        if p is not None:
            problems.append(f"{source}: layers.{name}.path: file not found: {spec['path']} (looked in {p.parent})")
    problems += _raw_national_problems(data.get("national"), base_dir, source)
    cat = data.get("catalogue")
    if isinstance(cat, dict) and _missing_file(cat.get("path"), base_dir) is not None:
        problems.append(f"{source}: catalogue.path: file not found: {cat['path']}")
    return problems


def _file_problems(key: str, given: str, path: Path) -> list[str]:
    """A FIFO, device or socket (directly or through a link), or a table too large to read, among an
    input's files (a shapefile's sidecars included), checked before anything opens them
    (:func:`siteplan.common.fs.input_file_problem`)."""
    from ..common.fs import input_file_problem

    files = [path]
    if path.suffix.lower() == ".shp":
        files += [path.with_suffix(e) for e in (".shx", ".dbf", ".prj", ".cpg", ".SHX", ".DBF", ".PRJ", ".CPG")]
    out = []
    for f in files:
        why = input_file_problem(f)
        if why:
            out.append(f"{key}: {given if f == path else f.name} {why}")
    return out


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file.

    Parameters
    ----------
    path
        The scenario file.

    Returns
    -------
    Scenario
        The validated scenario; relative paths resolve against the file's folder.

    Raises
    ------
    ScenarioError
        When the file is missing, is not YAML, or fails validation.
    """
    path = Path(path)
    return parse_scenario(read_scenario_file(path), base_dir=path.parent.resolve(), source=str(path))


def read_scenario_file(path: Path) -> dict[str, Any]:
    """The mapping a scenario file holds, read with siteplan's safe YAML loader (not yet validated).

    Raises
    ------
    ScenarioError
        When the file is missing, is not YAML or not UTF-8, or breaks the loader's limits.
    """
    from ..common.fs import MAX_TEXT_BYTES, input_file_problem

    why = input_file_problem(path, MAX_TEXT_BYTES)
    if why:
        raise ScenarioError(f"{path}: the scenario file {why}")
    if not path.is_file():
        raise ScenarioError(f"{path}: scenario file not found")
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except YamlLimitError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ScenarioError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: the scenario must be saved as UTF-8") from None
    bad = lone_surrogates(data)
    if bad:
        raise ScenarioError([f"{path}: {k}: holds a character that is not valid Unicode (a lone surrogate); "
                             "retype the text or save the file as UTF-8" for k in bad[:10]])
    return data or {}


def salvage_layers(data: Any, *, base_dir: str | Path) -> Scenario | None:
    """A scenario of only the valid parts of an invalid one: its layers and the top-level settings that
    are valid on their own, so that ``siteplan validate`` can check the data too while the scenario's own
    problems are being listed.

    Parameters
    ----------
    data
        The scenario file's mapping (:func:`read_scenario_file`), which :func:`parse_scenario` refused.
    base_dir
        Folder that relative paths are resolved against.

    Returns
    -------
    Scenario or None
        None when the layers themselves are not valid (a required layer's entry has a problem).
    """
    if not isinstance(data, dict) or not isinstance(data.get("layers"), dict):
        return None
    keep: dict[str, Any] = {"layers": _salvage_layer_specs(data["layers"], Path(base_dir))}
    try:
        parse_scenario(keep, base_dir=base_dir)
    except ScenarioError:
        return None
    for key, value in data.items():
        if key in keep or key in ("base_dir", "criteria", "categories", "grid"):
            continue
        try:
            parse_scenario({**keep, key: value}, base_dir=base_dir)
        except ScenarioError:
            continue
        keep[key] = value
    return parse_scenario(keep, base_dir=base_dir)


def _salvage_layer_specs(layers: dict[Any, Any], base_dir: Path) -> dict[str, Any]:
    """The layer entries that can be read, each without its invalid keys (a misspelt key, an unknown
    encoding): an entry whose file is missing, or whose path or name is not valid, is left out."""
    out: dict[str, Any] = {}
    for name, spec in layers.items():
        if name not in LAYER_NAMES or not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
            continue
        path = Path(spec["path"]) if Path(spec["path"]).is_absolute() else base_dir / spec["path"]
        try:
            LayerSpec(path=spec["path"])
            if not path.exists():
                continue
        except (ValidationError, OSError, ValueError):
            continue
        good = dict(spec)
        try:
            LayerSpec(**good)
        except ValidationError as err:
            bad = {e["loc"][0] for e in err.errors() if e["loc"]}
            good = {k: v for k, v in spec.items() if k not in bad}
            try:
                LayerSpec(**good)
            except ValidationError:  # a problem of the entry as a whole (x without y): the path alone
                good = {"path": spec["path"]}
        out[str(name)] = good
    return out
