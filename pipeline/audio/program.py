"""Building a program: its messages' finished files in order with pauses between them
(copied, not processed again: :func:`program_from_files`), or, with an intro or outro or
where that misses the profile, its mastered pieces streamed with one gain
(:func:`program_file`). Both give (a temp file, what it measures, encodings done).
"""

from __future__ import annotations

import functools
import itertools
import struct
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..errors import AudioError
from ..fsutil import temp_beside
from . import dsp, meter
from .codec import Mp3Writer, decode_mp3, encode_mp3, id3_title, mp3_frames, wav_writer
from .dsp import Audio, Measured
from .finish import check_profile
from .profiles import Profile
from .tags import wav_chunks

__all__ = ["PieceBlocks", "Pieces", "decoded_blocks", "measure_file", "mp3_program_offsets",
           "pause_fill", "program_file", "program_from_files"]


DECODE_BLOCK_S = 10.0           # an encoded program is measured in blocks this long
MP3_QUIET_SAMPLES = 2 * 1152    # silence around a file that resets an MP3 decoder: 2 frames


Pieces = list[Callable[[], Audio]]


def pause_fill(gap_seconds: float, profile: Profile) -> float:
    """Seconds of silence between two pieces of a program: each piece keeps its lead-out
    and lead-in, and this tops the pause between them up to ``gap_seconds``."""
    return max(0.0, gap_seconds - profile.lead_in - profile.lead_out)


def program_file(pieces: Pieces, gap_seconds: float, profile: Profile, title: str | None,
                 near: Path) -> tuple[Path, Measured, int]:
    """A program from mastered pieces (each with its lead-in and lead-out), streamed into a
    temp file beside ``near``: (that file, what it measures, encodings done).

    The pieces already meet the profile, so the first pass writes them as they are and
    measures what it writes; only if the program misses the target by more than a quarter
    of the tolerance is it written again with one fixed gain (limited where that lifts a
    peak past the ceiling). An MP3 is measured again as a listener gets it, and written
    again with a lower ceiling if the codec overshot.
    """
    mastered_to = ceiling = profile.max_true_peak - dsp.LIMITER_MARGIN_DB
    gain = 0.0
    for encodings in range(1, 5):
        tmp, written = _write_program(pieces, gap_seconds, profile, title, near, gain,
                                      ceiling, mastered_to)
        miss = profile.target_lufs - written.lufs
        if encodings == 1 and np.isfinite(miss) and abs(miss) > profile.tolerance_lu / 4:
            tmp.unlink()
            gain = miss
            continue
        measured = written if profile.format == "wav" else measure_file(tmp, profile)
        excess = measured.true_peak - profile.max_true_peak
        if excess <= -0.05 or encodings == 4:
            break
        tmp.unlink()
        ceiling -= excess + 0.2         # the codec overshot: limit lower, keep the level
    try:
        check_profile(measured, profile)
    except AudioError:
        tmp.unlink()
        raise
    return tmp, measured, encodings


def _audio_segment():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # pydub warns when ffmpeg is not on PATH
        from pydub import AudioSegment
    return AudioSegment


def _composed(pieces: Pieces, gap_seconds: float, profile: Profile, gain_db: float,
              ceiling_db: float, mastered_to: float) -> Iterator[np.ndarray]:
    """The program's 16-bit PCM in order, one part at a time: the pieces with silence
    between them (composed by pydub); with ``gain_db`` applied and true peaks limited to
    ``ceiling_db`` where the gain lifts them or the ceiling is lower than the pieces were
    mastered to."""
    segment_of = _audio_segment()
    rate = profile.sample_rate
    fill = segment_of.silent(duration=int(round(pause_fill(gap_seconds, profile) * 1000)),
                             frame_rate=rate)
    for i, load in enumerate(pieces):
        piece = load()
        if gain_db:
            piece = dsp.apply_gain(piece, gain_db)
        if gain_db > 0 or ceiling_db < mastered_to:
            piece = dsp.limit(piece, ceiling_db)
        segment = segment_of(data=piece.to_int16().tobytes(), sample_width=2,
                             frame_rate=rate, channels=1)
        yield np.frombuffer((fill + segment if i else segment).raw_data, dtype="<i2")


