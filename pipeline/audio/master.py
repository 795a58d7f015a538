"""Mastering: processed audio → encoded bytes that meet the profile as a listener gets them."""

from __future__ import annotations

import warnings
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..errors import AudioError
from ..fsutil import temp_beside
from . import dsp, meter
from .codec import Mp3Writer, decode_mp3, encode_mp3, mp3_encoder_id, read_wav, wav_bytes
from .dsp import Audio, Measured
from .profiles import Profile

DECODE_BLOCK_S = 10.0           # an encoded program is measured in blocks this long


def encoder_id(profile: Profile) -> str:
    """What encodes this profile's files, for cache keys: a new encoder re-encodes."""
    return "wave" if profile.format == "wav" else mp3_encoder_id()


def encode(audio: Audio, profile: Profile, title: str | None) -> bytes:
    if profile.format == "wav":
        return wav_bytes(audio)
    return encode_mp3(audio, profile.bitrate_kbps, title if profile.title_tag else None)


def measure_encoded(data: bytes, profile: Profile) -> Measured:
    """Measure the file as a listener gets it: decoded again (in process)."""
    return dsp.measure(read_wav(data) if profile.format == "wav" else decode_mp3(data))


def finish(audio: Audio, profile: Profile, title: str | None) -> tuple[bytes, Measured, int]:
    """Loudness-processed audio → (encoded bytes, what they measure, encodings done).

    The decoded true peak must be under the ceiling: a codec can overshoot, and then the
    level is lowered and the file encoded again.
    """
    data = encode(audio, profile, title)
    encodings = 1
    measured = measure_encoded(data, profile)
    for _ in range(3):
        excess = measured.true_peak - profile.max_true_peak
        if excess <= -0.05:
            break
        audio = dsp.limit(dsp.apply_gain(audio, -(excess + 0.2)), profile.max_true_peak - 0.5)
        data = encode(audio, profile, title)
        encodings += 1
        measured = measure_encoded(data, profile)
    _check(measured, profile)
    return data, measured, encodings


def _check(measured: Measured, profile: Profile) -> None:
    if (abs(measured.lufs - profile.target_lufs) > profile.tolerance_lu
            or measured.true_peak > profile.max_true_peak):
        raise AudioError(f"after encoding, {measured.lufs} LUFS and {measured.true_peak} dBTP "
                         f"miss the {profile.name} profile's {profile.target_lufs:g} LUFS "
                         f"±{profile.tolerance_lu:g} and {profile.max_true_peak:g} dBTP",
                         fix="check the source audio: is it mostly silence or noise?")


# --- programs: built from mastered pieces, streamed ------------------------------------------

Pieces = list[Callable[[], Audio]]


def program_file(pieces: Pieces, gap_seconds: float, profile: Profile, title: str | None,
                 near: Path) -> tuple[Path, Measured, int]:
    """A program from mastered pieces (each without its lead-in and lead-out), streamed
    into a temp file beside ``near``: (that file, what it measures, encodings done).

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
        _check(measured, profile)
    except AudioError:
        tmp.unlink()
        raise
    return tmp, measured, encodings


def _composed(pieces: Pieces, gap_seconds: float, profile: Profile, gain_db: float,
              ceiling_db: float, mastered_to: float) -> Iterator[Audio]:
    """The program in order, one part at a time: lead-in, pieces with gaps (composed by
    pydub), lead-out; with ``gain_db`` applied and true peaks limited to ``ceiling_db``
    where the gain lifts them or the ceiling is lower than the pieces were mastered to."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # pydub warns when ffmpeg is not on PATH
        from pydub import AudioSegment
    rate = profile.sample_rate
    yield Audio.silence(profile.lead_in, rate)
    gap = AudioSegment.silent(duration=int(round(gap_seconds * 1000)), frame_rate=rate)
    for i, load in enumerate(pieces):
        piece = load()
        if gain_db:
            piece = dsp.apply_gain(piece, gain_db)
        if gain_db > 0 or ceiling_db < mastered_to:
            piece = dsp.limit(piece, ceiling_db)
        segment = AudioSegment(data=piece.to_int16().tobytes(), sample_width=2,
                               frame_rate=rate, channels=1)
        yield Audio.from_int16((gap + segment if i else segment).raw_data, rate)
    yield Audio.silence(profile.lead_out, rate)


def _write_program(pieces: Pieces, gap_seconds: float, profile: Profile, title: str | None,
                   near: Path, gain_db: float, ceiling_db: float,
                   mastered_to: float) -> tuple[Path, Measured]:
    """The program written to a temp file, and what the samples written measure (the
    true peak only for WAV: an MP3 is measured as decoded)."""
    tmp = temp_beside(near)
    loud = meter.StreamLoudness(profile.sample_rate)
    peak = float("-inf")
    parts = _composed(pieces, gap_seconds, profile, gain_db, ceiling_db, mastered_to)
    try:
        with open(tmp, "wb") as fh:
            wav = wave.open(fh, "wb") if profile.format == "wav" else None
            mp3 = None if wav else Mp3Writer(profile.sample_rate, profile.bitrate_kbps, title)
            if wav:
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(profile.sample_rate)
            for part in parts:
                if wav:
                    wav.writeframes(part.to_int16().tobytes())
                elif mp3:
                    fh.write(mp3.write(part))
                loud.add(part.samples)
                if wav:                 # an MP3's peak is measured decoded, later
                    peak = max(peak, dsp.true_peak(part))
            if wav:
                wav.close()
            elif mp3:
                fh.write(mp3.finish())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    written = Measured(round(loud.samples / profile.sample_rate, 3), round(loud.loudness(), 2),
                       round(peak, 2))
    return tmp, written


def measure_file(path: Path, profile: Profile) -> Measured:
    """Loudness, true peak and length of an encoded file, decoded in blocks (in process):
    memory does not grow with its length."""
    import soundfile
    rate = profile.sample_rate
    block = int(DECODE_BLOCK_S * rate)
    overlap = 2 * meter.REACH
    loud = meter.StreamLoudness(rate)
    peak, samples, first = float("-inf"), 0, True
    with soundfile.SoundFile(str(path)) as f:
        for chunk in f.blocks(blocksize=block, overlap=overlap, dtype="float32",
                              always_2d=True):
            mono = chunk.mean(axis=1)
            new = mono if first else mono[overlap:]         # overlap: context for peaks
            loud.add(new)
            samples += len(new)
            first = False
            peak = max(peak, meter.true_peak(mono))
    return Measured(round(samples / rate, 3), round(loud.loudness(), 2), round(peak, 2))
