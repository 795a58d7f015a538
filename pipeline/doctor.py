"""``broadcast doctor``: what this machine has and lacks, and the command that installs each.

It reads, and writes nothing: the speech engines and the voices the project asks for (the
configured one, or the fallback the build would use and why), the decoder (ffmpeg), the
speech judge, the FAT image writer (built in) and minisign. A missing part that the
project's build needs (a voice with no fallback) makes it exit 1; optional parts are
listed as missing with their fix and leave it at 0.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass

from .errors import PipelineError
from .project import Project
from .voice import asr
from .voice.engines import get_engine, known_engines

__all__ = ["Check", "diagnose"]

VOICES = "bash scripts/voices.sh (Debian: RHVoice and MBROLA from contrib/non-free)"
_EXTRAS = {"kokoro": "pip install -e '.[kokoro]'"}


@dataclass(frozen=True)
class Check:
    part: str                   # e.g. "engine rhvoice", "voice ru", "ffmpeg"
    ok: bool
    detail: str                 # what is there, or what is missing
    fix: str = ""               # the command that installs it
    needed: bool = False        # the project's build cannot run without it

    def to_dict(self) -> dict:
        return asdict(self)


def diagnose(project: Project | None) -> list[Check]:
    """Every part, in the order a reader wants them: the project's voices first."""
    checks: list[Check] = []
    if project is not None:
        for locale in project.shipping:
            try:
                voice = project.voice(locale)
            except PipelineError as exc:
                checks.append(Check(f"voice {locale}", False, exc.message, exc.fix or VOICES,
                                    needed=True))
                continue
            fallback = project.fallbacks.get(locale)
            if fallback is None:
                checks.append(Check(f"voice {locale}", True, voice.label))
            else:
                checks.append(Check(f"voice {locale}", False,
                                    f"{fallback.configured} is missing ({fallback.why}); "
                                    f"the build speaks with {fallback.used}",
                                    fallback.install or VOICES))
    for name in known_engines():
        checks.append(_engine(name))
    checks.append(_ffmpeg())
    checks.append(Check("speech judge", asr.available(),
                        "whisper-base (check --audio, [render] speech_check)"
                        if asr.available() else "not installed: the speech check cannot run",
                        "" if asr.available() else asr.INSTALL))
    checks.append(Check("FAT image writer", True,
                        "usb --image: built in (distribute/fat.py), no system tools needed"))
    minisign = shutil.which("minisign")
    checks.append(Check("minisign", minisign is not None,
                        minisign or "not installed: signatures are made and checked without "
                        "it; stations can check them with it",
                        "" if minisign else "apt-get install minisign"))
    return checks


def _engine(name: str) -> Check:
    try:
        engine = get_engine(name)
    except PipelineError as exc:
        return Check(f"engine {name}", False, exc.message,
                     exc.fix or _EXTRAS.get(name, VOICES))
    version = getattr(engine, "version", None)
    detail = "installed" if version is None else f"installed ({_short(version())})"
    if not getattr(engine, "offline", True):
        detail += "; online only"
    return Check(f"engine {name}", True, detail)


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"


def _ffmpeg() -> Check:
    try:
        from .audio.codec import ffmpeg_exe
        return Check("ffmpeg", True, f"{ffmpeg_exe()} (decodes recordings, intros, outros)")
    except PipelineError as exc:
        return Check("ffmpeg", False, exc.message, exc.fix or "pip install imageio-ffmpeg",
                     needed=True)
