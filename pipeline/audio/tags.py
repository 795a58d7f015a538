"""What a station's playout reads from a file, for profiles with ``playout_tags``
(``radio`` by default): a title, the campaign, and the file's loudness as measured.

- WAV: an EBU Tech 3285 version 2 ``bext`` chunk (loudness value and range, maximum true
  peak, momentary and short-term loudness; its text fields are ASCII, so the title is
  there only if it is ASCII), a RIFF ``LIST``/``INFO`` chunk (``INAM`` title, ``IPRD``
  campaign, UTF-8), an AES46 ``cart`` chunk as Rivendell imports it (title if ASCII, else
  the reference; artist = the campaign; cut id = the reference) and an ``id3 `` chunk with
  the MP3's tag, since importers differ in which they read.
- MP3: an ID3v2.4 tag (title, album = campaign, ReplayGain 2.0 and the same loudness
  figures as ``TXXX`` frames).

No dates, no software names, no machine's names: the bytes depend on the audio and the
text alone, so a build stays reproducible. A stick never carries any of it
(:func:`bare_wav`, :func:`.codec.mp3_frames`).
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import AudioError
from ..fsutil import replace_durably, temp_beside
from .codec import id3_tag, mp3_frames
from .dsp import Measured
from .profiles import Profile

__all__ = ["Label", "REPLAYGAIN_REFERENCE_LUFS", "bare_wav", "bext_chunk", "cart_chunk",
           "tag_file", "tagged", "wav_chunks"]

REPLAYGAIN_REFERENCE_LUFS = -18.0       # ReplayGain 2.0's reference loudness
_UNKNOWN = 0x7FFF                       # Tech 3285: a loudness field not measured


@dataclass(frozen=True)
class Label:
    """What a file is, as a station's playout shows it."""

    title: str                  # the message's (or program's) title, translated
    campaign: str
    reference: str              # ASCII, unique in a project: CAMPAIGN/LOCALE/ID

    def key(self, profile: Profile) -> list[str]:
        """What of the label a profile's file holds, for its cache key."""
        if profile.playout_tags:
            return [self.title, self.campaign, self.reference]
        return [self.title] if profile.title_tag else []

    def description(self) -> str:
        """Tech 3285's Description (ASCII): the reference, and the title if it is ASCII."""
        text = self.reference + (f": {self.title}" if self.title.isascii() else "")
        return _ascii(text, 256).decode("ascii")


def _figures(measured: Measured) -> list[tuple[str, float | None, str]]:
    """(name, value, unit) of the loudness figures, as Tech 3285 v2 names its fields."""
    return [("LOUDNESS_VALUE", measured.lufs, "LUFS"),
            ("LOUDNESS_RANGE", measured.lra, "LU"),
            ("MAX_TRUE_PEAK_LEVEL", measured.true_peak, "dBTP"),
            ("MAX_MOMENTARY_LOUDNESS", measured.max_momentary, "LUFS"),
            ("MAX_SHORT_TERM_LOUDNESS", measured.max_short_term, "LUFS")]


def _hundredths(value: float | None) -> int:
    if value is None or not -327.67 <= value <= 327.67:
        return _UNKNOWN
    return int(round(value * 100))


def _ascii(text: str, size: int) -> bytes:
    """A text field of Tech 3285 or AES46: ASCII, ``size`` bytes at most."""
    return text.encode("ascii", "replace")[:size]


def bext_chunk(label: Label, measured: Measured, rate: int) -> bytes:
    """A ``bext`` chunk, Tech 3285 version 2 (602 bytes and a coding history)."""
    history = f"A=PCM,F={rate},W=16,M=mono\r\n".encode("ascii")
    body = struct.pack("<256s32s32s10s8sQH64s5h180s",
                       label.description().encode("ascii"), b"",
                       _ascii(label.reference, 32), b"", b"", 0, 2, b"",
                       *(_hundredths(value) for _, value, _ in _figures(measured)), b"")
    return _chunk(b"bext", body + history)


def cart_chunk(label: Label) -> bytes:
    """An AES46-2002 ``cart`` chunk (version 0101, 2048 bytes): title, artist and cut id;
    no dates, timers, software or URL. Its text is ASCII, as AES46 asks: a title in
    another script gives way to the reference (``LIST``/``INFO`` has it in UTF-8)."""
    title = label.title if label.title.isascii() else label.reference
    body = struct.pack("<4s64s64s64s64s64s64s64s10s8s10s8s64s64s64si64s276s1024s", b"0101",
                       _ascii(title, 64), _ascii(label.campaign, 64),
                       _ascii(label.reference, 64), b"", b"", b"", b"", b"", b"", b"", b"",
                       b"", b"", b"", 0, b"", b"", b"")
    return _chunk(b"cart", body)


