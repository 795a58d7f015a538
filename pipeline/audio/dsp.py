"""Audio processing: mono, resample, band limit, trim and pad, loudness and true peak
(and, for a profile that has one, a transmitter's chain: :mod:`.processing`).

Measurement follows ITU-R BS.1770-4 (:mod:`.meter`). True peak is measured on a ×4
oversampled signal, and a look-ahead limiter keeps it under the profile's ceiling, so a
fixed gain to the target never clips. ffmpeg's ``loudnorm`` is not used on purpose: its
defaults are not EBU R 128 and it silently switches to dynamic mode.
"""

from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass, field

import numpy as np

from . import meter
from .profiles import Profile

__all__ = ["active_power", "apply_gain", "Audio", "band_limit", "butterworth", "concat",
           "fade", "fft_size", "FADE_S", "frame_power", "limit", "LIMITER_MARGIN_DB",
           "LIMITER_WINDOW_S", "loudness", "MAKEUP_ROUNDS", "MAKEUP_STEP_DB", "measure",
           "measure_blocks", "Measured", "moving_mean", "moving_min", "normalize_loudness",
           "pad", "prepare", "process", "range_figures", "resample", "SILENCE_DB",
           "SILENCE_FLOOR_DB", "smoothed_gain", "to_mono", "trim", "true_peak"]

SILENCE_DB = -40.0              # a 10 ms frame this far below the loudest one is silence
SILENCE_FLOOR_DB = -90.0        # ... and anything below this is silence whatever the level
LIMITER_MARGIN_DB = 0.3         # aim under the ceiling: reconstruction adds a little
LIMITER_WINDOW_S = 0.004        # look-ahead and smoothing of gain changes
FADE_S = 0.010                  # fades at cut points, against clicks
MAKEUP_ROUNDS = 6               # limiter rounds at most, to bring the loudness to target
MAKEUP_STEP_DB = 6.0            # the largest change of gain between two rounds


@dataclass
class Audio:
    """Mono float32 samples in [-1, 1] at ``rate`` Hz."""

    samples: np.ndarray
    rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0

    @classmethod
    def from_int16(cls, data: bytes | np.ndarray, rate: int, channels: int = 1) -> "Audio":
        pcm = np.frombuffer(data, dtype="<i2") if isinstance(data, (bytes, bytearray)) else data
        x = pcm.astype(np.float32) / 32768.0
        if channels > 1:
            x = x.reshape(-1, channels)
        return cls(to_mono(x), rate)

    def to_int16(self) -> np.ndarray:
        return np.clip(np.round(self.samples * 32767.0), -32768, 32767).astype("<i2")

    @classmethod
    def silence(cls, seconds: float, rate: int) -> "Audio":
        return cls(np.zeros(int(round(seconds * rate)), dtype=np.float32), rate)