def _write_program(pieces: Pieces, gap_seconds: float, profile: Profile, title: str | None,
                   near: Path, gain_db: float, ceiling_db: float,
                   mastered_to: float) -> tuple[Path, Measured]:
    """The program written to a temp file, and what the samples written measure (the
    true peak only for WAV: an MP3 is measured as decoded)."""
    tmp = temp_beside(near)
    rate = profile.sample_rate
    measure = _Measure(rate)
    try:
        with open(tmp, "wb") as fh:
            wav = wav_writer(fh, rate) if profile.format == "wav" else None
            mp3 = None if wav else Mp3Writer(rate, profile.bitrate_kbps, title)
            try:
                for pcm in _composed(pieces, gap_seconds, profile, gain_db, ceiling_db,
                                     mastered_to):
                    if wav:
                        wav.writeframes(pcm.data)
                    elif mp3:
                        fh.write(mp3.write(Audio.from_int16(pcm, rate)))
                    measure.add(pcm)    # an MP3's peak is measured again decoded, later
            finally:
                if wav:                 # closed here, not by the collector after fh
                    wav.close()
            if mp3:
                fh.write(mp3.finish())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, measure.result()


class _Measure:
    """Length, loudness and true peak of audio fed in order, in pieces: the samples just
    before each piece are carried over as the true peak's context."""

    def __init__(self, rate: int, peak: float | None = None):
        """``peak``: the true peak, known already (then it is not measured)."""
        self.rate = rate
        self.loud = meter.StreamBlocks(rate)
        self.known = peak is not None
        self.peak = float("-inf") if peak is None else peak
        self._tail = np.zeros(0, dtype=np.float32)

    def add(self, samples: np.ndarray) -> None:
        """Float samples in [-1, 1], or 16-bit PCM."""
        if len(samples) == 0:
            return
        self.loud.add(samples)
        if self.known:
            return
        x = samples.astype(np.float32) / 32768 if samples.dtype == np.int16 else samples
        context = np.concatenate([self._tail, x])
        self.peak = max(self.peak, meter.true_peak(context))
        self._tail = context[-2 * meter.REACH:]

    def result(self) -> Measured:
        return _stream_measured(self.loud.energies(), self.loud.samples, self.rate, self.peak)


def measure_file(path: Path, profile: Profile, peak: float | None = None) -> Measured:
    """Loudness, true peak (unless known: ``peak``) and length of an encoded file, decoded
    in blocks (in process): memory does not grow with its length.

    Read with ``read``, which returns what was decoded, not ``blocks``: an MP3's length is
    an estimate until it is decoded, and where the decoder gives fewer samples than that,
    ``blocks`` yields the rest of its buffer unwritten (whatever memory held)."""
    import soundfile
    measure = _Measure(profile.sample_rate, peak)
    with soundfile.SoundFile(str(path)) as f:
        while len(chunk := f.read(int(DECODE_BLOCK_S * profile.sample_rate), dtype="float32",
                                  always_2d=True)):
            measure.add(chunk.mean(axis=1))
    return measure.result()


# --- programs from finished files: nothing processed or encoded again ----------------------

# What a program needs of its I-th file, lying OFFSET samples into a 100 ms step of the
# meter's grid: (its decoded length, its gating blocks there, or None if it does not end
# in 400 ms of silence). See :func:`decoded_blocks`; a render caches them.
PieceBlocks = Callable[[int, int], "tuple[int, np.ndarray | None]"]


def decoded_blocks(path: Path, offset: int, rate: int) -> tuple[int, np.ndarray | None]:
    """An MP3 file's decoded length and the gating blocks it makes lying ``offset`` samples
    into a 100 ms step of a stream (:func:`meter.block_energies`); None for the blocks if
    it does not end in 400 ms of digital silence."""
    samples = decode_mp3(path.read_bytes()).samples
    if not meter.ends_in_silence(samples, rate):
        return len(samples), None
    return len(samples), meter.block_energies(samples, rate, offset)


