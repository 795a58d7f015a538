"""Extraction: a campaign's messages → translation units → ``locales/<campaign>.pot``.

One unit per message title (``msgctxt`` ``<id>|title``) and per paragraph (``msgctxt``
``<id>``). Paragraph units keep edits local: changing one paragraph fuzzes only it. Then
one unit per program title (``msgctxt`` ``program:<id>|title``): never spoken, shown by
pages, players and playout systems; a program whose title is not translated is shown with
the source title.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .placeholders import placeholders
from .sources import Campaign, parse_campaign

__all__ = ["babel_extract", "message_id_of", "PROGRAM_PREFIX", "TITLE_SUFFIX", "Unit",
           "units_of"]

TITLE_SUFFIX = "|title"
PROGRAM_PREFIX = "program:"     # a program title's unit: never a message id (no ':' there)


@dataclass(frozen=True)
class Unit:
    """One translation unit: what a translator sees as one entry."""

    message_id: str
    msgctxt: str
    msgid: str
    line: int
    comments: tuple[str, ...] = ()
    is_title: bool = False
    index: int = 0              # paragraph number within the message (titles: -1)

    @property
    def flags(self) -> tuple[str, ...]:
        return ("python-brace-format",) if placeholders(self.msgid) else ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.msgctxt, self.msgid)


def _comments(campaign: Campaign, message, position: str, text: str) -> tuple[str, ...]:
    """Extracted comments: where the unit is, the writer's note, placeholder values."""
    out = [f"Message '{message.id}', {position}"]
    if message.note:
        out.append(message.note)
    out += [f"{{{name}}} = {campaign.variables[name]}" for name in sorted(placeholders(text))]
    return tuple(out)


def units_of(campaign: Campaign) -> list[Unit]:
    """Every translation unit of a campaign, in source order."""
    units: list[Unit] = []
    for m in campaign.messages:
        units.append(Unit(m.id, m.id + TITLE_SUFFIX, m.title, m.title_line,
                          _comments(campaign, m, "title", m.title), is_title=True, index=-1))
        count = len(m.paragraphs)
        for i, p in enumerate(m.paragraphs):
            units.append(Unit(m.id, m.id, p.text, p.line,
                              _comments(campaign, m, f"paragraph {i + 1} of {count}", p.text),
                              index=i))
    for program in campaign.programs:
        ident = PROGRAM_PREFIX + program.id
        units.append(Unit(ident, ident + TITLE_SUFFIX, program.title, program.line,
                          (f"Program '{program.id}', title (not spoken: shown by players, "
                           "pages and playout systems)",), is_title=True, index=-1))
    return units


def message_id_of(msgctxt: str | None) -> str:
    """The message id a unit belongs to, from its context."""
    ctxt = msgctxt or ""
    return ctxt[:-len(TITLE_SUFFIX)] if ctxt.endswith(TITLE_SUFFIX) else ctxt


def babel_extract(fileobj, keywords, comment_tags, options):
    """Babel extraction method for campaign YAML files.

    Register in a mapping file as ``[broadcast_yaml: messages/**.yaml]``; ``pybabel
    extract`` then yields the same units as ``broadcast extract``.
    """
    data = fileobj.read()
    if isinstance(data, bytes):
        data = data.decode(options.get("encoding", "utf-8"))
    path = Path(getattr(fileobj, "name", "campaign.yaml"))
    campaign = parse_campaign(data, path, path.as_posix())
    for unit in units_of(campaign):
        yield unit.line, "pgettext", (unit.msgctxt, unit.msgid), list(unit.comments)
