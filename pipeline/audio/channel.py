"""What a listener near the front hears: a message through a simulated channel.

Three channels, each deterministic (its noise seeded by the channel and a name, e.g. the
message's), written as ``KIND:SNR[:OPTION…]`` (``am:6``, ``am:6:pink:fading``, ``fm:20``,
``speaker:3``, ``am:clean``):

- ``am``: an AM or shortwave transmitter and receiver. The audio at 11,025 Hz, through
  the transmitter's band (150–4,500 Hz), modulates the carrier at **equal peak**: every
  file's peak is 100 % modulation, as a transmitter's protection limiter makes it. The
  receiver adds noise of a fixed level against full modulation (white, or ``pink``), with
  ``fading`` the carrier rising and falling slowly (up to 12 dB, receiver AGC: the noise
  rises as it falls), and hears it through the same band. What it gives is at a fixed
  level, full modulation at -6 dBFS (scaled down only where noise would clip).
- ``fm``: an FM relay: 50 µs pre-emphasis, 15 kHz band, equal peak deviation; FM's
  triangular noise (rising with frequency) and the receiver's de-emphasis.
- ``speaker``: a horn loudspeaker across open ground: the horn's band (300–5,000 Hz), a
  reverberant impulse response (decaying noise, 0.8 s to −60 dB, direct sound at 0 dB)
  and babble (six reversed, shifted copies of the speech) at the SNR against the
  speech's own active level: ambient noise does not follow the program.

**The SNR of the radio channels is the channel's, not the file's.** Noise stands at a
fixed level against full modulation, ``SNR + ACTIVE_BELOW_PEAK_DB`` below it: for a plain
speech master, whose active level is about that far under its peak, the speech is SNR dB
over the noise, and processing that raises the average modulation at the same peak wins
what it would win on air. Active level: the RMS of the 10 ms frames within 30 dB of the
loudest (ITU-T P.56 in spirit).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from ..errors import PipelineError
from .dsp import Audio, active_power, band_limit, frame_power, resample

__all__ = ["ACTIVE_BELOW_PEAK_DB", "active_level", "Channel", "CHANNELS", "hear",
           "parse_channel"]

ACTIVE_BELOW_PEAK_DB = 15.0     # a plain master's active level under its peak (measured)
CHANNELS = ("am", "fm", "speaker")
_OPTIONS = {"am": ("white", "pink", "fading"), "fm": (), "speaker": ()}
_AM_RATE, _AM_BAND = 11025, (150.0, 4500.0)
_FM_RATE, _FM_BAND, _FM_TAU = 32000, (30.0, 15000.0), 50e-6
_SPEAKER_RATE, _SPEAKER_BAND = 16000, (300.0, 5000.0)
_FADE_DB, _FADE_HZ = 12.0, 0.2
_REVERB_S, _BABBLERS = 0.8, 6


@dataclass(frozen=True)
class Channel:
    kind: str                   # am | fm | speaker
    snr_db: float | None        # None: no noise (a clean channel)
    options: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        snr = "clean" if self.snr_db is None else f"{self.snr_db:g}"
        return ":".join([self.kind, snr, *self.options])


def parse_channel(text: str, where: str = "--channel") -> Channel:
    """``am:6``, ``am:0:pink:fading``, ``fm:20``, ``speaker:3``, ``am:clean``."""
    parts = text.strip().lower().split(":")
    fix = "write e.g. am:6, am:6:pink:fading, fm:20, speaker:3 or am:clean"
    if len(parts) < 2 or parts[0] not in CHANNELS:
        raise PipelineError(f"channel '{text}' is not KIND:SNR with KIND one of "
                            f"{', '.join(CHANNELS)}", where, fix=fix)
    kind, snr_text, options = parts[0], parts[1], tuple(parts[2:])
    try:
        snr = None if snr_text == "clean" else float(snr_text)
    except ValueError:
        raise PipelineError(f"channel '{text}': SNR '{snr_text}' is not a number of dB",
                            where, fix=fix) from None
    if snr is not None and not -20 <= snr <= 60:
        raise PipelineError(f"channel '{text}': SNR {snr:g} dB is outside -20..60", where,
                            fix=fix)
    for option in options:
        if option not in _OPTIONS[kind]:
            known = ", ".join(_OPTIONS[kind]) or "none"
            raise PipelineError(f"channel '{text}': {kind} has no option '{option}'", where,
                                fix=f"its options: {known}")
    return Channel(kind, snr, options)


def active_level(samples: np.ndarray, rate: int) -> float:
    """The RMS of the 10 ms frames within 30 dB of the loudest, in dB (re full scale)."""
    power = active_power(frame_power(samples, max(1, rate // 100)))
    return float(10 * np.log10(power)) if power > 0 else -np.inf


def hear(audio: Audio, channel: Channel, name: str = "") -> Audio:
    """``audio`` as a listener hears it through ``channel``; ``name`` seeds the noise (the
    same name and channel give the same bytes)."""
    rng = np.random.default_rng(int.from_bytes(
        hashlib.sha256(f"{channel}|{name}".encode()).digest()[:8], "little"))
    if channel.kind == "am":
        return _am(audio, channel, rng)
    if channel.kind == "fm":
        return _fm(audio, channel, rng)
    return _speaker(audio, channel, rng)


def _at_peak(x: np.ndarray) -> np.ndarray:
    """Scaled to full modulation: its largest sample at ±1."""
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    return x / peak if peak > 0 else x


def _received(x: np.ndarray, rate: int) -> Audio:
    """What the receiver gives, at a fixed level (its AGC follows the carrier, not the
    program): full modulation at -6 dBFS, the noise on top, scaled down only if it would
    clip."""
    y = x * 0.5
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    return Audio((y / peak if peak > 1 else y).astype(np.float32), rate)


def _noise_rms(snr_db: float) -> float:
    return 10 ** (-(snr_db + ACTIVE_BELOW_PEAK_DB) / 20)


def _shaped_noise(n: int, rng: np.random.Generator, rate: int, slope: float) -> np.ndarray:
    """Gaussian noise of unit RMS whose power goes as frequency to the ``slope`` (0 white,
    -1 pink, 2 FM's triangular noise)."""
    white = rng.standard_normal(n)
    if slope == 0 or n < 2:
        return white
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(n, 1 / rate)
    freqs[0] = freqs[1]
    spectrum *= freqs ** (slope / 2)
    shaped = np.fft.irfft(spectrum, n)
    return shaped / (np.sqrt(np.mean(shaped ** 2)) or 1.0)


def _fading(n: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """The carrier's slow rise and fall: a gain in (−``_FADE_DB`` dB, 0 dB], random
    phase sinusoids below ``_FADE_HZ``."""
    t = np.arange(n) / rate
    swing = np.zeros(n)
    for k in range(1, 4):
        swing += np.sin(2 * np.pi * _FADE_HZ / k * t + rng.uniform(0, 2 * np.pi)) / k
    swing = (swing - swing.min()) / ((swing.max() - swing.min()) or 1.0)   # 0..1
    return 10 ** (-_FADE_DB * (1 - swing) / 20)


def _am(audio: Audio, channel: Channel, rng: np.random.Generator) -> Audio:
    low, high = _AM_BAND
    sent = _at_peak(band_limit(resample(audio, _AM_RATE), low, high).samples.astype(np.float64))
    received = sent
    if channel.snr_db is not None:
        noise = _shaped_noise(len(sent), rng, _AM_RATE, -1 if "pink" in channel.options else 0)
        noise *= _noise_rms(channel.snr_db)
        if "fading" in channel.options:
            noise /= _fading(len(sent), _AM_RATE, rng)     # the AGC lifts the noise too
        received = sent + noise
    heard = band_limit(Audio(received.astype(np.float32), _AM_RATE), low, high)
    return _received(heard.samples.astype(np.float64), _AM_RATE)


def _emphasis(x: np.ndarray, rate: int, inverse: bool = False) -> np.ndarray:
    """FM's 50 µs pre-emphasis (or, ``inverse``, the receiver's de-emphasis), zero phase."""
    n = len(x)
    spectrum = np.fft.rfft(x, 2 * n)
    gain = np.sqrt(1 + (2 * np.pi * np.fft.rfftfreq(2 * n, 1 / rate) * _FM_TAU) ** 2)
    return np.fft.irfft(spectrum * (1 / gain if inverse else gain), 2 * n)[:n]


def _fm(audio: Audio, channel: Channel, rng: np.random.Generator) -> Audio:
    low, high = _FM_BAND
    x = band_limit(resample(audio, _FM_RATE), low, high).samples.astype(np.float64)
    sent = _at_peak(_emphasis(x, _FM_RATE))
    received = sent
    if channel.snr_db is not None:
        noise = _shaped_noise(len(sent), rng, _FM_RATE, 2) * _noise_rms(channel.snr_db)
        received = sent + noise
    heard = band_limit(Audio(_emphasis(received, _FM_RATE, inverse=True).astype(np.float32),
                             _FM_RATE), low, high)
    return _received(heard.samples.astype(np.float64), _FM_RATE)


def _speaker(audio: Audio, channel: Channel, rng: np.random.Generator) -> Audio:
    low, high = _SPEAKER_BAND
    x = band_limit(resample(audio, _SPEAKER_RATE), low, high).samples.astype(np.float64)
    n = len(x)
    if n == 0:
        return Audio(x.astype(np.float32), _SPEAKER_RATE)
    tail = int(_REVERB_S * _SPEAKER_RATE)
    response = rng.standard_normal(tail) * 10 ** (-3 * np.arange(tail) / tail)   # −60 dB
    response *= 0.5 / np.sqrt(np.sum(response ** 2))        # the reverberant part, −6 dB
    response[0] += 1.0                                      # the direct sound
    size = 1 << (n + tail).bit_length()
    wet = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(response, size), size)[:n]
    if channel.snr_db is not None:
        babble = np.zeros(n)
        for _ in range(_BABBLERS):
            babble += np.roll(x[::-1], int(rng.integers(n)))
        speech_db = active_level(wet, _SPEAKER_RATE)
        babble_db = active_level(babble, _SPEAKER_RATE)
        if np.isfinite(speech_db) and np.isfinite(babble_db):
            wet = wet + babble * 10 ** ((speech_db - channel.snr_db - babble_db) / 20)
    return _received(_at_peak(wet), _SPEAKER_RATE)