def program_from_files(files: list[Path], measured: list[Measured], gap_seconds: float,
                       profile: Profile, title: str | None, near: Path,
                       blocks_at: PieceBlocks | None = None) -> tuple[Path, Measured, int] | None:
    """A program made of its messages' finished files, in order, with silence topping up
    the pause between two of them (:func:`pause_fill`), written to a temp file beside
    ``near``: (that file, what it measures, no encoding: the shape of
    :func:`program_file`), or None if it misses the profile (then it is mastered as a
    whole by :func:`program_file`). ``measured``: the files'.

    Its loudness is its files' gating blocks taken together (:mod:`.meter`): every file
    ends in 400 ms of silence, so no block of the program holds the sound of two, and the
    blocks of each are what a meter reads over the whole program. A file without them is
    measured with the whole program instead.

    WAV: the files' PCM is copied (read by pydub), each file starting on the 100 ms grid
    of the meter (a pause is up to 100 ms longer for it), so their blocks are those kept
    when they were measured. Its true peak is the largest of the files': each file's
    samples lie between silences longer than the interpolation filter's reach, in the
    file and in the program alike, so every interpolated sample is the same in both.
    MP3: the files' frames are copied after their tags; each file was encoded from silence
    to silence by an encoder of its own, so its frames decode alone, and the silence
    between them is encoded once. The decoded program is then the decoded files laid end
    to end (to within 2e-7, tested): a decoder enters each file after frames of pure
    silence, in the state it starts in. So its true peak is the files' (as decoded), and
    its loudness is the blocks of each file decoded alone where it lies in the program
    (``blocks_at``; by default decoded here). Changing one message re-encodes that
    message only.
    """
    tmp = temp_beside(near)
    fill_s = pause_fill(gap_seconds, profile)
    quiet = min(profile.lead_in, profile.lead_out) * profile.sample_rate
    peaks = [m.true_peak for m in measured]
    try:
        if profile.format == "wav":
            blocks = [m.blocks for m in measured if m.blocks is not None]
            measured_now = _wav_program(
                files, fill_s, profile, tmp, max(peaks) if quiet >= meter.REACH else None,
                blocks if len(blocks) == len(files) else None)
        else:
            with open(tmp, "wb") as fh:
                if title:
                    fh.write(id3_title(title))
                fill, between = _mp3_silence(fill_s, profile.sample_rate,
                                             profile.bitrate_kbps)
                for i, path in enumerate(files):
                    if i:
                        fh.write(fill)
                    fh.write(mp3_frames(path.read_bytes()))
            peak = max(peaks) if quiet >= MP3_QUIET_SAMPLES else None
            added = None if peak is None else _mp3_program(
                len(files), between, profile, peak, blocks_at or (
                    lambda i, offset: decoded_blocks(files[i], offset, profile.sample_rate)))
            measured_now = added or measure_file(tmp, profile, peak)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if (abs(measured_now.lufs - profile.target_lufs) > profile.tolerance_lu / 4
            or measured_now.true_peak > profile.max_true_peak - 0.05):
        tmp.unlink()
        return None
    return tmp, measured_now, 0      # nothing encoded again


