"""The manifest of an output folder: what each file is, how it measures, what made it.

One typed class, written by the render stage and read by the pages, bundles and sticks.
:meth:`Manifest.from_json` validates what it reads, so a malformed manifest inside a
bundle is a clear error, never a crash.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["FileKind", "Manifest", "ManifestError", "ManifestFile", "Skip"]

FileKind = Literal["message", "program"]


class ManifestError(ValueError):
    """The manifest is not what the render stage writes; the text says what is wrong."""


@dataclass(frozen=True)
class ManifestFile:
    file: str
    kind: FileKind
    id: str
    title: str
    text: str
    duration: float
    loudness_lufs: float
    true_peak_dbtp: float
    sha256: str
    size: int
    made_by: dict[str, Any]
    source_text: str = ""
    cer: float | None = None            # heard by the speech judge ([render] speech_check)
    # What the voice says (lexicon applied, numbers and signs spelled out), where a voice
    # reads the text: shown to reviewers beside the text, so the lexicon hides nothing.
    spoken: str = ""
    # When a native reviewer approved it, where the locale requires review. Not who: a
    # reviewer's name stays in the project (status, report), never in what leaves it.
    approved: str = ""
    # As broadcasters read a file (ffmpeg's ebur128): loudness range (LU), maximum
    # momentary and short-term loudness (LUFS); a message file's only.
    loudness_range_lu: float | None = None
    max_momentary_lufs: float | None = None
    max_short_term_lufs: float | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        for key in ("loudness_range_lu", "max_momentary_lufs", "max_short_term_lufs"):
            if data[key] is None:
                del data[key]
        if not self.approved:
            del data["approved"]
        if not self.source_text:
            del data["source_text"]
        if not self.spoken:
            del data["spoken"]
        if self.cer is None:
            del data["cer"]
        return data


@dataclass(frozen=True)
class Skip:
    id: str
    reason: str


@dataclass(frozen=True)
class Manifest:
    campaign: str
    locale: str
    profile: dict[str, Any]
    files: list[ManifestFile] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    programs_skipped: list[Skip] = field(default_factory=list)

    @property
    def messages(self) -> list[ManifestFile]:
        return [f for f in self.files if f.kind == "message"]

    @property
    def programs(self) -> list[ManifestFile]:
        return [f for f in self.files if f.kind == "program"]

    def to_dict(self) -> dict:
        return {"campaign": self.campaign, "locale": self.locale, "profile": self.profile,
                "files": [f.to_dict() for f in self.files],
                "skipped": [asdict(s) for s in self.skipped],
                "programs_skipped": [asdict(s) for s in self.programs_skipped]}

    def to_json(self) -> bytes:
        return (json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes | str) -> "Manifest":
        try:
            raw = json.loads(data)
        except ValueError as exc:
            raise ManifestError(f"not valid JSON ({exc})") from None
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: Any) -> "Manifest":
        obj = _mapping(raw, "the manifest")
        profile = _mapping(obj.get("profile"), "'profile'")
        files = [_file(entry, i) for i, entry in enumerate(_list(obj.get("files"), "'files'"))]
        return cls(_text(obj, "campaign", "the manifest"), _text(obj, "locale", "the manifest"),
                   profile, files, _skips(obj.get("skipped", []), "'skipped'"),
                   _skips(obj.get("programs_skipped", []), "'programs_skipped'"))


def _mapping(value: Any, what: str) -> dict:
    if not isinstance(value, dict):
        raise ManifestError(f"{what} is not an object")
    return value


def _list(value: Any, what: str) -> list:
    if not isinstance(value, list):
        raise ManifestError(f"{what} is not a list")
    return value


def _text(obj: dict, key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise ManifestError(f"{what} has no text '{key}'")
    return value


def _number(obj: dict, key: str, what: str) -> float:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ManifestError(f"{what} has no number '{key}'")
    return float(value)


def _file(entry: Any, index: int) -> ManifestFile:
    what = f"file entry {index + 1}"
    obj = _mapping(entry, what)
    kind = obj.get("kind")
    if kind not in ("message", "program"):
        raise ManifestError(f"{what} has no kind 'message' or 'program'")
    size = obj.get("size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ManifestError(f"{what} has no size")
    made_by = obj.get("made_by", {})
    return ManifestFile(
        file=_text(obj, "file", what), kind=kind, id=_text(obj, "id", what),
        title=_text(obj, "title", what), text=_text(obj, "text", what),
        duration=_number(obj, "duration", what),
        loudness_lufs=_number(obj, "loudness_lufs", what),
        true_peak_dbtp=_number(obj, "true_peak_dbtp", what),
        sha256=_text(obj, "sha256", what), size=size,
        made_by=_mapping(made_by, f"{what} 'made_by'"),
        source_text=obj.get("source_text", "") if isinstance(obj.get("source_text", ""), str)
        else "",
        cer=_number(obj, "cer", what) if "cer" in obj else None,
        spoken=obj["spoken"] if isinstance(obj.get("spoken"), str) else "",
        approved=obj["approved"] if isinstance(obj.get("approved"), str) else "",
        **{key: _number(obj, key, what) for key in ("loudness_range_lu", "max_momentary_lufs",
                                                    "max_short_term_lufs") if key in obj})


def _skips(value: Any, what: str) -> list[Skip]:
    out = []
    for item in _list(value, what):
        obj = _mapping(item, f"an entry of {what}")
        out.append(Skip(_text(obj, "id", what), _text(obj, "reason", what)))
    return out
