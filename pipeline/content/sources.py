"""Message sources: ``messages/<campaign>.yaml`` → :class:`Campaign` objects.

Everything is validated before anything is written. Each problem is a
:class:`~pipeline.errors.SourceError` naming the file, the line and the fix.
"""

from __future__ import annotations

import difflib
import gc
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from ..errors import SourceError, did_you_mean
from ..fsutil import read_utf8
from ..layout import Layout
from .placeholders import field_problem, placeholders
from .text import invisible_problem, nfc

# \A…\Z, not ^…$: '$' would also match before a final newline ("ident\n").
CAMPAIGN_RE = re.compile(r"\A[a-z0-9][a-z0-9-]*\Z")
ID_RE = re.compile(r"\A[a-z0-9][a-z0-9-]{0,63}\Z")
# Limits on what a YAML file may ask of the loader: nesting, values after aliases are
# expanded ("billion laughs"), and size.
MAX_DEPTH = 32
MAX_NODES = 500_000         # a campaign of 20,000 messages is about 160,000
MAX_BYTES = 8 * 1024 * 1024
# libyaml's parser where PyYAML was built with it (its wheels are): the same events and
# nodes, with their lines, for a twentieth of the pure-Python parser's time.
LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Names that some file systems (FAT, NTFS) refuse whatever the extension.
RESERVED_NAMES = {"con", "prn", "aux", "nul", "clock$"} | {
    f"{p}{n}" for p in ("com", "lpt") for n in range(1, 10)}

TOP_KEYS = {"campaign", "title", "source_locale", "messages", "programs", "variables"}
MESSAGE_KEYS = {"id", "title", "note", "max_seconds", "text"}
PROGRAM_KEYS = {"id", "title", "items", "gap_seconds", "max_seconds", "intro", "outro"}


@dataclass(frozen=True)
class Paragraph:
    text: str
    line: int


@dataclass(frozen=True)
class Message:
    id: str
    title: str
    paragraphs: tuple[Paragraph, ...]
    line: int
    title_line: int
    note: str = ""
    max_seconds: float | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs)


@dataclass(frozen=True)
class Program:
    id: str
    title: str
    items: tuple[str, ...]
    line: int
    gap_seconds: float = 1.0
    max_seconds: float | None = None
    intro: str | None = None    # audio file, relative to the project root
    outro: str | None = None


@dataclass(frozen=True)
class Campaign:
    name: str
    title: str
    source_locale: str
    path: Path                  # the YAML file
    rel_path: str               # as written in references: messages/<file>.yaml
    messages: tuple[Message, ...]
    programs: tuple[Program, ...] = ()
    variables: dict[str, str] = field(default_factory=dict)

    def message(self, message_id: str) -> Message:
        return self._by_id[message_id]

    @cached_property
    def _by_id(self) -> dict[str, Message]:
        return {m.id: m for m in self.messages}


# --- YAML with line numbers -------------------------------------------------------------

class _Node:
    """A loaded value with the 1-based line where it starts."""

    __slots__ = ("value", "line", "style")

    def __init__(self, value, line, style=None):
        self.value = value
        self.line = line
        self.style = style