def _stream_blocks(parts: list[tuple[int, np.ndarray]], length: int, rate: int) -> np.ndarray:
    """A stream's gating blocks, as :func:`meter.block_energies` gives them for the whole
    stream of ``length`` samples, from its parts': (where the part starts, its blocks
    there). Each part's blocks go where they lie; silence between parts has blocks of no
    energy; where two parts' blocks meet (in the silence between their sounds), their
    energies add."""
    grid = meter.hop(rate)
    full = np.zeros(length // grid)
    for start, blocks in parts:
        at = start // grid
        count = max(0, min(len(blocks), len(full) - at))
        full[at:at + count] += blocks[:count]
    return full


def _stream_measured(energies: np.ndarray, length: int, rate: int, peak: float) -> Measured:
    """A stream's measure from its gating blocks (:func:`_stream_blocks`): its integrated
    loudness (the stream's own first block ends 400 ms in) and its range figures."""
    return Measured(round(length / rate, 3),
                    round(meter.gated_loudness(energies[meter.BLOCK_HOPS - 1:]), 2),
                    round(peak, 2), **dsp.range_figures(energies))


@functools.lru_cache(maxsize=8)
def _mp3_silence(seconds: float, rate: int, bitrate_kbps: int) -> tuple[bytes, int]:
    """``seconds`` of silence encoded (nothing for none), and its decoded length."""
    if not seconds:
        return b"", 0
    data = encode_mp3(Audio.silence(seconds, rate), bitrate_kbps)
    return data, len(decode_mp3(data).samples)


def _mp3_program(count: int, between: int, profile: Profile, peak: float,
                 blocks_at: PieceBlocks) -> Measured | None:
    """An MP3 program's measure from its files' decoded lengths and blocks, ``between``
    samples of silence between two; None if a file has no blocks."""
    rate = profile.sample_rate
    parts, at = [], 0
    for i in range(count):
        at += between if i else 0
        length, blocks = blocks_at(i, at % meter.hop(rate))
        if blocks is None:
            return None
        parts.append((at, blocks))
        at += length
    return _stream_measured(_stream_blocks(parts, at, rate), at, rate, peak)


def mp3_program_offsets(samples: list[int], gap_seconds: float, profile: Profile) -> list[int]:
    """Where each file of an MP3 program lies in a 100 ms step of the meter's grid, from
    the files' decoded lengths: the offsets :func:`program_from_files` asks ``blocks_at``
    for."""
    between = _mp3_silence(pause_fill(gap_seconds, profile), profile.sample_rate,
                           profile.bitrate_kbps)[1]
    starts = itertools.accumulate([0] + [n + between for n in samples[:-1]])
    return [at % meter.hop(profile.sample_rate) for at in starts]


def _pcm16(path: Path, rate: int) -> np.ndarray:
    """A message file's 16-bit mono PCM at ``rate``, found by its chunks.

    Not read by pydub: its reader skips no pad byte after a chunk of odd length (a
    ``bext`` with its coding history is one), misses the ``data`` chunk and then decodes
    the file through ffprobe and ffmpeg, two processes per file (and none where only
    the ffmpeg wheel is installed)."""
    data = path.read_bytes()
    try:
        chunks = {kind: (at, size) for kind, at, size in wav_chunks(data)}
        fmt_at, fmt_size = chunks[b"fmt "]
        data_at, data_size = chunks[b"data"]
        form = struct.unpack_from("<HHI", data, fmt_at) + \
            struct.unpack_from("<H", data, fmt_at + 14) if fmt_size >= 16 else ()
    except (ValueError, KeyError, struct.error):
        form = ()
    if form != (1, 1, rate, 16):
        raise AudioError("a message file does not have the profile's format", path,
                         fix="delete the render cache (audio_out/.cache) and build")
    size = min(data_size, len(data) - data_at) // 2
    return np.frombuffer(data, dtype="<i2", count=size, offset=data_at)


def _wav_program(files: list[Path], fill_s: float, profile: Profile, tmp: Path,
                 peak: float | None, blocks: list[bytes] | None) -> Measured:
    """The WAV program written to ``tmp``: its loudness added up from the files' ``blocks``
    (if all are known, and so is its ``peak``), else measured as it is written."""
    rate = profile.sample_rate
    grid, least = meter.hop(rate), int(round(fill_s * rate))
    measure = _Measure(rate, peak) if blocks is None or peak is None else None
    written, starts = 0, []
    with open(tmp, "wb") as fh, wav_writer(fh, rate) as out:
        for i, path in enumerate(files):
            parts = [_pcm16(path, rate)]
            if i:       # silence up to the next 100 ms step of the meter's grid
                parts.insert(0, np.zeros(least + (-(written + least)) % grid, dtype="<i2"))
            starts.append(written + (len(parts[0]) if i else 0))
            for pcm in parts:
                out.writeframes(pcm.data)
                written += len(pcm)
                if measure:
                    measure.add(pcm)
    if measure:
        return measure.result()
    assert blocks is not None and peak is not None      # (no measure)
    return _stream_measured(_stream_blocks([(at, np.frombuffer(b, dtype="<f8"))
                                            for at, b in zip(starts, blocks, strict=True)],
                                           written, rate), written, rate, peak)
