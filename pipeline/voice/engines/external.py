"""Engines that are programs: run one on a text, read the WAV it writes, refuse silence."""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ...audio.codec import read_wav
from ...audio.dsp import Audio
from ...errors import EngineError

__all__ = ["data_version", "SILENT_PEAK", "speak_with", "TIMEOUT_S"]

SILENT_PEAK = 1e-3              # a peak below this (-60 dBFS) is no speech
TIMEOUT_S = 120


def data_version(name: str, *folders: Path, rules: str = "") -> str:
    """A version for an engine whose program tells none: its data folders' files, by
    path and size (and ``rules``, the version of the project's own part)."""
    digest = hashlib.sha256(rules.encode())
    for top in folders:
        for path in sorted(top.rglob("*")) if top.is_dir() else []:
            if path.is_file():
                digest.update(f"{path.relative_to(top.parent)}\0{path.stat().st_size}\n"
                              .encode())
    return f"{name}-{digest.hexdigest()[:16]}"


def speak_with(name: str, argv: Callable[[Path], list[str]], text: str,
               stdin: bytes | None = None, files: dict[str, str] | None = None) -> Audio:
    """Run ``argv(folder)`` in a fresh temporary folder (holding ``files``, with ``stdin``
    on its input); it must write ``folder/speech.wav``. No audio, a time-out or silence
    is an error naming ``name`` and the start of ``text``, never audio."""
    with tempfile.TemporaryDirectory(prefix=f"broadcast-{name.lower()}-") as tmp:
        folder = Path(tmp)
        wav = folder / "speech.wav"
        for file_name, content in (files or {}).items():
            (folder / file_name).write_text(content, encoding="utf-8")
        try:
            run = subprocess.run(argv(folder), input=stdin, capture_output=True,
                                 timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise EngineError(f"{name} did not finish in {TIMEOUT_S} s",
                              fix=f"check the {name} installation") from None
        if run.returncode != 0 or not wav.exists() or wav.stat().st_size <= 44:
            problem = (run.stderr.decode("utf-8", "replace").strip().splitlines() or [""])[-1]
            raise EngineError(f"{name} wrote no audio for '{text[:40]}'"
                              + (f" ({problem})" if problem else ""),
                              fix="check the text and the voice")
        audio = read_wav(wav.read_bytes())
    if len(audio.samples) == 0 or float(np.max(np.abs(audio.samples))) < SILENT_PEAK:
        raise EngineError(f"{name} wrote silence for '{text[:40]}'",
                          fix="check the text and the voice")
    return audio