def _info_chunk(label: Label) -> bytes:
    """A ``LIST``/``INFO`` chunk: ``INAM`` (title) and ``IPRD`` (product: the campaign)."""
    fields = b"".join(_chunk(key, value.encode("utf-8") + b"\0")
                      for key, value in ((b"INAM", label.title), (b"IPRD", label.campaign)))
    return _chunk(b"LIST", b"INFO" + fields)


def _id3(label: Label, measured: Measured) -> bytes:
    """An ID3v2.4 tag: title, album, ReplayGain 2.0 and the loudness figures."""
    extra = {"REPLAYGAIN_TRACK_GAIN": f"{REPLAYGAIN_REFERENCE_LUFS - measured.lufs:+.2f} dB",
             "REPLAYGAIN_TRACK_PEAK": f"{10 ** (measured.true_peak / 20):.6f}",
             "REPLAYGAIN_REFERENCE_LOUDNESS": f"{REPLAYGAIN_REFERENCE_LUFS:.2f} LUFS"}
    if measured.lra is not None:
        extra["REPLAYGAIN_TRACK_RANGE"] = f"{measured.lra:.2f} dB"
    extra.update({name: f"{value:.2f} {unit}" for name, value, unit in _figures(measured)
                  if value is not None})
    return id3_tag({"TIT2": label.title, "TALB": label.campaign}, extra)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")


def wav_chunks(head: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(id, offset of the body, size) of each chunk of a RIFF WAVE file, from its bytes
    (or its first bytes: a chunk past them is not listed). ValueError if it is not one."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise ValueError("not a RIFF WAVE file")
    at = 12
    while at + 8 <= len(head):
        kind, size = head[at:at + 4], struct.unpack("<I", head[at + 4:at + 8])[0]
        yield kind, at + 8, size
        at += 8 + size + size % 2


def _with_chunks(head: bytes, extra: bytes) -> tuple[bytes, int, int]:
    """A WAV's new header (RIFF, fmt, ``extra``, the data chunk's header) and where its
    PCM starts and how long it is in the old file."""
    chunks = {kind: (at, size) for kind, at, size in wav_chunks(head)}
    if b"fmt " not in chunks or b"data" not in chunks:
        raise ValueError("a WAV file without fmt or data")
    fmt_at, fmt_size = chunks[b"fmt "]
    data_at, data_size = chunks[b"data"]
    fmt = _chunk(b"fmt ", head[fmt_at:fmt_at + fmt_size])
    size = 4 + len(fmt) + len(extra) + 8 + data_size + data_size % 2
    header = b"RIFF" + struct.pack("<I", size) + b"WAVE" + fmt + extra \
        + b"data" + struct.pack("<I", data_size)
    return header, data_at, data_size


def bare_wav(data: bytes) -> bytes:
    """A WAV file with its ``fmt`` and ``data`` chunks only (what a stick carries)."""
    header, at, size = _with_chunks(data, b"")
    return header + data[at:at + size] + (b"\0" if size % 2 else b"")


def _wav_extra(label: Label, measured: Measured, rate: int) -> bytes:
    return (bext_chunk(label, measured, rate) + _info_chunk(label) + cart_chunk(label)
            + _chunk(b"id3 ", _id3(label, measured)))


def tagged(data: bytes, fmt: str, rate: int, label: Label, measured: Measured) -> bytes:
    """A file's bytes with its playout tags (any it had replaced); the audio unchanged."""
    if fmt == "mp3":
        return _id3(label, measured) + mp3_frames(data)
    header, at, size = _with_chunks(data, _wav_extra(label, measured, rate))
    return header + data[at:at + size] + (b"\0" if size % 2 else b"")


HEAD_BYTES = 1 << 16        # a WAV's chunks before its PCM fit in this (ours: under 5 KB)


def tag_file(path: Path, fmt: str, rate: int, label: Label, measured: Measured) -> None:
    """:func:`tagged` for a file too long to hold whole (a program): copied, streamed,
    into a new file that replaces it."""
    out = temp_beside(path)
    try:
        with open(path, "rb") as src, open(out, "wb") as dst:
            if fmt == "mp3":
                dst.write(_id3(label, measured) + mp3_frames(src.read(HEAD_BYTES)))
                shutil.copyfileobj(src, dst)
            else:
                head = src.read(HEAD_BYTES)
                try:
                    header, at, size = _with_chunks(head, _wav_extra(label, measured, rate))
                except ValueError as exc:
                    raise AudioError(f"cannot tag the WAV file: {exc}", path,
                                     fix="delete the render cache (audio_out/.cache)") \
                        from None
                dst.write(header)
                src.seek(at)
                left = size + size % 2
                while left:
                    piece = src.read(min(left, 1 << 20))
                    if not piece:
                        raise AudioError("the WAV file is shorter than its data chunk", path,
                                         fix="delete the render cache (audio_out/.cache)")
                    dst.write(piece)
                    left -= len(piece)
        replace_durably(out, path)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