def _convert(node: yaml.Node, loader: yaml.SafeLoader, budget: list[int]) -> _Node:
    line = node.start_mark.line + 1
    budget[0] -= 1
    if budget[0] < 0:
        raise _YamlProblem(f"the file expands to more than {MAX_NODES} values (aliases?)",
                           line, "write the values out instead of repeating aliases")
    if isinstance(node, yaml.MappingNode):
        result: dict[str, tuple[_Node, _Node]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _YamlProblem("merge keys ('<<') are not supported", key_node.start_mark.line + 1,
                                   "write the keys out in this mapping")
            key = _convert(key_node, loader, budget)
            if not isinstance(key.value, str):
                raise _YamlProblem(f"key {key.value!r} is not text", key.line,
                                   "write keys as plain words")
            if key.value in result:
                raise _YamlProblem(f"key '{key.value}' appears twice", key.line,
                                   "keep one of them")
            result[key.value] = (key, _convert(value_node, loader, budget))
        return _Node(result, line)
    if isinstance(node, yaml.SequenceNode):
        return _Node([_convert(n, loader, budget) for n in node.value], line)
    try:
        value = loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        raise _YamlProblem(f"invalid value: {problem}", line,
                           "write plain text, numbers or lists, without '!!' tags") from None
    return _Node(value, line, getattr(node, "style", None))


def _check_shape(text: str) -> None:
    """Nesting depth, checked on the parser's events before anything recursive runs."""
    depth = 0
    for event in yaml.parse(text, Loader=LOADER):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise _YamlProblem(f"nested more than {MAX_DEPTH} levels deep",
                                   event.start_mark.line + 1 if event.start_mark else None,
                                   "a campaign needs three or four levels; check the indentation")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


class _YamlProblem(Exception):
    def __init__(self, message, line, fix):
        super().__init__(message)
        self.message, self.line, self.fix = message, line, fix


def _load_yaml(text: str, path: Path) -> _Node:
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
    except _YamlProblem as exc:
        raise SourceError(exc.message, path, exc.line, fix=exc.fix) from None
    if root is None:
        raise SourceError("the file is empty", path, 1,
                          fix="start with 'campaign:', 'title:' and 'messages:'")
    try:
        return _convert(root, LOADER(""), [MAX_NODES])
    except _YamlProblem as exc:
        raise SourceError(exc.message, path, exc.line, fix=exc.fix) from None


# --- validation --------------------------------------------------------------------------

def split_paragraphs(text: str, first_line: int) -> list[Paragraph]:
    """Split on blank lines; each paragraph's lines are joined with single spaces."""
    paragraphs = []
    lines = text.split("\n")
    current: list[str] = []
    start = first_line
    for offset, raw in enumerate(lines + [""]):
        if raw.strip():
            if not current:
                start = first_line + offset
            current.append(raw.strip())
        elif current:
            paragraphs.append(Paragraph(" ".join(" ".join(current).split()), start))
            current = []
    return paragraphs


def check_id(value, what: str, path: Path, line: int, pattern=ID_RE) -> str:
    """Validate an id that becomes a file name and a gettext context."""
    fix = "use lower-case letters a-z, digits and '-', starting with a letter or digit, " \
          "at most 64 characters"
    if not isinstance(value, str) or not value:
        raise SourceError(f"{what} must be a non-empty text", path, line, fix=fix)
    if len(value) > 64:
        raise SourceError(f"{what} '{value[:20]}…' is {len(value)} characters long",
                          path, line, fix="shorten it to 64 characters or fewer")
    if not pattern.match(value):
        raise SourceError(f"{what} '{value}' is not a safe file name", path, line, fix=fix)
    if value in RESERVED_NAMES:
        raise SourceError(f"{what} '{value}' is a reserved device name on Windows and FAT",
                          path, line, fix="choose another id")
    return value


class _Reader:
    """Typed access to a mapping node, with errors that name file and line."""

    def __init__(self, path: Path, node: _Node, where: str, keys: set[str],
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

    def raw(self, key) -> _Node:
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
        return entered(v.value, self.path, _content_line(v), f"'{key}' in {self.where}")

    def number(self, key, default=None):
        if key not in self.node.value:
            return default
        v = self.raw(key)
        if isinstance(v.value, bool) or not isinstance(v.value, (int, float)) or v.value <= 0:
            raise SourceError(f"'{key}' in {self.where} must be a positive number of seconds",
                              self.path, v.line, fix=f"write e.g. {key}: 60")
        return float(v.value)

    def seq(self, key) -> list[_Node]:
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


def _content_line(node: _Node) -> int:
    # A block scalar (| or >) starts on the line after its indicator.
    return node.line + 1 if node.style in ("|", ">") else node.line


def load_campaign(path: Path, root: Path | None = None) -> Campaign:
    """Load and validate one campaign file; ``root`` is the project root."""
    path = Path(path)
    root = Path(root) if root else path.parent.parent
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = path.name
    return parse_campaign(read_utf8(path, SourceError, allow_bom=True), path, rel)


def parse_campaign(text: str, path: Path, rel: str) -> Campaign:
    """Validate campaign YAML ``text``; ``path`` is named in errors, ``rel`` in references."""
    path = Path(path)
    node = _load_yaml(text, path)
    top = _Reader(path, node, "the campaign", TOP_KEYS, ("campaign", "title", "messages"))
    campaign_name = check_id(top.text("campaign"), "campaign", path, top.line("campaign"),
                             CAMPAIGN_RE)
    if path.stem != campaign_name:
        raise SourceError(f"campaign '{campaign_name}' is in a file named '{path.name}'", path,
                          top.line("campaign"), fix=f"rename the file to {campaign_name}.yaml "
                          f"or the campaign to '{path.stem}'")
    title = top.text("title")
    source_locale = top.text("source_locale", "en")

    variables: dict[str, str] = {}
    var_lines: dict[str, int] = {}
    if top.has("variables"):
        vnode = top.raw("variables")
        if vnode.value is not None:
            if not isinstance(vnode.value, dict):
                raise SourceError("'variables' must be a mapping of names to values", path,
                                  vnode.line, fix="write each as 'name: value'")
            for key, (knode, value) in vnode.value.items():
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                    raise SourceError(f"variable name '{key}' is not a valid placeholder",
                                      path, knode.line,
                                      fix="use letters, digits and '_' only")
                if not isinstance(value.value, (str, int, float)) or isinstance(value.value, bool):
                    raise SourceError(f"variable '{key}' must be text", path, value.line,
                                      fix=f'write {key}: "…"')
                variables[key] = entered(str(value.value), path, value.line,
                                         f"variable '{key}'")
                var_lines[key] = knode.line

    messages: list[Message] = []
    seen: dict[str, int] = {}
    message_nodes = top.seq("messages")
    if not message_nodes:
        raise SourceError("the campaign has no messages", path, top.line("messages"),
                          fix="add at least one entry under 'messages:'")
    for mnode in message_nodes:
        r = _Reader(path, mnode, "a message", MESSAGE_KEYS, ("id", "title", "text"))
        mid = check_id(r.text("id"), "message id", path, r.line("id"))
        if mid in seen:
            raise SourceError(f"duplicate message id '{mid}' (first on line {seen[mid]})",
                              path, r.line("id"), fix="give each message its own id")
        seen[mid] = r.line("id")
        mtitle = " ".join(r.text("title").split())
        text = r.text("text")
        paragraphs = split_paragraphs(text, _content_line(r.raw("text")))
        if not paragraphs:
            raise SourceError(f"message '{mid}' has empty text", path, r.line("text"),
                              fix="write the text, or remove the message")
        texts = [p.text for p in paragraphs]
        for i, p in enumerate(paragraphs):
            if p.text in texts[:i]:
                raise SourceError(f"message '{mid}' has the same paragraph twice", path,
                                  p.line, fix="merge or reword the repeated paragraph")
        for unit_text, unit_line in [(mtitle, r.line("title"))] + [(p.text, p.line)
                                                                   for p in paragraphs]:
            problem = field_problem(unit_text, f"message '{mid}'")
            if problem:
                raise SourceError(problem[0], path, unit_line, fix=problem[1])
            for name in sorted(placeholders(unit_text)):
                if name not in variables:
                    raise SourceError(f"placeholder '{{{name}}}' in message '{mid}' has no value",
                                      path, unit_line,
                                      fix=f"add '{name}: …' under 'variables:'" +
                                      (f" (did you mean '{{{difflib.get_close_matches(name, variables, 1)[0]}}}'?)"
                                       if difflib.get_close_matches(name, variables, 1) else ""))
        messages.append(Message(
            id=mid, title=mtitle, paragraphs=tuple(paragraphs), line=mnode.line,
            title_line=r.line("title"), note=" ".join((r.text("note", "", True) or "").split()),
            max_seconds=r.number("max_seconds")))

    programs: list[Program] = []
    pseen: dict[str, int] = {}
    for pnode in top.seq("programs"):
        r = _Reader(path, pnode, "a program", PROGRAM_KEYS, ("id", "items"))
        pid = check_id(r.text("id"), "program id", path, r.line("id"))
        if pid in pseen:
            raise SourceError(f"duplicate program id '{pid}' (first on line {pseen[pid]})",
                              path, r.line("id"), fix="give each program its own id")
        pseen[pid] = r.line("id")
        items = []
        for item in r.seq("items"):
            if not isinstance(item.value, str) or item.value not in seen:
                known = difflib.get_close_matches(str(item.value), list(seen), 1)
                raise SourceError(f"program '{pid}' names unknown message '{item.value}'",
                                  path, item.line,
                                  fix=(f"did you mean '{known[0]}'?" if known
                                       else "use the id of a message in this file"))
            items.append(item.value)
        if not items:
            raise SourceError(f"program '{pid}' has no items", path, r.line("items"),
                              fix="list the message ids to play, e.g. items: [ident, ...]")
        for key in ("intro", "outro"):
            value = r.text(key)
            if value is not None and (value.startswith("/") or ".." in Path(value).parts):
                raise SourceError(f"program '{pid}' {key} '{value}' leaves the project",
                                  path, r.line(key),
                                  fix="give a path relative to the project root")
        gap = r.raw("gap_seconds").value if r.has("gap_seconds") else 1.0
        if isinstance(gap, bool) or not isinstance(gap, (int, float)) or gap < 0:
            raise SourceError(f"'gap_seconds' in program '{pid}' must be a number ≥ 0",
                              path, r.line("gap_seconds"), fix="write e.g. gap_seconds: 1.5")
        programs.append(Program(
            id=pid, title=" ".join((r.text("title", pid)).split()), items=tuple(items),
            line=pnode.line, gap_seconds=float(gap), max_seconds=r.number("max_seconds"),
            intro=r.text("intro"), outro=r.text("outro")))

    return Campaign(name=campaign_name, title=title, source_locale=source_locale, path=path,
                    rel_path=rel, messages=tuple(messages), programs=tuple(programs),
                    variables=variables)


def load_campaigns(layout: Layout, only: str | None = None) -> list[Campaign]:
    """All campaigns under ``messages/`` (or just ``only``), validated."""
    files = layout.campaign_files()
    if only is not None:
        files = [f for f in files if f.stem == only]
        if not files:
            raise SourceError(f"no campaign '{only}'", layout.messages_dir / f"{only}.yaml",
                              fix="check --campaign, or create the file")
    if not files:
        raise SourceError("no campaign files", layout.messages_dir,
                          fix="write one as messages/<campaign>.yaml")
    campaigns = [load_campaign(f, layout.root) for f in files]
    gc.freeze()         # they live as long as the command: the collector need not walk them
    return campaigns
