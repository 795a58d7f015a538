"""The check registry: one small function per check id, as Babel collects its checkers.

A unit check takes a :class:`UnitContext` and yields ``(severity, text)`` pairs; a message
check takes a :class:`MessageContext`. ``docs/checks.md`` has one row per registered id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Literal

from ..catalogs.state import CatalogState, UnitState
from ..content.sources import Campaign
from .glossary import Glossary

__all__ = ["ERROR", "Finding", "message_check", "MESSAGE_CHECKS", "MessageContext", "Result",
           "Severity", "unit_check", "UNIT_CHECKS", "UnitContext", "WARNING"]

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"


@dataclass(frozen=True)
class Finding:
    check: str
    severity: Severity
    campaign: str
    locale: str
    message: str
    file: str
    line: int | None
    text: str

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: [{self.check}] {self.message}: {self.text}"


@dataclass(frozen=True)
class UnitContext:
    """One translated unit and what its checks need to know."""

    unit: UnitState
    locale: str
    source_locale: str
    glossary: Glossary

    @property
    def source(self) -> str:
        return self.unit.unit.msgid

    @property
    def translation(self) -> str:
        return self.unit.msgstr


@dataclass(frozen=True)
class MessageContext:
    """A whole campaign in one locale, with the speech stage's duration estimates."""

    campaign: Campaign
    catalog: CatalogState
    durations: dict[str, float] = field(default_factory=dict)   # message id → seconds


Result = Iterable[tuple[Severity, str]]
UNIT_CHECKS: dict[str, Callable[[UnitContext], Result]] = {}
MESSAGE_CHECKS: dict[str, Callable[[MessageContext], Iterable[tuple[str, Severity, str]]]] = {}


def unit_check(check_id: str):
    """Register a unit check under ``check_id``."""
    def register(fn):
        UNIT_CHECKS[check_id] = fn
        return fn
    return register


def message_check(check_id: str):
    """Register a message check (yields message id, severity, text) under ``check_id``."""
    def register(fn):
        MESSAGE_CHECKS[check_id] = fn
        return fn
    return register
