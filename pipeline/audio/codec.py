"""Codecs: WAV and MP3 written and read in process (MP3: LAME through lameenc, mpg123
through libsndfile); ffmpeg (the system's, or the imageio-ffmpeg wheel's) decodes
anything else a user brings (recordings, intros)."""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np

from ..errors import AudioError, AudioFileError
from ..versions import installed_version
from .dsp import Audio

__all__ = ["container_of", "decode", "decode_mp3", "encode_mp3", "ffmpeg_exe",
           "ffmpeg_version", "id3_tag", "id3_title", "LAME_SCALE", "MAX_USER_AUDIO_S",
           "mp3_encoder_id", "mp3_frames", "MP3_QUALITY", "Mp3Writer", "read_wav", "wav_bytes",
           "wav_writer", "waveform"]


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


def _run(args: list[str], data: bytes | None, what: str, source: str | None,
         refused: type[AudioError] = AudioError) -> bytes:
    try:
        proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel",
                               "error", *args], input=data, capture_output=True)
    except OSError as exc:
        raise AudioError(f"ffmpeg could not be run to {what}: {exc.strerror or exc}", source,
                         fix="reinstall ffmpeg or imageio-ffmpeg") from None
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().split("\n")[-1]
        raise refused(f"ffmpeg could not {what}: {detail}", source,
                         fix="check that the file is a valid WAV, FLAC or MP3")
    return proc.stdout


# A user's audio (a recording, an intro) is known by its first bytes and read by that
# container's demuxer alone: a playlist (HLS, concat) or anything else that names other
# files or URLs never reaches ffmpeg.
MAX_USER_AUDIO_S = 3600.0       # no recording or intro is longer than this


def container_of(head: bytes) -> str | None:
    """``wav``, ``flac``, ``mp3`` or ``ogg`` from a file's first 12 bytes; None otherwise."""
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def decode(source: Path | bytes, rate: int = 48000, limit: float | None = None) -> Audio:
    """A user's audio file, or MP3 bytes → mono float32 at ``rate``.

    A file must be a WAV, FLAC, MP3 or Ogg file by its content; it is read with that
    demuxer alone and no protocol but ``file`` (a playlist naming other files is refused).
    At most ``limit`` seconds (one more, so that a longer file shows) are decoded: a long
    file costs no more memory than its limit."""
    seconds = MAX_USER_AUDIO_S if limit is None else limit
    bounded = ["-t", f"{seconds + 1:g}"]
    if isinstance(source, (bytes, bytearray)):
        raw = _run(["-f", "mp3", "-i", "pipe:0", *bounded, "-ac", "1", "-ar", str(rate),
                    "-f", "f32le", "pipe:1"], bytes(source), "decode audio", None)
        return Audio(np.frombuffer(raw, dtype="<f4").copy(), rate)
    path = Path(source)
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        raise AudioError(f"cannot read the audio: {exc.strerror or exc}", str(path),
                         fix="check that the file exists and can be read") from None
    kind = container_of(head)
    if kind is None:
        raise AudioFileError("not a WAV, FLAC, MP3 or Ogg audio file", str(path),
                         fix="export it as WAV, FLAC or MP3 (a playlist or another file "
                             "type is never read)")
    raw = _run(["-protocol_whitelist", "file", "-f", kind, "-i", f"file:{path.resolve()}",
                *bounded, "-ac", "1", "-ar", str(rate), "-f", "f32le", "pipe:1"], None,
               "decode audio", str(path), AudioFileError)
    audio = Audio(np.frombuffer(raw, dtype="<f4").copy(), rate)
    if audio.duration > seconds:
        raise AudioFileError(f"lasts more than {seconds:g} s, the longest it may be", str(path),
                         fix="record or cut it shorter (or raise the message's max_seconds)")
    return audio


MP3_QUALITY = 3                 # LAME's own default: -q 3
LAME_SCALE = 0.95               # libmp3lame scales its input by this (lameenc cannot set it)


@functools.lru_cache(maxsize=1)
def mp3_encoder_id() -> str:
    """What encodes MP3s, for cache keys: a new LAME re-encodes."""
    import lameenc
    return f"lameenc {installed_version('lameenc', lameenc.__file__)} q{MP3_QUALITY} s{LAME_SCALE}"


