"""Quality checks: what a listener would hear wrong, found before anything is rendered.

Checks are pure text work: they read a catalog's state, a glossary and the speech stage's
duration estimates, and return findings. A finding with severity ``error`` keeps that
message from being rendered in that locale (the render gate, :func:`readiness`); a
``warning`` is only reported.
"""

from __future__ import annotations

from ..catalogs.state import CatalogState, UnitState
from ..content.sources import Campaign
from . import duration, units  # noqa: F401  (registers the checks)
from .glossary import Glossary, load_glossary
from .registry import (
    ERROR,
    MESSAGE_CHECKS,
    UNIT_CHECKS,
    WARNING,
    Finding,
    MessageContext,
    Severity,
    UnitContext,
)

__all__ = ["ERROR", "WARNING", "Finding", "Glossary", "Severity", "check_locale",
           "check_unit", "load_glossary", "readiness", "UNIT_CHECKS", "MESSAGE_CHECKS"]


def check_unit(u: UnitState, locale: str, source_locale: str,
               glossary: Glossary) -> list[tuple[str, Severity, str]]:
    """Findings for one translated unit, as (check, severity, text) triples."""
    ctx = UnitContext(u, locale, source_locale, glossary)
    return [(check_id, severity, text) for check_id, fn in UNIT_CHECKS.items()
            for severity, text in fn(ctx)]


def check_locale(campaign: Campaign, st: CatalogState, glossary: Glossary,
                 durations: dict[str, float], file: str) -> list[Finding]:
    """Every check on every translated unit of one campaign in one locale.

    ``file`` is how findings name the catalog; ``durations`` are the predicted spoken
    seconds of the fully translated messages.
    """
    if not st.exists:
        return []
    findings = []
    for u in st.units:
        if u.state != "translated":
            continue
        for check, severity, text in check_unit(u, st.locale, campaign.source_locale, glossary):
            findings.append(Finding(check, severity, campaign.name, st.locale,
                                    u.unit.message_id, file, u.line, text))
    first_line: dict[str, int | None] = {}
    for u in st.units:
        first_line.setdefault(u.unit.message_id, u.line)
    ctx = MessageContext(campaign, st, durations)
    for check_id, fn in MESSAGE_CHECKS.items():
        for mid, severity, text in fn(ctx):
            findings.append(Finding(check_id, severity, campaign.name, st.locale, mid, file,
                                    first_line.get(mid), text))
    return findings


def blocking(findings: list[Finding]) -> dict[str, str]:
    """Message id → why it must not be rendered (its first error finding)."""
    out: dict[str, str] = {}
    for f in findings:
        if f.severity == ERROR and f.message not in out:
            where = f"line {f.line}: " if f.line else ""
            out[f.message] = f"check {f.check} failed ({where}{f.text})"
    return out


def readiness(campaign: Campaign, st: CatalogState, glossary: Glossary,
              durations: dict[str, float], file: str
              ) -> tuple[dict[str, str | None], list[Finding]]:
    """The render gate: per message, None if ready (translated, nothing fuzzy, no check
    error) or the reason it is not; and the findings behind it."""
    reasons = st.message_reasons(campaign)
    findings = check_locale(campaign, st, glossary, durations, file)
    for mid, why in blocking(findings).items():
        if mid in reasons and reasons[mid] is None:     # a message's (not a program title's)
            reasons[mid] = why
    return reasons, findings
