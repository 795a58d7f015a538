"""Audio processing: mono, resample, band limit, trim and pad, loudness and true peak.

Measurement follows ITU-R BS.1770 (pyloudnorm's meter). True peak is measured on a ×4
oversampled signal, and a look-ahead limiter keeps it under the profile's ceiling, so a
fixed gain to the target never clips. ffmpeg's ``loudnorm`` is not used on purpose: its
defaults are not EBU R 128 and it silently switches to dynamic mode.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .profiles import Profile

SILENCE_DB = -40.0              # a 10 ms frame this far below the loudest one is silence
SILENCE_FLOOR_DB = -90.0        # ... and anything below this is silence whatever the level
LIMITER_MARGIN_DB = 0.3         # aim under the ceiling: reconstruction adds a little
LIMITER_WINDOW_S = 0.004        # look-ahead and smoothing of gain changes
FADE_S = 0.010                  # fades at cut points, against clicks


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
    from scipy import signal  # lazily: scipy is slow to import
    if audio.rate == rate:
        return audio
    g = np.gcd(audio.rate, rate)
    y = signal.resample_poly(audio.samples.astype(np.float64), rate // g, audio.rate // g)
    return Audio(y.astype(np.float32), rate)


def band_limit(audio: Audio, low_hz: float = 0.0, high_hz: float = 0.0) -> Audio:
    """High-pass at ``low_hz`` and low-pass at ``high_hz`` (0: off), zero phase."""
    from scipy import signal  # lazily: scipy is slow to import
    x = audio.samples.astype(np.float64)
    nyq = audio.rate / 2
    if high_hz and high_hz < nyq:
        sos = signal.butter(8, high_hz, "lowpass", fs=audio.rate, output="sos")
        x = signal.sosfiltfilt(sos, x)
    if low_hz:
        sos = signal.butter(4, low_hz, "highpass", fs=audio.rate, output="sos")
        x = signal.sosfiltfilt(sos, x)
    return Audio(x.astype(np.float32), audio.rate)


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
    if audio.duration < 0.4:
        audio = pad(audio, 0.0, 0.4 - audio.duration)
    import pyloudnorm  # imported here: it costs a second, and most commands never measure
    meter = pyloudnorm.Meter(audio.rate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(meter.integrated_loudness(audio.samples.astype(np.float64)))


PEAK_BLOCK = 1 << 18            # samples per block when oversampling (bounds memory)
PEAK_OVERLAP = 64               # longer than the interpolation filter's reach


def _oversampled_peaks(x: np.ndarray) -> np.ndarray:
    """Per input sample, the largest magnitude of the ×4 oversampled signal around it.

    Done in overlapping blocks, so that a long program needs no more memory than a
    message; the overlap keeps block edges free of filter transients.
    """
    from scipy import signal  # lazily: scipy is slow to import
    n = len(x)
    out = np.empty(n, dtype=np.float64)
    for start in range(0, n, PEAK_BLOCK):
        stop = min(n, start + PEAK_BLOCK)
        a, b = max(0, start - PEAK_OVERLAP), min(n, stop + PEAK_OVERLAP)
        up = signal.resample_poly(x[a:b].astype(np.float64), 4, 1)
        peaks = np.abs(up[: (b - a) * 4]).reshape(b - a, 4).max(axis=1)
        out[start:stop] = peaks[start - a: stop - a]
    return out


def true_peak(audio: Audio) -> float:
    """True peak in dBTP (×4 oversampling, as BS.1770-4 Annex 2)."""
    if len(audio.samples) == 0:
        return float("-inf")
    peak = float(_oversampled_peaks(audio.samples).max())
    return float(20 * np.log10(peak)) if peak > 0 else float("-inf")


def limit(audio: Audio, ceiling_db: float) -> Audio:
    """Look-ahead true-peak limiter: smooth gain reduction wherever peaks pass the ceiling.

    The needed gain per sample is min-filtered (look-ahead and hold) and then averaged
    over the same half-width, which keeps the applied gain at or below the need.
    """
    from scipy import ndimage  # lazily: scipy is slow to import
    x = audio.samples.astype(np.float64)
    if len(x) == 0:
        return audio
    ceiling = 10 ** (ceiling_db / 20)
    need = np.minimum(1.0, ceiling / np.maximum(_oversampled_peaks(x), 1e-12))
    if need.min() >= 1.0:
        return audio
    half = max(1, int(LIMITER_WINDOW_S * audio.rate))
    gain = ndimage.minimum_filter1d(need, size=2 * half + 1, mode="nearest")
    gain = ndimage.uniform_filter1d(gain, size=2 * half + 1, mode="nearest")
    gain = np.minimum(gain, need)
    return Audio((x * gain).astype(np.float32), audio.rate)


def apply_gain(audio: Audio, db: float) -> Audio:
    return Audio((audio.samples.astype(np.float64) * 10 ** (db / 20)).astype(np.float32),
                 audio.rate)


def normalize_loudness(audio: Audio, target_lufs: float, ceiling_db: float) -> Audio:
    """Fixed gain to the target, then the limiter; repeated until both hold."""
    current = loudness(audio)
    if not np.isfinite(current):
        return audio
    for _ in range(6):
        audio = apply_gain(audio, target_lufs - current)
        audio = limit(audio, ceiling_db - LIMITER_MARGIN_DB)
        current = loudness(audio)
        if abs(current - target_lufs) < 0.1:
            break
    return audio


@dataclass(frozen=True)
class Measured:
    duration: float
    lufs: float
    true_peak: float


def measure(audio: Audio) -> Measured:
    return Measured(round(audio.duration, 3), round(loudness(audio), 2),
                    round(true_peak(audio), 2))


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
    audio = pad(audio, profile.lead_in, profile.lead_out)
    return normalize_loudness(audio, profile.target_lufs, profile.max_true_peak)
