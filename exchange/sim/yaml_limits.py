"""YAML from someone else, read within limits: ``load_limited(text, limits)``.

PyYAML's safe loader builds what an alias points to once and shares it, so a few hundred bytes
of aliases of aliases (a "billion laughs") load at once into a structure that stands for
hundreds of millions of nodes, which the next reader (pydantic's validation, any walk over the
data) then visits one by one: 323 bytes held a server's event loop for about 20 s. A document
nested a few thousand deep overflows the composer's recursion instead. Here the composer counts
as it goes and stops at the first limit passed: the text's characters, its aliases, its depth,
and its nodes as a reader will see them (an alias counts every node of what it stands for, each
time it is used). An alias of a node that contains it (a cycle) is refused too: no reader of a
scenario wants one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode


@dataclass(frozen=True, slots=True)
class YamlLimits:
    chars_max: int
    aliases_max: int
    depth_max: int
    nodes_max: int


class YamlLimitError(ValueError):
    """The text passes a limit: ``limit`` names it (``chars``, ``aliases``, ``depth``: of
    sequences and mappings in one another, ``nodes``, ``cycle``), ``limit_max`` is its value,
    ``line`` where the node that passed it begins (1-based)."""

    def __init__(self, limit: str, limit_max: int, line: int | None, reason: str) -> None:
        self.limit = limit
        self.limit_max = limit_max
        self.line = line
        self.reason = reason
        where = f"line {line}" if line is not None else "yaml"
        super().__init__(f"{where}: {reason}")


class _LimitedLoader(yaml.SafeLoader):
    """The safe loader, its composer counting aliases, depth and expanded nodes."""

    def __init__(self, text: str, limits: YamlLimits) -> None:
        super().__init__(text)
        self._limits = limits
        self._depth = 0
        self._aliases = 0
        self._nodes: dict[int, int] = {}  # id(node) -> its nodes with aliases expanded

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        limits = self._limits
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        mark = event.start_mark
        line = mark.line + 1 if mark is not None else None
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > limits.aliases_max:
                raise YamlLimitError(
                    "aliases", limits.aliases_max, line, f"more than {limits.aliases_max} aliases"
                )
            node = super().compose_node(parent, index)
            # Not counted yet: still being composed, so the alias is inside what it names.
            if node is None or id(node) not in self._nodes:
                raise YamlLimitError("cycle", 0, line, "an alias inside the node it names")
            return node
        nests = not self.check_event(yaml.ScalarEvent)  # a sequence or a mapping
        self._depth += nests
        if self._depth > limits.depth_max:
            raise YamlLimitError(
                "depth", limits.depth_max, line, f"nested more than {limits.depth_max} deep"
            )
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= nests
        assert node is not None  # an event other than an alias always makes a node
        count = 1 + sum(self._nodes[id(child)] for child in _children(node))
        if count > limits.nodes_max:
            raise YamlLimitError(
                "nodes",
                limits.nodes_max,
                line,
                f"more than {limits.nodes_max} nodes once its aliases are expanded",
            )
        self._nodes[id(node)] = count
        return node


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []  # a scalar


def load_limited(text: str, limits: YamlLimits) -> Any:
    """``yaml.safe_load(text)``, or ``YamlLimitError`` at the first limit passed (a syntax
    error is PyYAML's ``yaml.YAMLError`` as before)."""
    if len(text) > limits.chars_max:
        raise YamlLimitError(
            "chars", limits.chars_max, None, f"{len(text)} characters, over {limits.chars_max}"
        )
    loader = _LimitedLoader(text, limits)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
