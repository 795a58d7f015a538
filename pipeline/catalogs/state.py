"""Where each catalog stands: the state of every unit of a campaign in one locale."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

from ..content.extract import Unit, units_of
from ..content.placeholders import fill
from ..content.sources import Campaign
from ..content.text import nfc
from .pofile import load_po, msgstr_line

__all__ = ["CatalogState", "read_catalog_state", "UnitState", "UnitStateName"]

UnitStateName = Literal["translated", "fuzzy", "untranslated", "missing"]


@dataclass
class UnitState:
    unit: Unit
    state: UnitStateName
    msgstr: str = ""
    line: int | None = None


@dataclass
class CatalogState:
    campaign: str
    locale: str
    path: Path
    exists: bool
    units: list[UnitState] = field(default_factory=list)
    obsolete: int = 0

    def count(self, state: str) -> int:
        return sum(1 for u in self.units if u.state == state)

    @property
    def words_to_translate(self) -> int:
        return sum(len(u.unit.msgid.split()) for u in self.units if u.state != "translated")

    def message_reasons(self, campaign: Campaign) -> dict[str, str | None]:
        """For each message id in source order, None if fully translated, else why not.

        Translation is not all of readiness: :func:`pipeline.checks.readiness` adds the
        checks' errors.
        """
        by_message = self.by_message
        return {m.id: _reason(by_message.get(m.id, []), self.exists) for m in campaign.messages}

    @cached_property
    def by_message(self) -> dict[str, list[UnitState]]:
        """The units of each message, in order: grouped once, so that asking for every
        message costs one pass over the units, not one pass per message."""
        out: dict[str, list[UnitState]] = {}
        for u in self.units:
            out.setdefault(u.unit.message_id, []).append(u)
        return out

    def title_of(self, unit_id: str) -> str | None:
        """The translated title of a message or program (its unit's id), if translated."""
        return next((u.msgstr for u in self.by_message.get(unit_id, [])
                     if u.unit.is_title and u.state == "translated"), None)

    def translation(self, message_id: str,
                    variables: dict[str, str]) -> tuple[str, list[str]]:
        """The translated title and paragraphs of a ready message, variables filled in."""
        mine = self.by_message.get(message_id, [])
        title = next(u.msgstr for u in mine if u.unit.is_title)
        return (fill(title, variables),
                [fill(u.msgstr, variables) for u in mine if not u.unit.is_title])


def _reason(units: list[UnitState], exists: bool) -> str | None:
    if not exists:
        return "no catalog for this locale (run broadcast init LOCALE)"
    problems = []
    for state, label in (("untranslated", "untranslated"), ("fuzzy", "fuzzy"),
                         ("missing", "not in the catalog yet (run broadcast update)")):
        n = sum(1 for u in units if u.state == state)
        if n:
            problems.append(f"{n} {'unit' if n == 1 else 'units'} {label}")
    return "; ".join(problems) or None


def read_catalog_state(campaign: Campaign, path: Path, locale: str) -> CatalogState:
    """The state of every unit of ``campaign`` in the catalog at ``path``."""
    units = units_of(campaign)
    if not path.exists():
        return CatalogState(campaign.name, locale, path, False,
                            [UnitState(u, "untranslated") for u in units])
    po = load_po(path, shared=True)        # read only
    # Text enters in NFC: an entry saved decomposed matches its unit and is read composed.
    entries = {(nfc(e.msgctxt or "") or e.msgctxt, nfc(e.msgid)): e
               for e in po if not e.obsolete}
    states = []
    for u in units:
        e = entries.get(u.key)
        if e is None:
            states.append(UnitState(u, "missing"))
        elif not e.msgstr:
            states.append(UnitState(u, "untranslated", line=msgstr_line(po, e)))
        elif e.fuzzy:
            states.append(UnitState(u, "fuzzy", nfc(e.msgstr), msgstr_line(po, e)))
        else:
            states.append(UnitState(u, "translated", nfc(e.msgstr), msgstr_line(po, e)))
    return CatalogState(campaign.name, locale, path, True, states,
                        obsolete=sum(1 for e in po if e.obsolete))
