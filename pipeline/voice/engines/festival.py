"""Festival's ``text2wave``, for the locales that have a Festival voice installed.

Russian: Debian's ``festival`` and ``festvox-ru`` (recorded diphones of a native speaker,
voice ``msu_ru_nsh_clunits``). The locale's ``voice`` in broadcast.toml is the Festival
voice, or a language that has a known one (``ru``).

``text2wave`` exits 0 and writes an empty file when the text holds a character its
letter-to-sound rules do not know ("—", "«", "…", "№"): the text is cleaned to letters,
digits and ASCII punctuation first, and an empty or silent output is an error, never
audio. Option: ``speed`` (1.0 is the voice's own pace).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ...audio.codec import read_wav
from ...audio.dsp import Audio
from ...errors import EngineError
from . import SpeechRequest

__all__ = ["clean", "FestivalEngine", "INSTALL", "KNOWN_VOICES", "OPTIONS",
           "SECONDS_PER_CHAR", "SILENT_PEAK", "TIMEOUT_S"]

OPTIONS = {"speed": (float, 0.5, 2.0)}
KNOWN_VOICES = {"ru": "msu_ru_nsh_clunits"}
INSTALL = "apt-get install festival festvox-ru"
SECONDS_PER_CHAR = {"ru": 0.095}       # measured on the example campaign
SILENT_PEAK = 1e-3              # a peak below this (-60 dBFS) is no speech
TIMEOUT_S = 120


def clean(text: str) -> str:
    """The text in characters ``text2wave`` can read: pauses for dashes and ellipses,
    nothing for quotes and other signs."""
    text = re.sub(r"\s*[—–‒―]\s*", ", ", text)
    text = text.replace("…", ". ")
    text = re.sub(r"[^\w\s.,!?;:'()\-]|_", " ", text)
    return re.sub(r"\s+", " ", text).strip()


class FestivalEngine:
    name = "festival"
    offline = True
    OPTIONS = OPTIONS

    def __init__(self, speed: float = 1.0):
        self.speed = float(speed)
        self._program = shutil.which("text2wave")
        if self._program is None:
            raise EngineError("the festival engine needs Festival's text2wave",
                              fix=f"{INSTALL} (or choose another engine for the locale)")
        self._version: str | None = None

    def options(self) -> dict:
        return {"speed": self.speed}

    def seconds_per_char(self, language: str) -> float:
        return SECONDS_PER_CHAR.get(language, 0.08) / self.speed

    def version(self) -> str:
        if self._version is None:
            festival = shutil.which("festival") or "festival"
            out = subprocess.run([festival, "--version"], capture_output=True, text=True,
                                 timeout=30)
            self._version = out.stdout.strip() or out.stderr.strip()
        return self._version

    def synthesize(self, request: SpeechRequest) -> Audio:
        voice = KNOWN_VOICES.get(request.voice, request.voice)
        if not re.fullmatch(r"[A-Za-z0-9_]+", voice):
            raise EngineError(f"'{request.voice}' is not a Festival voice name",
                              fix=f"set [voices.{request.locale}] voice to e.g. "
                                  "msu_ru_nsh_clunits")
        text = clean(request.text)
        with tempfile.TemporaryDirectory(prefix="broadcast-festival-") as tmp:
            source, wav = Path(tmp) / "text.txt", Path(tmp) / "speech.wav"
            source.write_text(text + "\n", encoding="utf-8")
            setup = f"(voice_{voice})(Parameter.set 'Duration_Stretch {1 / self.speed:.4f})"
            try:
                run = subprocess.run([str(self._program), "-eval", setup, "-o", str(wav),
                                      str(source)], capture_output=True, text=True,
                                     timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise EngineError(f"text2wave did not finish in {TIMEOUT_S} s",
                                  fix="check the Festival installation") from None
            problem = (run.stderr.strip().splitlines() or [""])[-1]
            if "not defined" in run.stderr or "unbound variable" in run.stderr:
                raise EngineError(f"Festival has no voice '{voice}' ({problem})",
                                  fix=f"{INSTALL}, or name an installed voice")
            if run.returncode != 0 or not wav.exists() or wav.stat().st_size <= 44:
                raise EngineError(f"text2wave wrote no audio for '{text[:40]}'"
                                  + (f" ({problem})" if problem else ""),
                                  fix="check the text for characters the voice cannot read")
            audio = read_wav(wav)
        if len(audio.samples) == 0 or float(np.max(np.abs(audio.samples))) < SILENT_PEAK:
            raise EngineError(f"text2wave wrote silence for '{text[:40]}'",
                              fix="check the text and the Festival voice")
        return audio
