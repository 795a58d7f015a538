"""The speech stage: how each message is voiced, its raw audio (cached), and its length.

A :class:`Voicing` is pure data (picklable, hashable): TTS paragraphs with an engine and
its options, or a human recording. :func:`speech` turns it into audio through the speech
cache; :func:`estimate_seconds` predicts its length for the ``duration`` check without
synthesizing anything.
"""

from __future__ import annotations

import hashlib
import re
import threading
import wave
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..audio import dsp
from ..audio.codec import decode, read_wav, wav_bytes
from ..errors import EngineError
from ..fsutil import atomic_write
from ..layout import Layout
from .engines import Engine, SpeechRequest, cache_key, get_engine

__all__ = ["DEFAULT_TIMEOUT_S", "estimate_seconds", "PARAGRAPH_PAUSE_S", "speech",
           "SPEECH_RATE", "spoken_chars", "Voicing"]

PARAGRAPH_PAUSE_S = 0.7
DEFAULT_TIMEOUT_S = 300.0       # the longest one synthesis may take ([render] synthesis_timeout)
SPEECH_RATE = 48000             # recordings are decoded at this rate


@dataclass(frozen=True)
class Voicing:
    """How one message is voiced in one locale: TTS paragraphs, or a recording."""

    locale: str
    engine: str = ""
    voice: str = ""
    options: tuple[tuple[str, Any], ...] = ()     # as configured: the engine is built from them
    texts: tuple[str, ...] = ()         # normalized paragraphs
    recording: str = ""                 # path relative to the project
    recording_sha256: str = ""
    max_seconds: float | None = None    # the longest a recording may last; not in any key
    timeout: float = DEFAULT_TIMEOUT_S  # per synthesis; not part of any cache key
    instead_of: str = ""                # the voice configured but not installed; no key

    def made_by(self) -> dict:
        if self.recording:
            return {"recording": self.recording, "recording_sha256": self.recording_sha256}
        # The engine's effective options (defaults filled in), as in its cache key.
        made = {"engine": self.engine, "voice": self.voice,
                "options": self.engine_instance().options()}
        if self.instead_of:
            made["instead_of"] = self.instead_of
        return made

    def engine_instance(self) -> Engine:
        return get_engine(self.engine, dict(self.options))

    def speech_keys(self) -> list[str]:
        """One speech-cache key per paragraph (or one for the recording)."""
        if self.recording:
            return ["recording-" + self.recording_sha256]
        engine = self.engine_instance()
        return [cache_key(engine, SpeechRequest(t, self.locale, self.voice)) for t in self.texts]


def speech(voicing: Voicing, layout: Layout) -> tuple[dsp.Audio, int]:
    """The raw voice of a message (paragraphs joined) and how many syntheses it took."""
    keys = voicing.speech_keys()
    if voicing.recording:
        cached = _cached_speech(layout, keys[0])
        if cached is None:
            cached = dsp.trim(decode(layout.root / voicing.recording, SPEECH_RATE,
                                     voicing.max_seconds))
            _store_speech(layout, keys[0], cached)
        return cached, 0
    engine = voicing.engine_instance()
    parts, syntheses = [], 0
    for key, text in zip(keys, voicing.texts, strict=True):
        audio = _cached_speech(layout, key)
        if audio is None:
            audio = _bounded(engine, SpeechRequest(text, voicing.locale, voicing.voice),
                             voicing.timeout)
            syntheses += 1
            if len(audio.samples) == 0 or not np.any(audio.samples):
                raise EngineError(f"{voicing.engine} produced silence for '{text[:40]}'",
                                  fix=f"check the voice of [voices.{voicing.locale}]")
            audio = _store_speech(layout, key, audio)
        parts.append(audio)
    rate = parts[0].rate
    joined: list[dsp.Audio] = []
    for i, part in enumerate(parts):
        if i:
            joined.append(dsp.Audio.silence(PARAGRAPH_PAUSE_S, rate))
        joined.append(dsp.resample(part, rate))
    return dsp.concat(joined), syntheses


def _seal(key: str, data: bytes) -> str:
    """The digest that binds a speech-cache file to its key: a file copied over another
    key's entry (with or without its seal) does not match."""
    return hashlib.sha256(key.encode("ascii") + b"\0" + data).hexdigest()


def _store_speech(layout: Layout, key: str, audio: dsp.Audio) -> dsp.Audio:
    """Write ``audio`` under ``key``, then its seal; return it as it will be read back."""
    data = wav_bytes(audio)
    path = layout.speech_cache(key)
    atomic_write(path, data)
    atomic_write(layout.speech_seal(key), _seal(key, data).encode("ascii"))
    return read_wav(data)


def _cached_speech(layout: Layout, key: str) -> dsp.Audio | None:
    """The speech cache's audio under ``key`` if its seal proves it was made for that key;
    None (made again) if it is missing, damaged, unsealed or another key's."""
    try:
        data = layout.speech_cache(key).read_bytes()
        seal = layout.speech_seal(key).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if seal != _seal(key, data):
        return None
    try:
        return read_wav(data)
    except (EOFError, wave.Error):
        return None


def _bounded(engine: Engine, request: SpeechRequest, seconds: float) -> dsp.Audio:
    """``engine.synthesize(request)``, or an error if it takes longer than ``seconds``.

    The synthesis runs in a thread that is abandoned on time-out (a hung engine cannot be
    interrupted safely); the render of that locale then fails and keeps its old output.
    """
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["audio"] = engine.synthesize(request)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=run, name="synthesis", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise EngineError(f"{engine.name} did not finish one synthesis in {seconds:g} s "
                          f"({request.locale}: '{request.text[:30]}')",
                          fix="check the engine and voice, or raise [render] "
                              "synthesis_timeout")
    if "error" in result:
        raise result["error"]
    return result["audio"]


def spoken_chars(text: str) -> int:
    return len(re.sub(r"\s", "", text))


def estimate_seconds(paragraphs: list[str], engine: Engine, language: str) -> float:
    """Predicted spoken seconds of normalized ``paragraphs`` (no synthesis, no files)."""
    rate = engine.seconds_per_char(language)
    return (sum(spoken_chars(p) for p in paragraphs) * rate
            + PARAGRAPH_PAUSE_S * max(0, len(paragraphs) - 1))
