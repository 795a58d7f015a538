"""RHVoice: native voices for Russian, Ukrainian and the other languages it has voices
for, through ``RHVoice-test`` (Debian's ``rhvoice`` and ``rhvoice-<language>``, in the
``contrib`` and ``non-free`` sections).

The locale's ``voice`` names an installed RHVoice voice (``aleksandr``, ``anatol``…), or
a language with a default voice whose licence lets any broadcaster air it (``ru``:
aleksandr, ``uk``: anatol, both LGPL). Options, as RHVoice takes them, in percent of the
voice's own: ``rate``, ``pitch``, ``volume`` (100 each). The same text gives the same
bytes; empty or silent output is an error, never audio.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ...audio.dsp import Audio
from ...errors import EngineMissing
from . import SpeechRequest
from .external import data_version, speak_with

__all__ = ["DEFAULT_VOICES", "INSTALL", "OPTIONS", "RhvoiceEngine", "SECONDS_PER_CHAR",
           "VOICES_DIR"]

OPTIONS = {"rate": (int, 25, 400), "pitch": (int, 25, 400), "volume": (int, 10, 400)}
VOICES_DIR = Path(os.environ.get("RHVOICE_VOICES", "/usr/share/RHVoice/voices"))
DEFAULT_VOICES = {"ru": "aleksandr", "uk": "anatol"}
INSTALL = "apt-get install rhvoice rhvoice-russian rhvoice-ukrainian (Debian contrib/non-free)"
SECONDS_PER_CHAR = {"ru": 0.099, "uk": 0.095}       # measured on the example campaign


class RhvoiceEngine:
    name = "rhvoice"
    offline = True
    OPTIONS = OPTIONS

    def __init__(self, rate: int = 100, pitch: int = 100, volume: int = 100):
        self.rate, self.pitch, self.volume = int(rate), int(pitch), int(volume)
        self._program = shutil.which("RHVoice-test")
        if self._program is None:
            raise EngineMissing("RHVoice is not installed", fix=INSTALL)
        self._version: str | None = None

    def options(self) -> dict:
        return {"rate": self.rate, "pitch": self.pitch, "volume": self.volume}

    def seconds_per_char(self, language: str) -> float:
        return SECONDS_PER_CHAR.get(language, 0.07) * 100 / self.rate

    def check_voice(self, voice: str) -> None:
        """Raise :class:`EngineMissing` unless ``voice`` is installed."""
        self.voice_folder(voice)

    def voice_folder(self, voice: str) -> Path:
        """The installed voice ``voice`` names (a voice, or a language's default)."""
        name = DEFAULT_VOICES.get(voice, voice).lower()
        folder = VOICES_DIR / name
        if not name.replace("-", "").isalnum() or not (folder / "voice.info").is_file():
            have = sorted(p.name for p in VOICES_DIR.iterdir()) if VOICES_DIR.is_dir() else []
            raise EngineMissing(f"RHVoice has no voice '{voice}' installed",
                              fix=f"use one of: {', '.join(have)}" if have else INSTALL)
        return folder

    def version(self) -> str:
        """RHVoice's data as installed: every voice's and language's files, by name and
        size (RHVoice-test has no version of its own to tell)."""
        if self._version is None:
            self._version = data_version("rhvoice-data", VOICES_DIR,
                                         VOICES_DIR.parent / "languages")
        return self._version

    def synthesize(self, request: SpeechRequest) -> Audio:
        folder = self.voice_folder(request.voice)
        program, options = str(self._program), ["-p", folder.name, "-r", str(self.rate),
                                                 "-t", str(self.pitch), "-v", str(self.volume)]
        return speak_with("RHVoice", lambda tmp: [program, *options, "-o",
                                                  str(tmp / "speech.wav")],
                          request.text, stdin=request.text.encode("utf-8"))
