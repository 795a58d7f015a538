"""YAML with line numbers: the campaign reader's safe loader, its limits, and typed access
to a mapping whose every error names the file, the line and the fix.

The loader is PyYAML's safe one (libyaml's where PyYAML has it). Before anything recursive
runs, the nesting depth is checked on the parser's events; values are counted as aliases
are expanded ("billion laughs"), and the file's size is bounded. Text values enter the
project here (:func:`entered`): in NFC, with nothing invisible.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..errors import SourceError, did_you_mean
from .text import invisible_problem, nfc

__all__ = ["LOADER", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "Node", "Reader", "YamlProblem",
           "content_line", "entered", "load_yaml"]

# Limits on what a YAML file may ask of the loader: nesting, values after aliases are
# expanded ("billion laughs"), and size.
MAX_DEPTH = 32
MAX_NODES = 500_000         # a campaign of 20,000 messages is about 160,000
MAX_BYTES = 8 * 1024 * 1024
# libyaml's parser where PyYAML was built with it (its wheels are): the same events and
# nodes, with their lines, for a twentieth of the pure-Python parser's time.
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Node:
    """A loaded value with the 1-based line where it starts."""

    __slots__ = ("value", "line", "style")

    def __init__(self, value, line, style=None):
        self.value = value
        self.line = line
        self.style = style


def _convert(node: yaml.Node, loader: yaml.SafeLoader, budget: list[int]) -> Node:
    line = node.start_mark.line + 1
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlProblem(f"the file expands to more than {MAX_NODES} values (aliases?)",
                           line, "write the values out instead of repeating aliases")
    if isinstance(node, yaml.MappingNode):
        result: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlProblem("merge keys ('<<') are not supported", key_node.start_mark.line + 1,
                                   "write the keys out in this mapping")
            key = _convert(key_node, loader, budget)
            if not isinstance(key.value, str):
                raise YamlProblem(f"key {key.value!r} is not text", key.line,
                                   "write keys as plain words")
            if key.value in result:
                raise YamlProblem(f"key '{key.value}' appears twice", key.line,
                                   "keep one of them")
            result[key.value] = (key, _convert(value_node, loader, budget))
        return Node(result, line)
    if isinstance(node, yaml.SequenceNode):
        return Node([_convert(n, loader, budget) for n in node.value], line)
    try:
        value = loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        raise YamlProblem(f"invalid value: {problem}", line,
                           "write plain text, numbers or lists, without '!!' tags") from None
    return Node(value, line, getattr(node, "style", None))


def _check_shape(text: str) -> None:
    """Nesting depth, checked on the parser's events before anything recursive runs."""
    depth = 0
    for event in yaml.parse(text, Loader=LOADER):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlProblem(f"nested more than {MAX_DEPTH} levels deep",
                                   event.start_mark.line + 1 if event.start_mark else None,
                                   "a campaign needs three or four levels; check the indentation")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


class YamlProblem(Exception):
    def __init__(self, message, line, fix):
        super().__init__(message)
        self.message, self.line, self.fix = message, line, fix


def load_yaml(text: str, path: Path) -> Node:
    if len(text) > MAX_BYTES:
        raise SourceError(f"the file is larger than {MAX_BYTES // 2**20} MiB", path,
                          fix="split the campaign into several files")
    try:
        _check_shape(text)
        loader = LOADER(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and "end of stream" in (exc.problem or ""):
            mark = exc.context_mark     # where the unclosed thing began
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise SourceError(f"invalid YAML: {problem}", path, line,
                          fix="check the indentation and quoting around this line") from None
    except yaml.YAMLError as exc:
        raise SourceError(f"invalid YAML: {exc}", path,
                          fix="check the indentation and quoting") from None
    except YamlProblem as exc:
        raise SourceError(exc.message, path, exc.line, fix=exc.fix) from None
    if root is None:
        raise SourceError("the file is empty", path, 1,
                          fix="start with 'campaign:', 'title:' and 'messages:'")
    try:
        return _convert(root, LOADER(""), [MAX_NODES])
    except YamlProblem as exc:
        raise SourceError(exc.message, path, exc.line, fix=exc.fix) from None


class Reader:
    """Typed access to a mapping node, with errors that name file and line."""

    def __init__(self, path: Path, node: Node, where: str, keys: set[str],
                 required: tuple[str, ...]):
        self.path, self.node, self.where = path, node, where
        if not isinstance(node.value, dict):
            raise SourceError(f"{where} must be a mapping of keys to values", path, node.line,
                              fix=f"write it as 'key: value' lines ({', '.join(sorted(keys))})")
        for key, (key_node, _) in node.value.items():
            if key not in keys:
                raise SourceError(f"unknown key '{key}' in {where}", path, key_node.line,
                                  fix=did_you_mean(key, keys))
        for key in required:
            if key not in node.value:
                raise SourceError(f"{where} lacks '{key}'", path, node.line,
                                  fix=f"add '{key}:'")

    def has(self, key):
        return key in self.node.value

    def line(self, key) -> int:
        return self.node.value[key][1].line if key in self.node.value else self.node.line

    def raw(self, key) -> Node:
        return self.node.value[key][1]

    def text(self, key, default=None, allow_empty=False) -> str:
        if key not in self.node.value:
            return default
        v = self.raw(key)
        if isinstance(v.value, (int, float)) and not isinstance(v.value, bool):
            v.value = str(v.value)
        if not isinstance(v.value, str):
            raise SourceError(f"'{key}' in {self.where} must be text", self.path, v.line,
                              fix=f"write {key}: followed by the text")
        if not allow_empty and not v.value.strip():
            raise SourceError(f"'{key}' in {self.where} is empty", self.path, v.line,
                              fix=f"write the {key}, or remove the entry")
        return entered(v.value, self.path, content_line(v), f"'{key}' in {self.where}")

    def number(self, key, default=None, zero: bool = False):
        """A number of seconds: positive, or with ``zero`` at least 0."""
        if key not in self.node.value:
            return default
        v = self.raw(key)
        if isinstance(v.value, bool) or not isinstance(v.value, (int, float)) or \
                v.value < 0 or (v.value == 0 and not zero):
            what = "a number ≥ 0" if zero else "a positive number of seconds"
            raise SourceError(f"'{key}' in {self.where} must be {what}", self.path, v.line,
                              fix=f"write e.g. {key}: {'1.5' if zero else '60'}")
        return float(v.value)

    def seq(self, key) -> list[Node]:
        if key not in self.node.value:
            return []
        v = self.raw(key)
        if v.value is None:
            return []
        if not isinstance(v.value, list):
            raise SourceError(f"'{key}' in {self.where} must be a list", self.path, v.line,
                              fix=f"write each entry of {key} on its own line starting '- '")
        return v.value


def entered(text: str, path: Path, line: int, what: str) -> str:
    """A text of the file as the project keeps it: in NFC, with nothing invisible."""
    problem = invisible_problem(text)
    if problem:
        raise SourceError(f"{what} holds {problem.removeprefix('an ')}", path, line,
                          fix="retype the text around it")
    return nfc(text)


def content_line(node: Node) -> int:
    # A block scalar (| or >) starts on the line after its indicator.
    return node.line + 1 if node.style in ("|", ">") else node.line
