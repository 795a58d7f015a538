"""espeak-ng in process, from the ``espeakng-loader`` wheel: no system package, no network."""

from __future__ import annotations

import ctypes
import importlib.metadata
import threading

import numpy as np

from ..audio import Audio
from ..errors import EngineError
from . import SpeechRequest

AUDIO_OUTPUT_RETRIEVAL = 1
ESPEAK_INITIALIZE_DONT_EXIT = 0x8000
ESPEAK_CHARS_UTF8 = 1
POS_CHARACTER = 1
PARAM_RATE, PARAM_PITCH = 1, 3

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)


class EspeakEngine:
    """The offline default. espeak-ng keeps global state, so calls are serialized."""

    name = "espeak"
    _lock = threading.Lock()

    def __init__(self):
        try:
            import espeakng_loader
        except ImportError:
            raise EngineError("the espeak engine needs the espeakng-loader package",
                              fix="pip install espeakng-loader") from None
        self._loader = espeakng_loader
        self._lib = None
        self._rate = 0
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)   # keep a reference: C holds it

    def _collect(self, wav, count, events):
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def _load(self):
        if self._lib is not None:
            return self._lib
        lib = ctypes.CDLL(self._loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                          ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint,
                                     ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                     ctypes.c_void_p, ctypes.c_void_p]
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_RETRIEVAL, 0,
                                     self._loader.get_data_path().encode(),
                                     ESPEAK_INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise EngineError("espeak-ng failed to start",
                              fix="reinstall espeakng-loader (its voice data may be missing)")
        lib.espeak_SetSynthCallback(self._callback)
        self._lib, self._rate = lib, rate
        return lib

    def version(self) -> str:
        with self._lock:
            lib = self._load()
            return (f"espeak-ng {lib.espeak_Info(None).decode()} "
                    f"(espeakng-loader {importlib.metadata.version('espeakng-loader')})")

    def synthesize(self, request: SpeechRequest) -> Audio:
        voice = request.voice
        with self._lock:
            lib = self._load()
            if lib.espeak_SetVoiceByName(voice.voice.encode()) != 0:
                raise EngineError(f"espeak-ng has no voice '{voice.voice}' for {request.locale}",
                                  "broadcast.toml",
                                  fix=f"set [voices.{request.locale}] voice to one of ko, ru, uk, en")
            lib.espeak_SetParameter(PARAM_RATE, int(voice.speed), 0)
            lib.espeak_SetParameter(PARAM_PITCH, int(voice.pitch), 0)
            self._chunks = []
            text = request.text.encode("utf-8")
            status = lib.espeak_Synth(text, len(text) + 1, 0, POS_CHARACTER, 0,
                                      ESPEAK_CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
            if status != 0:
                raise EngineError(f"espeak-ng failed on the text (status {status})",
                                  fix="check the text for unusual characters")
            pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
            self._chunks = []
        return Audio.from_int16(pcm.astype("<i2"), self._rate)
