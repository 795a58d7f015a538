"""Where the project stands: translation progress, readiness, findings and recordings per
campaign and locale, as a typed value that ``status``, ``check`` and the report share."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .checks import Finding
from .project import Project
from .voice.recordings import RecordingState


@dataclass
class LocaleSummary:
    translated: int
    fuzzy: int
    untranslated: int
    obsolete: int
    words_to_translate: int
    ready: list[str]
    not_ready: dict[str, str]
    recordings: dict[RecordingState, list[str]]
    checks: dict[str, int]


@dataclass
class CampaignSummary:
    title: str
    messages: int
    locales: dict[str, LocaleSummary] = field(default_factory=dict)


@dataclass
class ProjectStatus:
    campaigns: dict[str, CampaignSummary] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The ``status --json`` form (findings are counted per check, not listed)."""
        return {"campaigns": {name: asdict(c) for name, c in self.campaigns.items()}}


def project_status(project: Project) -> ProjectStatus:
    """The status of every campaign and locale of ``project`` (reads, never writes)."""
    out = ProjectStatus()
    for c in project.campaigns:
        summary = CampaignSummary(c.title, len(c.messages))
        for locale in project.locales:
            st = project.status(c, locale)
            reasons, findings = project.readiness(c, locale)
            out.findings += findings
            counts: dict[str, int] = {}
            for f in findings:
                counts[f.check] = counts.get(f.check, 0) + 1
            summary.locales[locale] = LocaleSummary(
                translated=st.count("translated"), fuzzy=st.count("fuzzy"),
                untranslated=st.count("untranslated") + st.count("missing"),
                obsolete=st.obsolete, words_to_translate=st.words_to_translate,
                ready=[m for m, r in reasons.items() if r is None],
                not_ready={m: r for m, r in reasons.items() if r is not None},
                recordings=_recordings(project, c, locale, reasons),
                checks=dict(sorted(counts.items())))
        out.campaigns[c.name] = summary
    return out


def _recordings(project: Project, campaign, locale: str,
                reasons: dict[str, str | None]) -> dict[RecordingState, list[str]]:
    """Stale, unbound and (where required) missing recordings of ready messages."""
    policy = project.voice(locale).recordings
    out: dict[RecordingState, list[str]] = {"stale": [], "unbound": [], "missing": []}
    if policy == "ignore":
        return out
    for mid, reason in reasons.items():
        if reason is not None:
            continue
        rec = project.recording(campaign, locale, mid)
        if rec.state in ("stale", "unbound") or (rec.state == "missing" and
                                                 policy == "require"):
            out[rec.state].append(mid)
    return out
