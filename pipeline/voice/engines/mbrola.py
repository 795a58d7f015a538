"""MBROLA diphone voices, with the project's own front-end: Korean's ``hn1`` (a native
male speaker), read by the rules of :mod:`pipeline.voice.korean`.

Debian's ``mbrola`` and ``mbrola-hn1`` (non-free: hn1 may be used only with the MBROLA
program, and not sold or built into a product that is sold), installed by
``scripts/voices.sh``. The locale's ``voice`` names the database (``hn1``, or ``ko``
for it). Options: ``speed`` and ``pitch`` (ratios, 1.0 the front-end's own). The text
becomes phonemes, durations and a pitch contour (a ``.pho``) here; MBROLA only joins the
diphones, so the same text gives the same bytes. Empty or silent output is an error.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ...audio.dsp import Audio
from ...errors import EngineError, EngineMissing
from .. import korean
from . import SpeechRequest
from .external import data_version, speak_with

__all__ = ["DATABASES", "INSTALL", "MbrolaEngine", "OPTIONS", "SECONDS_PER_CHAR"]

OPTIONS = {"speed": (float, 0.5, 2.0), "pitch": (float, 0.7, 1.4)}
DATABASES = Path(os.environ.get("MBROLA_VOICES", "/usr/share/mbrola"))
KNOWN = {"ko": "hn1"}                   # a language → its database
FRONT_ENDS = {"hn1": korean}            # a database → the front-end that writes its .pho
INSTALL = "apt-get install mbrola mbrola-hn1 (Debian non-free; see scripts/voices.sh)"
SECONDS_PER_CHAR = {"ko": 0.188}        # measured on the example campaign


class MbrolaEngine:
    name = "mbrola"
    offline = True
    OPTIONS = OPTIONS

    def __init__(self, speed: float = 1.0, pitch: float = 1.0):
        self.speed, self.pitch = float(speed), float(pitch)
        self._program = shutil.which("mbrola")
        if self._program is None:
            raise EngineMissing("MBROLA is not installed", fix=INSTALL)
        self._version: str | None = None

    def options(self) -> dict:
        return {"speed": self.speed, "pitch": self.pitch}

    def seconds_per_char(self, language: str) -> float:
        return SECONDS_PER_CHAR.get(language, 0.2) / self.speed

    def database(self, voice: str) -> Path:
        self.front_end(voice)
        name = KNOWN.get(voice, voice)
        path = DATABASES / name / name
        if not path.is_file():
            raise EngineMissing(f"MBROLA has no voice '{name}' installed", fix=INSTALL)
        return path

    def check_voice(self, voice: str) -> None:
        self.database(voice)

    def version(self) -> str:
        """MBROLA's databases as installed (name and size) and the front-end's rules."""
        if self._version is None:
            self._version = data_version("mbrola", DATABASES, rules=korean.RULES_VERSION)
        return self._version

    def phonemes(self, text: str, voice: str = "hn1") -> list[str]:
        """The phonemes (X-SAMPA) of each phrase, as the front-end reads ``text``."""
        return [" ".join(phrase) for phrase in self.front_end(voice).phonemes(text)]

    def front_end(self, voice: str):
        name = KNOWN.get(voice, voice)
        if name not in FRONT_ENDS:
            raise EngineError(f"MBROLA voice '{voice}' has no front-end here",
                              fix=f"use one of: {', '.join(FRONT_ENDS)}")
        return FRONT_ENDS[name]

    def synthesize(self, request: SpeechRequest) -> Audio:
        database = self.database(request.voice)
        pho = self.front_end(request.voice).pho(request.text, self.speed, self.pitch)
        if pho.count("\n") <= 2:
            raise EngineError(f"nothing in '{request.text[:40]}' that {database.name} can "
                              "read", fix="write the text in Hangul (numbers are spelled "
                                          "out before the voice)")
        program = str(self._program)
        return speak_with("MBROLA", lambda folder: [program, "-e", str(database),
                                                    str(folder / "in.pho"),
                                                    str(folder / "speech.wav")],
                          request.text, files={"in.pho": pho})
