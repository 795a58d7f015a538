"""Message sources: ``messages/<campaign>.yaml`` → :class:`Campaign` objects.

Everything is validated before anything is written. Each problem is a
:class:`~pipeline.errors.SourceError` naming the file, the line and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..errors import SourceError, SourceErrors, did_you_mean
from ..fsutil import read_utf8
from ..layout import Layout
from .placeholders import field_problem, placeholders
from .yamlread import Node, Reader, content_line, entered, load_yaml

__all__ = ["Campaign", "CAMPAIGN_RE", "check_id", "ID_RE", "load_campaign", "load_campaigns",
           "Message", "MESSAGE_KEYS", "Paragraph", "parse_campaign", "Program",
           "PROGRAM_KEYS", "RESERVED_NAMES", "split_paragraphs", "TOP_KEYS"]

# \A…\Z, not ^…$: '$' would also match before a final newline ("ident\n").
CAMPAIGN_RE = re.compile(r"\A[a-z0-9][a-z0-9-]*\Z")
ID_RE = re.compile(r"\A[a-z0-9][a-z0-9-]{0,63}\Z")
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
    top = Reader(path, load_yaml(text, path), "the campaign", TOP_KEYS,
                 ("campaign", "title", "messages"))
    name = check_id(top.text("campaign"), "campaign", path, top.line("campaign"), CAMPAIGN_RE)
    if path.stem != name:
        raise SourceError(f"campaign '{name}' is in a file named '{path.name}'", path,
                          top.line("campaign"), fix=f"rename the file to {name}.yaml "
                          f"or the campaign to '{path.stem}'")
    # Every independent mistake is found in one run: each message and program is checked
    # on its own, and one that failed is still known by its id (no cascade of "unknown
    # message" in programs).
    errors: list[SourceError] = []
    variables = _variables(top, path, errors)
    messages, ids = _messages(top, path, variables, errors)
    programs = _programs(top, path, ids, errors)
    SourceErrors.raise_if_any(errors)
    return Campaign(name=name, title=top.text("title"),
                    source_locale=top.text("source_locale", "en"), path=path, rel_path=rel,
                    messages=tuple(messages), programs=tuple(programs), variables=variables)


def _variables(top: Reader, path: Path, errors: list[SourceError]) -> dict[str, str]:
    """The placeholder values, the same in every locale (each bad one into ``errors``)."""
    variables: dict[str, str] = {}
    node = top.raw("variables") if top.has("variables") else None
    if node is None or node.value is None:
        return variables
    if not isinstance(node.value, dict):
        raise SourceError("'variables' must be a mapping of names to values", path,
                          node.line, fix="write each as 'name: value'")
    for key, (key_node, value) in node.value.items():
        try:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
                raise SourceError(f"variable name '{key}' is not a valid placeholder", path,
                                  key_node.line, fix="use letters, digits and '_' only")
            if not isinstance(value.value, (str, int, float)) or isinstance(value.value, bool):
                raise SourceError(f"variable '{key}' must be text", path, value.line,
                                  fix=f'write {key}: "…"')
            variables[key] = entered(str(value.value), path, value.line, f"variable '{key}'")
        except SourceError as exc:
            errors.append(exc)
            variables[key] = ""         # known: a placeholder naming it is not a new mistake
    return variables


def _messages(top: Reader, path: Path, variables: dict[str, str],
              errors: list[SourceError]) -> tuple[list[Message], set[str]]:
    """The valid messages, and the ids of every message (valid or not); each message's
    first mistake into ``errors``."""
    nodes = top.seq("messages")
    if not nodes:
        raise SourceError("the campaign has no messages", path, top.line("messages"),
                          fix="add at least one entry under 'messages:'")
    messages: list[Message] = []
    seen: dict[str, int] = {}
    for node in nodes:
        try:
            r = Reader(path, node, "a message", MESSAGE_KEYS, ("id",))
            mid = check_id(r.text("id"), "message id", path, r.line("id"))
            if mid in seen:
                raise SourceError(f"duplicate message id '{mid}' (first on line {seen[mid]})",
                                  path, r.line("id"), fix="give each message its own id")
            seen[mid] = r.line("id")
            r = Reader(path, node, "a message", MESSAGE_KEYS, ("id", "title", "text"))
            messages.append(_message(r, node, mid, path, variables))
        except SourceError as exc:
            errors.append(exc)
    return messages, set(seen)


def _message(r: Reader, node: Node, mid: str, path: Path, variables: dict[str, str]) -> Message:
    title = " ".join(r.text("title").split())
    paragraphs = split_paragraphs(r.text("text"), content_line(r.raw("text")))
    if not paragraphs:
        raise SourceError(f"message '{mid}' has empty text", path, r.line("text"),
                          fix="write the text, or remove the message")
    texts = [p.text for p in paragraphs]
    for i, p in enumerate(paragraphs):
        if p.text in texts[:i]:
            raise SourceError(f"message '{mid}' has the same paragraph twice", path,
                              p.line, fix="merge or reword the repeated paragraph")
    for unit_text, unit_line in [(title, r.line("title"))] + [(p.text, p.line)
                                                              for p in paragraphs]:
        _check_fields(unit_text, unit_line, mid, path, variables)
    return Message(id=mid, title=title, paragraphs=tuple(paragraphs), line=node.line,
                   title_line=r.line("title"),
                   note=" ".join((r.text("note", "", True) or "").split()),
                   max_seconds=r.number("max_seconds"))


def _check_fields(text: str, line: int, mid: str, path: Path, variables: dict[str, str]) -> None:
    """Every ``{placeholder}`` of a unit is a plain name with a value."""
    problem = field_problem(text, f"message '{mid}'")
    if problem:
        raise SourceError(problem[0], path, line, fix=problem[1])
    for name in sorted(placeholders(text)):
        if name not in variables:
            close = did_you_mean(name, variables) if variables else ""
            hint = (" (" + close.replace(" '", " '{").replace("'?", "}'?") + ")"
                    if close.startswith("did you mean") else "")
            raise SourceError(f"placeholder '{{{name}}}' in message '{mid}' has no value",
                              path, line, fix=f"add '{name}: …' under 'variables:'{hint}")


def _programs(top: Reader, path: Path, message_ids: set[str],
              errors: list[SourceError]) -> list[Program]:
    programs: list[Program] = []
    seen: dict[str, int] = {}
    for node in top.seq("programs"):
        try:
            r = Reader(path, node, "a program", PROGRAM_KEYS, ("id", "items"))
            pid = check_id(r.text("id"), "program id", path, r.line("id"))
            if pid in seen:
                raise SourceError(f"duplicate program id '{pid}' (first on line {seen[pid]})",
                                  path, r.line("id"), fix="give each program its own id")
            seen[pid] = r.line("id")
            programs.append(_program(r, node, pid, path, message_ids))
        except SourceError as exc:
            errors.append(exc)
    return programs


def _program(r: Reader, node: Node, pid: str, path: Path, message_ids: set[str]) -> Program:
    items = []
    for item in r.seq("items"):
        if not isinstance(item.value, str) or item.value not in message_ids:
            close = did_you_mean(str(item.value), message_ids)
            raise SourceError(f"program '{pid}' names unknown message '{item.value}'",
                              path, item.line,
                              fix=(close if close.startswith("did you mean")
                                   else "use the id of a message in this file"))
        items.append(item.value)
    if not items:
        raise SourceError(f"program '{pid}' has no items", path, r.line("items"),
                          fix="list the message ids to play, e.g. items: [ident, ...]")
    for key in ("intro", "outro"):
        value = r.text(key)
        if value is not None and (value.startswith("/") or ".." in Path(value).parts):
            raise SourceError(f"program '{pid}' {key} '{value}' leaves the project",
                              path, r.line(key), fix="give a path relative to the project root")
    return Program(id=pid, title=" ".join((r.text("title", pid)).split()), items=tuple(items),
                   line=node.line, gap_seconds=r.number("gap_seconds", 1.0, zero=True),
                   max_seconds=r.number("max_seconds"), intro=r.text("intro"),
                   outro=r.text("outro"))


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
    campaigns, errors = [], []
    for f in files:                     # every file's mistakes, in one run
        try:
            campaigns.append(load_campaign(f, layout.root))
        except SourceError as exc:
            errors.append(exc)
    SourceErrors.raise_if_any(errors)
    return campaigns
