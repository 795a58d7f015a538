"""Where the project stands: translation progress, readiness, findings and recordings per
campaign and locale, as a typed value that ``status``, ``check`` and the report share."""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .checks import Finding
from .layout import MANIFEST
from .project import Project
from .render.manifest import Manifest

__all__ = ["CampaignSummary", "LocaleSummary", "project_status", "ProjectStatus",
           "stray_files"]


@dataclass
class LocaleSummary:
    translated: int
    fuzzy: int
    untranslated: int
    obsolete: int
    words_to_translate: int
    ready: list[str]
    not_ready: dict[str, str]
    recordings: dict[str, list[str]]    # state → message ids
    checks: dict[str, int]
    speech_cer: dict[str, dict[str, float]] = field(default_factory=dict)  # id → profile → CER
    voice: str = ""                     # engine/voice that speaks it on this machine
    fallback: str = ""                  # why that is not the configured one, and the fix
    reviews: dict[str, str] = field(default_factory=dict)  # id → where its review stands
    # Rendered and bundled: listed in broadcast.toml's locales (or named with --locale).
    ships: bool = True


@dataclass
class CampaignSummary:
    title: str
    messages: int
    locales: dict[str, LocaleSummary] = field(default_factory=dict)

    def totals(self) -> dict:
        """The campaign at a glance, for scripts: its locales' counts added up; ``ready``
        out of ``messages`` × the shipping locales; the locales with every message ready."""
        locales = self.locales.values()
        shipping = [(name, s) for name, s in self.locales.items() if s.ships]
        return {
            "locales": len(self.locales), "shipping": len(shipping),
            **{key: sum(getattr(s, key) for s in locales)
               for key in ("translated", "fuzzy", "untranslated", "words_to_translate")},
            "ready": sum(len(s.ready) for _, s in shipping),
            "of": self.messages * len(shipping),
            "findings": sum(sum(s.checks.values()) for s in locales),
            "complete": [name for name, s in shipping if len(s.ready) == self.messages]}


@dataclass
class ProjectStatus:
    campaigns: dict[str, CampaignSummary] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The ``status --json`` form (findings are counted per check, not listed)."""
        return {"campaigns": {name: {**asdict(c), "totals": c.totals()}
                              for name, c in self.campaigns.items()}}


def project_status(project: Project) -> ProjectStatus:
    """The status of every campaign and locale of ``project`` (reads, never writes)."""
    out = ProjectStatus()
    for c in project.campaigns:
        summary = CampaignSummary(c.title, len(c.messages))
        for locale in project.locales:
            st = project.catalog_state(c, locale)
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
                checks=dict(sorted(counts.items())),
                speech_cer=_speech_cer(project, c.name, locale),
                voice=project.voice(locale).label,
                fallback=str(project.fallbacks.get(locale, "")),
                reviews=_reviews(project, c, locale),
                ships=locale in project.shipping)
        out.campaigns[c.name] = summary
    return out


def _reviews(project: Project, campaign, locale: str) -> dict[str, str]:
    """Each ready message's review, where reviews are required or have begun."""
    if not (project.config.review_required(locale)
            or (project.layout.locales_dir / locale / "reviews").is_dir()):
        return {}
    return {mid: str(review) for mid, review in project.reviews(campaign, locale).items()}


def _speech_cer(project: Project, campaign: str, locale: str) -> dict[str, dict[str, float]]:
    """The speech judge's CER of each message, from the output folders' manifests."""
    out: dict[str, dict[str, float]] = {}
    for profile in project.config.default_profiles:
        path = project.layout.output_folder(campaign, locale, profile) / MANIFEST
        try:
            manifest = Manifest.from_json(path.read_bytes())
        except (OSError, ValueError):
            continue                    # no folder yet, or one that render will rewrite
        for entry in manifest.messages:
            if entry.cer is not None:
                out.setdefault(entry.id, {})[profile] = entry.cer
    return out


def _recordings(project: Project, campaign, locale: str,
                reasons: dict[str, str | None]) -> dict[str, list[str]]:
    """The recordings of ready messages: fresh, stale, unbound, and missing (when the
    locale requires them, or a studio has started: its recordings folder exists); of the
    fresh ones, those not heard yet (or with no recognizer installed) and those the
    recognizer heard say something else (refused: not used)."""
    policy = project.voice(locale).recordings
    out: dict[str, list[str]] = {"fresh": [], "stale": [], "unbound": [], "missing": [],
                                 "not heard": [], "refused": [], "stray": []}
    if policy == "ignore":
        return out
    started = project.layout.recordings_dir(locale).is_dir()
    for mid, reason in reasons.items():
        if reason is not None:
            continue
        rec = project.recording(campaign, locale, mid)
        if rec.state != "missing" or policy == "require" or started:
            out[rec.state].append(mid)
        if rec.usable:
            heard, _why = project.take_heard(campaign, locale, mid, rec, hear=False)
            if heard != "heard":
                out[heard].append(mid)
    if started:
        ids = [m.id for c in project.campaigns for m in c.messages]
        out["stray"] = stray_files(project.layout.recordings_dir(locale), ids)
    return out


# Letters of other scripts that look like the Latin ones a message id is made of.
_LOOKALIKE = str.maketrans("аеіорсухкмтвнјѕԁԛԝ", "aeiopcyxkmtbhjsdqw")


def stray_files(folder: Path, ids: list[str]) -> list[str]:
    """Files of a recordings folder that bind to no message (``ident.WAV``, ``ident .wav``,
    an id typed with a Cyrillic і): each is named, with the name it was probably meant to
    have, since the take it holds counts as missing."""
    from .voice.recordings import EXTENSIONS
    known = {f"{mid}{ext}" for mid in ids for ext in (*EXTENSIONS, ".txt")}
    out = []
    for path in sorted(folder.iterdir()):
        if path.name in known or path.name.startswith(".") or path.is_dir():
            continue
        guess = unicodedata.normalize("NFKC", path.name).casefold().translate(_LOOKALIKE)
        guess = "".join(guess.split())
        out.append(f"{path.name} (is it {guess}?)" if guess in known else path.name)
    return out
