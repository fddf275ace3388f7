"""Reading scenario YAML safely: plain data only (PyYAML's SafeLoader), with limits on aliases,
expansion and nesting, no duplicate keys, and a check for strings that cannot be written as UTF-8."""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["load_yaml", "lone_surrogates", "YamlLimitError", "MAX_YAML_ALIASES", "MAX_YAML_DEPTH", "MAX_YAML_VALUES"]


#: YAML aliases a scenario may use (each can repeat a whole subtree: many of them are an attack)
MAX_YAML_ALIASES = 100
#: how deeply a scenario's YAML may nest
MAX_YAML_DEPTH = 40
#: values in a scenario once its aliases are expanded ("billion laughs" guard; real ones hold hundreds)
MAX_YAML_VALUES = 200_000


class YamlLimitError(Exception):
    """A scenario file beyond siteplan's YAML limits (aliases, depth, duplicate keys)."""


class _ScenarioLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader (plain data only, no tags that build objects) that also refuses alias
    bombs, absurd nesting and duplicate keys (a repeated key would silently override the first)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def _line(self) -> int:
        """The 1-based line of the next event (PyYAML's parser is untyped: its mark is read as Any)."""
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]  # PyYAML's parser has no type hints
        return int(event.start_mark.line) + 1

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise YamlLimitError(f"more than {MAX_YAML_ALIASES} YAML aliases (*name), at line {self._line()}; "
                                 "write the values out instead")
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise YamlLimitError(f"nested more than {MAX_YAML_DEPTH} levels deep at line {self._line()}; a "
                                 "scenario needs only a few")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Any:
        root = super().compose_document()
        memo: dict[int, int] = {}

        def size(n: Any) -> int:
            k = id(n)
            if k not in memo:
                memo[k] = 0  # a cycle counts once
                kids = n.value if isinstance(n.value, list) else []
                memo[k] = 1 + sum(size(c) for kv in kids for c in (kv if isinstance(kv, tuple) else (kv,)))
            return memo[k]

        if root is not None and size(root) > MAX_YAML_VALUES:
            raise YamlLimitError(f"the file expands to more than {MAX_YAML_VALUES:,} values through its aliases (*name); "
                             "a scenario needs far fewer: write the values out")
        return root

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:  # noqa: FBT001, FBT002 - PyYAML's signature
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise YamlLimitError(f"the key '{key}' is given twice (lines {seen[key] + 1} and "
                                     f"{key_node.start_mark.line + 1}); keep one")
                seen[key] = key_node.start_mark.line
            except TypeError:  # an unhashable key: SafeLoader reports it
                pass
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """Parse YAML text as plain data within the limits above.

    Raises
    ------
    YamlLimitError
        Too many aliases, too large an expansion, too deep, or a duplicate key.
    yaml.YAMLError
        Not YAML.
    """
    return yaml.load(text, Loader=_ScenarioLoader)  # noqa: S506 - _ScenarioLoader is a SafeLoader


def lone_surrogates(data: Any, key: str = "") -> list[str]:
    """Key paths of strings holding lone surrogates (they cannot be written as UTF-8)."""
    if isinstance(data, str):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            return [key or "(top level)"]
        return []
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in lone_surrogates(v, f"{key}.{k}" if key else str(k))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in lone_surrogates(v, f"{key}[{i}]")]
    return []