class Mp3Writer:
    """CBR MP3 encoded in process (LAME through lameenc), fed in pieces: a long program
    is never held whole. No encoder tag, no Xing/LAME header, no dates; an ID3v2.4 tag
    with the title only when asked."""

    def __init__(self, rate: int, bitrate_kbps: int, title: str | None = None):
        import lameenc
        self._encoder = lameenc.Encoder()
        self._encoder.set_bit_rate(bitrate_kbps)
        self._encoder.set_in_sample_rate(rate)
        self._encoder.set_out_sample_rate(rate)
        self._encoder.set_channels(1)
        self._encoder.set_quality(MP3_QUALITY)
        self._header = id3_title(title) if title else b""

    def write(self, audio: Audio) -> bytes:
        """The MP3 bytes that ``audio`` completes (the tag first)."""
        # Undo the library's scale, so that the decoded file has the level mastered.
        pcm = Audio(audio.samples / LAME_SCALE, audio.rate).to_int16()
        out = self._header + bytes(self._encoder.encode(pcm.tobytes()))
        self._header = b""
        return out

    def finish(self) -> bytes:
        out = self._header + bytes(self._encoder.flush())
        self._header = b""
        return out


def encode_mp3(audio: Audio, bitrate_kbps: int, title: str | None = None) -> bytes:
    """CBR MP3 with no encoder tag, no Xing/LAME header, no dates, no ID3 but the title."""
    writer = Mp3Writer(audio.rate, bitrate_kbps, title)
    return writer.write(audio) + writer.finish()


def id3_title(title: str) -> bytes:
    """An ID3v2.4 tag holding one TIT2 (title) frame, UTF-8."""
    return id3_tag({"TIT2": title})


def id3_tag(text: dict[str, str], user: dict[str, str] | None = None) -> bytes:
    """An ID3v2.4 tag of text frames (``{"TIT2": title}``) and user text frames (``TXXX``,
    ``{description: value}``), all UTF-8, in the order given."""
    def syncsafe(n: int) -> bytes:
        return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])

    def frame(kind: str, body: bytes) -> bytes:
        return kind.encode("ascii") + syncsafe(len(body) + 1) + b"\x00\x00\x03" + body
    frames = b"".join([frame(k, v.encode("utf-8")) for k, v in text.items()]
                      + [frame("TXXX", d.encode("utf-8") + b"\0" + v.encode("utf-8"))
                         for d, v in (user or {}).items()])
    return b"ID3\x04\x00\x00" + syncsafe(len(frames)) + frames


def mp3_frames(data: bytes) -> bytes:
    """An MP3 file's frames: the bytes after its ID3v2 tag, if it has one."""
    if data[:3] != b"ID3" or len(data) < 10:
        return data
    size = (data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | data[9] & 0x7F
    footer = 10 if data[5] & 0x10 else 0
    return data[10 + size + footer:]


def decode_mp3(data: bytes) -> Audio:
    """MP3 bytes → mono float32 at their own rate, in process (libsndfile's mpg123)."""
    import soundfile
    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise AudioError(f"the MP3 cannot be decoded: {exc}",
                         fix="render it again") from None
    return Audio(samples.mean(axis=1).astype(np.float32), int(rate))


def waveform(path: Path, bars: int) -> list[float]:
    """The peak of each of ``bars`` equal slices of an audio file (WAV or MP3), 0..1."""
    import soundfile
    samples, _ = soundfile.read(str(path), dtype="float32", always_2d=True)
    mono = np.abs(samples.mean(axis=1))
    if len(mono) == 0:
        return [0.0] * bars
    edges = np.linspace(0, len(mono), bars + 1).astype(int)
    return [round(float(mono[a:b].max()) if b > a else 0.0, 3)
            for a, b in zip(edges[:-1], edges[1:], strict=True)]


def read_wav(source: Path | bytes) -> Audio:
    """A PCM 16-bit WAV file (or its bytes) as audio."""
    with wave.open(io.BytesIO(source) if isinstance(source, bytes) else str(source), "rb") as w:
        return Audio.from_int16(w.readframes(w.getnframes()), w.getframerate(),
                                w.getnchannels())


def wav_writer(fh, rate: int) -> wave.Wave_write:
    """A writer of PCM 16-bit mono WAV into ``fh``: RIFF, fmt and data chunks only (no
    INFO, no dates); frames may be written in pieces."""
    w = wave.open(fh, "wb")
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(rate)
    return w


def wav_bytes(audio: Audio) -> bytes:
    """PCM 16-bit mono WAV (:func:`wav_writer`) of ``audio``."""
    buf = io.BytesIO()
    with wav_writer(buf, audio.rate) as w:
        w.writeframes(audio.to_int16().tobytes())
    return buf.getvalue()
