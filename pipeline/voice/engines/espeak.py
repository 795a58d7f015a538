"""espeak-ng in process, from the ``espeakng-loader`` wheel: no system package, no network.

espeak-ng keeps state between calls (its random generator and more), so the same text
gives different samples depending on what was said before. For reproducible builds each
text is spoken by a freshly loaded library (loading costs about 15 ms), seeded alike.
"""

from __future__ import annotations

import _ctypes
import ctypes
import threading
from contextlib import contextmanager

import numpy as np

from ...audio.dsp import Audio
from ...errors import EngineError
from ...versions import installed_version
from . import SpeechRequest

__all__ = ["AUDIO_OUTPUT_SYNCHRONOUS", "ESPEAK_CHARS_UTF8", "ESPEAK_INITIALIZE_DONT_EXIT",
           "EspeakEngine", "OPTIONS", "PHONEMES_IPA", "POS_CHARACTER", "RAND_SEED",
           "SECONDS_PER_CHAR_AT_150"]

AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_INITIALIZE_DONT_EXIT = 0x8000
ESPEAK_CHARS_UTF8 = 1
POS_CHARACTER = 1
PARAM_RATE, PARAM_PITCH = 1, 3
PHONEMES_IPA = 0x02
RAND_SEED = 1

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)


# Spoken seconds per non-space character at 150 words per minute, measured on the
# example campaign's messages (the duration check's estimate scales it by speed).
SECONDS_PER_CHAR_AT_150 = {"ko": 0.208, "ru": 0.073, "uk": 0.123, "en": 0.068}
OPTIONS = {"speed": (int, 80, 450), "pitch": (int, 0, 99)}


class EspeakEngine:
    """The offline default. Options: ``speed`` (words per minute), ``pitch`` (0-99)."""

    name = "espeak"
    offline = True
    OPTIONS = OPTIONS
    _lock = threading.Lock()        # espeak-ng is not re-entrant

    def options(self) -> dict:
        return {"speed": self.speed, "pitch": self.pitch}

    def seconds_per_char(self, language: str) -> float:
        return SECONDS_PER_CHAR_AT_150.get(language, 0.08) * 150 / self.speed

    def __init__(self, speed: int = 150, pitch: int = 50):
        self.speed, self.pitch = speed, pitch
        try:
            import espeakng_loader
        except ImportError:
            raise EngineError("the espeak engine needs the espeakng-loader package",
                              fix="pip install espeakng-loader") from None
        self._loader = espeakng_loader
        self._version: str | None = None

    @contextmanager
    def _fresh_library(self, callback):
        """espeak-ng loaded and initialized from scratch; unloaded afterwards."""
        lib = ctypes.CDLL(self._loader.get_library_path())
        try:
            lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                              ctypes.c_int]
            lib.espeak_Info.restype = ctypes.c_char_p
            lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
            lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
            lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint,
                                         ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                         ctypes.c_void_p, ctypes.c_void_p]
            rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                         self._loader.get_data_path().encode(),
                                         ESPEAK_INITIALIZE_DONT_EXIT)
            if rate <= 0:
                raise EngineError("espeak-ng failed to start",
                                  fix="reinstall espeakng-loader (its voice data may be missing)")
            lib.espeak_SetSynthCallback(callback)
            try:
                yield lib, rate
            finally:
                lib.espeak_Terminate()
        finally:
            _ctypes.dlclose(lib._handle)

    def version(self) -> str:
        if self._version is None:
            with self._lock, self._fresh_library(_CALLBACK(lambda *a: 0)) as (lib, _):
                self._version = (f"espeak-ng {lib.espeak_Info(None).decode()} (espeakng-loader "
                                 f"{installed_version('espeakng-loader', self._loader.__file__)})")
        return self._version

    def phonemes(self, text: str, voice: str) -> list[str]:
        """espeak-ng's IPA for ``text``, one string per clause (punctuation is not kept)."""
        with self._lock, self._fresh_library(_CALLBACK(lambda *a: 0)) as (lib, _):
            lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
            lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int,
                                                  ctypes.c_int]
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EngineError(f"espeak-ng has no voice '{voice}' to read phonemes with",
                                  fix="set the locale's voice to an espeak-ng language, e.g. "
                                      "ko, ru, uk, en")
            buffer = ctypes.create_string_buffer(text.encode("utf-8"))
            pointer = ctypes.c_void_p(ctypes.addressof(buffer))
            clauses = []
            while pointer.value:
                out = lib.espeak_TextToPhonemes(ctypes.byref(pointer), ESPEAK_CHARS_UTF8,
                                                PHONEMES_IPA)
                if out:
                    clauses.append(out.decode("utf-8").strip())
        return [c for c in clauses if c]

    def synthesize(self, request: SpeechRequest) -> Audio:
        chunks: list[np.ndarray] = []

        def collect(wav, count, _events):
            if count > 0:
                chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
            return 0
        callback = _CALLBACK(collect)       # referenced until the library is unloaded
        with self._lock, self._fresh_library(callback) as (lib, rate):
            if lib.espeak_SetVoiceByName(request.voice.encode()) != 0:
                raise EngineError(f"espeak-ng has no voice '{request.voice}' for {request.locale}",
                                  fix=f"set [voices.{request.locale}] voice to one of "
                                      "ko, ru, uk, en")
            lib.espeak_SetParameter(PARAM_RATE, self.speed, 0)
            lib.espeak_SetParameter(PARAM_PITCH, self.pitch, 0)
            lib.espeak_ng_SetRandSeed(RAND_SEED)
            text = request.text.encode("utf-8")
            status = lib.espeak_Synth(text, len(text) + 1, 0, POS_CHARACTER, 0,
                                      ESPEAK_CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
            if status != 0:
                raise EngineError(f"espeak-ng failed on the text (status {status})",
                                  fix="check the text for unusual characters")
        pcm = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        return Audio.from_int16(pcm.astype("<i2"), rate)
