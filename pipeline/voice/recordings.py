"""Human recordings: ``locales/<locale>/recordings/<message-id>.<wav|flac|mp3>``.

A recording is bound to the translated text it was read from: ``<message-id>.txt`` beside
it holds that script. When the translation changes, the recording is stale and is not
used (the policy decides whether TTS stands in, or the message waits for a new take).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..content.text import nfc
from ..errors import SourceError
from ..fsutil import inside, read_utf8

__all__ = ["describe", "EXTENSIONS", "find", "Recording", "RecordingState", "text_hash"]

EXTENSIONS = (".wav", ".flac", ".mp3")
RecordingState = Literal["fresh", "stale", "unbound", "missing"]


def text_hash(text: str) -> str:
    """Hash of a script, blind to line wrapping and spacing, of its NFC form: a script
    and a translation saved in different normalization forms are the same text, and a
    binding made before texts were normalized keeps its state."""
    canonical = "\n\n".join(" ".join(p.split()) for p in nfc(text).split("\n\n") if p.strip())
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Recording:
    message_id: str
    path: Path | None           # the audio, if any
    state: RecordingState

    @property
    def usable(self) -> bool:
        return self.state == "fresh"


def find(folder: Path, message_id: str, text: str, root: Path | None = None) -> Recording:
    """The recording of ``message_id`` in ``folder`` and whether it was read from ``text``.

    With ``root``, a recording or script that is a link leading out of the project is an
    error: what is spoken must be what the project holds.
    """
    audio = next((folder / f"{message_id}{ext}" for ext in EXTENSIONS
                  if (folder / f"{message_id}{ext}").is_file()), None)
    if audio is None:
        return Recording(message_id, None, "missing")
    script = folder / f"{message_id}.txt"
    for path in (audio, script):
        if root is not None and path.exists() and not inside(path, root):
            raise SourceError("a link that leads out of the project", path,
                              fix="copy the file itself into the recordings folder")
    if not script.is_file():
        return Recording(message_id, audio, "unbound")
    fresh = text_hash(read_utf8(script, SourceError, allow_bom=True)) == text_hash(text)
    return Recording(message_id, audio, "fresh" if fresh else "stale")


def describe(recording: Recording) -> str:
    if recording.path is None:
        return f"no recording {recording.message_id}.wav|flac|mp3"
    name, script = recording.path.name, f"{recording.message_id}.txt"
    return {
        "unbound": f"{name} has no {script} script saying which text was read",
        "stale": f"{name} was read from an older text (update {script} after re-recording)",
        "fresh": f"{name} is current",
    }[recording.state]
