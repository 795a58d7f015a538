"""An exact engine for the tests: a tone per character, silence between words.

Every non-space character is ``CHAR_S`` of a sine at ``FREQ`` Hz, and every space is
``GAP_S`` of silence, at ``RATE`` Hz: durations are known in advance to the sample, and
the same text always gives the same samples.
"""

from __future__ import annotations

import os
import signal
import time

import numpy as np

from pipeline.audio.dsp import Audio
from pipeline.errors import EngineError
from pipeline.voice.engines import SpeechRequest, check_options

RATE = 24000
CHAR_S = 0.05
GAP_S = 0.05
FREQ = 440.0
OPTIONS = {"amplitude": (float, 0.01, 1.0)}


class ToneEngine:
    name = "tone"
    offline = True
    calls = 0                       # syntheses in this process

    def __init__(self, amplitude: float = 0.3):
        self.amplitude = amplitude

    @classmethod
    def from_options(cls, options) -> "ToneEngine":
        return cls(**check_options(options, OPTIONS))

    def options(self) -> dict:
        return {"amplitude": self.amplitude}

    def version(self) -> str:
        return "tone 1"

    def seconds_per_char(self, language: str) -> float:
        return CHAR_S

    def synthesize(self, request: SpeechRequest) -> Audio:
        type(self).calls += 1
        # Faults on demand, for the reliability tests (the variables reach the workers).
        if os.environ.get("FAKE_ENGINE_FAIL"):
            raise EngineError("the tone voice is unreachable", fix="unset FAKE_ENGINE_FAIL")
        if os.environ.get("FAKE_ENGINE_HANG"):
            time.sleep(3600)
        if os.environ.get("FAKE_ENGINE_DIE"):          # as the OOM killer would end a worker
            os.kill(os.getpid(), signal.SIGKILL)
        n = int(round(CHAR_S * RATE))
        t = np.arange(n) / RATE
        tone = (self.amplitude * np.sin(2 * np.pi * FREQ * t)).astype(np.float32)
        gap = np.zeros(int(round(GAP_S * RATE)), np.float32)
        parts = [gap if ch.isspace() else tone for ch in request.text.strip()]
        return Audio(np.concatenate(parts) if parts else np.zeros(0, np.float32), RATE)