def to_mono(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x.mean(axis=1).astype(np.float32) if x.ndim == 2 else x


def concat(parts: list[Audio]) -> Audio:
    rate = parts[0].rate
    assert all(p.rate == rate for p in parts), "resample before joining"
    return Audio(np.concatenate([p.samples for p in parts]).astype(np.float32), rate)


def resample(audio: Audio, rate: int) -> Audio:
    """``audio`` at ``rate`` Hz (libsoxr, very high quality)."""
    if audio.rate == rate:
        return audio
    import soxr
    y = soxr.resample(audio.samples.astype(np.float32), audio.rate, rate, quality="VHQ")
    return Audio(np.asarray(y, dtype=np.float32), rate)


def band_limit(audio: Audio, low_hz: float = 0.0, high_hz: float = 0.0) -> Audio:
    """High-pass at ``low_hz`` (4th order) and low-pass at ``high_hz`` (8th order, 0: off),
    zero phase: Butterworth magnitudes squared, as a forward-backward filter applies them,
    applied in the frequency domain with enough silence around the audio that nothing
    wraps round."""
    x = audio.samples.astype(np.float64)
    rate = audio.rate
    if not len(x) or not (low_hz or (high_hz and high_hz < rate / 2)):
        return audio
    pad = rate // 4                                 # 250 ms: far beyond the filters' ring
    size = fft_size(len(x) + 2 * pad)
    spectrum = np.fft.rfft(np.concatenate([np.zeros(pad), x]), size)
    response = butterworth(np.fft.rfftfreq(size, 1 / rate), rate, low_hz, high_hz)
    y = np.fft.irfft(spectrum * response, size)[pad: pad + len(x)]
    return Audio(y.astype(np.float32), rate)


def butterworth(freqs: np.ndarray, rate: int, low_hz: float = 0.0,
                high_hz: float = 0.0) -> np.ndarray:
    """:func:`band_limit`'s magnitude at ``freqs`` (Hz): a 4th-order high-pass and an
    8th-order low-pass, squared as a forward-backward filter applies them, bilinear."""
    warped = np.tan(np.pi * freqs / rate)
    response = np.ones(len(warped))
    if high_hz and high_hz < rate / 2:
        response /= 1 + (warped / np.tan(np.pi * high_hz / rate)) ** 16
    if low_hz:
        with np.errstate(divide="ignore"):
            response /= 1 + (np.tan(np.pi * low_hz / rate) / warped) ** 8
    return response


def fft_size(n: int) -> int:
    """The smallest length ≥ ``n`` with no prime factor over 5 (a fast FFT length)."""
    best = 1 << max(0, (n - 1).bit_length())
    fives = 1
    while fives < best:
        threes = fives
        while threes < best:
            size = threes
            while size < n:
                size *= 2
            best = min(best, size)
            threes *= 3
        fives *= 5
    return best


def trim(audio: Audio, threshold_db: float = SILENCE_DB, keep_s: float = 0.02) -> Audio:
    """Cut leading and trailing silence, keeping ``keep_s`` around the sound.

    Silence is relative to the loudest 10 ms frame, so a very quiet recording keeps its
    speech; it is brought up to level afterwards.
    """
    x = audio.samples
    frame = max(1, int(audio.rate * 0.01))
    n = len(x) // frame
    if n == 0:
        return audio
    rms = np.sqrt(np.mean(x[: n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1))
    floor = max(float(rms.max()) * 10 ** (threshold_db / 20), 10 ** (SILENCE_FLOOR_DB / 20))
    loud = np.nonzero(rms > floor)[0]
    if len(loud) == 0:
        return Audio(x[:0], audio.rate)
    keep = int(keep_s * audio.rate)
    start = max(0, loud[0] * frame - keep)
    end = min(len(x), (loud[-1] + 1) * frame + keep)
    return fade(Audio(x[start:end], audio.rate))


def fade(audio: Audio, seconds: float = FADE_S) -> Audio:
    x = audio.samples.copy()
    n = min(len(x) // 2, int(seconds * audio.rate))
    if n:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        x[:n] *= ramp
        x[-n:] *= ramp[::-1]
    return Audio(x, audio.rate)


def pad(audio: Audio, lead_in: float, lead_out: float) -> Audio:
    return concat([Audio.silence(lead_in, audio.rate), audio,
                   Audio.silence(lead_out, audio.rate)])


def loudness(audio: Audio) -> float:
    """Integrated loudness in LUFS (BS.1770-4, gated); -inf for silence."""
    return meter.loudness(audio.samples, audio.rate)


def true_peak(audio: Audio) -> float:
    """True peak in dBTP (×4 oversampling, as BS.1770-4 Annex 2)."""
    return meter.true_peak(audio.samples)


def limit(audio: Audio, ceiling_db: float) -> Audio:
    """Look-ahead true-peak limiter: smooth gain reduction wherever peaks pass the ceiling.

    Only the stretches whose samples come near the ceiling are oversampled. The needed
    gain per sample is min-filtered (look-ahead and hold) and then averaged over the same
    half-width, which keeps the applied gain at or below the need.
    """
    x = audio.samples.astype(np.float64)
    if len(x) == 0:
        return audio
    ceiling = 10 ** (ceiling_db / 20)
    peaks = meter.oversampled_peaks(x, ceiling)
    if peaks is None:
        return audio
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12))
    if need.min() >= 1.0:
        return audio
    half = max(1, int(LIMITER_WINDOW_S * audio.rate))
    gain = smoothed_gain(need, half)
    return Audio((x * gain).astype(np.float32), audio.rate)


def smoothed_gain(need: np.ndarray, half: int) -> np.ndarray:
    """The gain that keeps at or under ``need`` (1 where nothing is to be done): its moving
    minimum, then moving mean, over ``2 * half + 1`` samples, computed only around the
    stretches where ``need`` is under 1 (a sample's gain depends on ``need`` within
    ``2 * half`` of it; elsewhere it is 1)."""
    reach = 2 * half
    gain = np.ones(len(need))
    n = len(need)
    for first, last in meter.runs(np.flatnonzero(need < 1.0), 2 * reach):
        start, stop = max(0, first - reach), min(n, last + reach + 1)
        context = max(0, start - reach)
        smooth = moving_mean(moving_min(need[context: min(n, stop + reach)], half), half)
        gain[start:stop] = smooth[start - context: stop - context]
    return np.minimum(gain, need)


def moving_min(x: np.ndarray, half: int) -> np.ndarray:
    """The minimum over each sample's window of ``2 * half + 1``, the edges held (a sparse
    table: minima over windows of powers of two, two overlapping ones per window)."""
    size = 2 * half + 1
    span, m = 1, np.pad(x, half, mode="edge")
    while span * 2 <= size:
        m = np.minimum(m[:-span], m[span:])
        span *= 2
    return np.minimum(m[: len(x)], m[size - span: size - span + len(x)])


def moving_mean(x: np.ndarray, half: int) -> np.ndarray:
    """The mean over each sample's window of ``2 * half + 1``, the edges held."""
    size = 2 * half + 1
    total = np.concatenate([[0.0], np.cumsum(np.pad(x, half, mode="edge"))])
    return (total[size:] - total[:-size]) / size


def frame_power(x: np.ndarray, frame: int) -> np.ndarray:
    """The mean square of each run of ``frame`` samples (the last one padded with zeros)."""
    usable = -(-len(x) // frame) * frame
    return (np.pad(x.astype(np.float64), (0, usable - len(x))).reshape(-1, frame) ** 2
            ).mean(axis=1)


def active_power(power: np.ndarray) -> float:
    """The mean of the frame powers within 30 dB of the loudest (0 for silence): speech's
    active level, in the spirit of ITU-T P.56."""
    if not len(power) or not power.max() > 0:
        return 0.0
    return float(power[power >= power.max() * 1e-3].mean())


def apply_gain(audio: Audio, db: float) -> Audio:
    return Audio((audio.samples.astype(np.float64) * 10 ** (db / 20)).astype(np.float32),
                 audio.rate)


def normalize_loudness(audio: Audio, target_lufs: float, ceiling_db: float,
                       tolerance: float = 0.1) -> Audio:
    """The gain to the target in closed form (loudness scales with gain), then the limiter
    where peaks pass the ceiling. The limiter takes some loudness back; if that leaves the
    result more than ``tolerance`` off, the gain before the limiter is found by the
    secant method on the loudness it gives (from the original audio each time, so the
    limiter never works on its own output)."""
    current = loudness(audio)
    if not np.isfinite(current):
        return audio
    gain = target_lufs - current
    tried: list[tuple[float, float, Audio]] = []        # (gain, loudness, result)
    for _ in range(MAKEUP_ROUNDS):
        gained = apply_gain(audio, gain)
        limited = limit(gained, ceiling_db - LIMITER_MARGIN_DB)
        if limited is gained:
            return gained               # no peak passed the ceiling: exactly on target
        got = loudness(limited)
        tried.append((gain, got, limited))
        if abs(got - target_lufs) < tolerance:
            break
        if len(tried) == 1:
            slope = 0.5                 # the limiter takes back about half of what is added
        else:
            (g1, y1, _), (g2, y2, _) = tried[-2:]
            slope = max((y2 - y1) / (g2 - g1), 0.1) if g2 != g1 else 0.5
        gain += float(np.clip((target_lufs - got) / slope, -MAKEUP_STEP_DB, MAKEUP_STEP_DB))
    return min(tried, key=lambda t: abs(t[1] - target_lufs))[2]


@dataclass(frozen=True)
class Measured:
    duration: float
    lufs: float
    true_peak: float
    # A WAV file's gating-block energies (float64 bytes, :func:`meter.block_energies`),
    # kept when it ends in 400 ms of silence: a program adds them up instead of measuring.
    blocks: bytes | None = field(default=None, repr=False, compare=False)
    # Its length in samples, as decoded (an MP3's decides where the next file of a
    # program starts).
    samples: int | None = field(default=None, compare=False)
    # As broadcasters read a file (EBU Tech 3342, 3341): loudness range in LU, maximum
    # momentary and short-term loudness in LUFS (a program's from its files' blocks).
    lra: float | None = None
    max_momentary: float | None = None
    max_short_term: float | None = None

    def to_json(self) -> dict:
        """As JSON values (the blocks in base64)."""
        out = dataclasses.asdict(self)
        if self.blocks is not None:
            out["blocks"] = base64.b64encode(self.blocks).decode("ascii")
        return out

    @classmethod
    def from_json(cls, values: dict) -> "Measured":
        """From :meth:`to_json`'s values (ValueError or TypeError if they are not)."""
        blocks = values.get("blocks")
        return cls(**{**values, "blocks": None if blocks is None
                      else base64.b64decode(blocks, validate=True)})


def range_figures(energies: np.ndarray) -> dict:
    """What broadcasters read beside the integrated loudness (:func:`meter.range_stats`)."""
    lra, momentary, short = meter.range_stats(energies)
    return {key: round(value, 2) if np.isfinite(value) else None
            for key, value in (("lra", lra), ("max_momentary", momentary),
                               ("max_short_term", short))}


def measure(audio: Audio) -> Measured:
    return Measured(round(audio.duration, 3), round(loudness(audio), 2),
                    round(true_peak(audio), 2), samples=len(audio.samples),
                    **range_figures(meter.block_energies(audio.samples, audio.rate)))


def measure_blocks(audio: Audio) -> Measured:
    """:func:`measure`, its loudness taken from the gating blocks, which it keeps if the
    audio ends in 400 ms of digital silence (:func:`meter.ends_in_silence`)."""
    energies = meter.block_energies(audio.samples, audio.rate)
    return Measured(round(audio.duration, 3),
                    round(meter.gated_loudness(energies[meter.BLOCK_HOPS - 1:]), 2),
                    round(true_peak(audio), 2),
                    energies.astype("<f8").tobytes()
                    if meter.ends_in_silence(audio.samples, audio.rate) else None,
                    len(audio.samples), **range_figures(energies))


def prepare(audio: Audio, profile: Profile) -> Audio:
    """Everything before loudness: mono at the profile's rate, band-limited, trimmed."""
    audio = resample(Audio(to_mono(audio.samples), audio.rate), profile.sample_rate)
    if profile.lowpass_hz or profile.highpass_hz:
        audio = band_limit(audio, profile.highpass_hz, profile.lowpass_hz)
    return trim(audio)


def process(audio: Audio, profile: Profile, trim_first: bool = True) -> Audio:
    """Raw speech → broadcast-ready audio for ``profile`` (before encoding)."""
    if trim_first:
        audio = prepare(audio, profile)
    if profile.processing is not None:
        from .processing import process_for_channel  # (it builds on this module)
        audio = process_for_channel(audio, profile.processing, profile.lowpass_hz)
    audio = pad(audio, profile.lead_in, profile.lead_out)
    return normalize_loudness(audio, profile.target_lufs, profile.max_true_peak)
