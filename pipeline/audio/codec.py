"""Codecs: WAV written and read in process; ffmpeg (the system's, or the imageio-ffmpeg
wheel's) for decoding other formats and MP3 encoding."""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

from ..errors import AudioError
from .dsp import Audio


@functools.lru_cache(maxsize=None)
def ffmpeg_exe() -> str:
    """Path of ffmpeg: on PATH first, else the binary inside imageio-ffmpeg."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # noqa: BLE001 - any failure means "not available"
        raise AudioError("ffmpeg is not available",
                         fix="pip install imageio-ffmpeg, or install ffmpeg from your "
                             "system's packages") from None


@functools.lru_cache(maxsize=None)
def ffmpeg_version() -> str:
    return _run(["-version"], None, "tell its version", None).decode("utf-8", "replace") \
        .split("\n")[0].strip()


def _run(args: list[str], data: bytes | None, what: str, source: str | None) -> bytes:
    try:
        proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel",
                               "error", *args], input=data, capture_output=True)
    except OSError as exc:
        raise AudioError(f"ffmpeg could not be run to {what}: {exc.strerror or exc}", source,
                         fix="reinstall ffmpeg or imageio-ffmpeg") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().split("\n")[-1]
        raise AudioError(f"ffmpeg could not {what}: {detail}", source,
                         fix="check that the file is a valid WAV, FLAC or MP3")
    return proc.stdout


def decode(source: Path | bytes, rate: int = 48000) -> Audio:
    """Any audio ffmpeg reads → mono float32 at ``rate``."""
    if isinstance(source, (bytes, bytearray)):
        raw = _run(["-i", "pipe:0", "-ac", "1", "-ar", str(rate), "-f", "f32le", "pipe:1"],
                   bytes(source), "decode audio", None)
    else:
        raw = _run(["-i", str(source), "-ac", "1", "-ar", str(rate), "-f", "f32le", "pipe:1"],
                   None, "decode audio", str(source))
    return Audio(np.frombuffer(raw, dtype="<f4").copy(), rate)


def encode_mp3(audio: Audio, bitrate_kbps: int, title: str | None = None) -> bytes:
    """CBR MP3 with no encoder tag, no Xing/LAME header, no dates, no ID3 but the title."""
    args = ["-f", "s16le", "-ar", str(audio.rate), "-ac", "1", "-i", "pipe:0",
            "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
            "-c:a", "libmp3lame", "-b:a", f"{bitrate_kbps}k", "-write_xing", "0",
            "-write_id3v1", "0"]
    if title:
        args += ["-id3v2_version", "4", "-metadata", f"title={title}"]
    else:
        args += ["-id3v2_version", "0"]
    args += ["-f", "mp3", "pipe:1"]
    # libmp3lame still writes "LAME3.100" into frames' padding bits, as in nearly every
    # MP3 in circulation; they are part of the coded stream and cannot be blanked safely.
    return _run(args, audio.to_int16().tobytes(), "encode MP3", None)


def read_wav(source: Path | bytes) -> Audio:
    """A PCM 16-bit WAV file (or its bytes) as audio."""
    with wave.open(io.BytesIO(source) if isinstance(source, bytes) else str(source), "rb") as w:
        return Audio.from_int16(w.readframes(w.getnframes()), w.getframerate(),
                                w.getnchannels())


def wav_bytes(audio: Audio) -> bytes:
    """PCM 16-bit mono WAV: RIFF, fmt and data chunks only (no INFO, no dates)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(audio.rate)
        w.writeframes(audio.to_int16().tobytes())
    return buf.getvalue()
