"""Processing for a transmitter: speech made dense enough to stand above a channel's noise.

Broadcasters who send speech over AM process it before the transmitter (Orban's Optimod
is the reference): at the same peak modulation, denser speech is louder on the receiver,
and its consonants, which carry what is understood, stand above the noise. A profile's
``processing`` table applies, in order:

1. a high-pass (``highpass_hz``): low rumble takes modulation and carries no words;
2. a high shelf (``shelf_hz``, ``shelf_db``): pre-emphasis of the consonants' band;
3. compression, wideband or in bands split at ``bands`` (Hz): each band's level is
   followed over ``attack_ms`` and held for ``release_ms``; what rises more than
   ``threshold_db`` over the band's active level is brought down by ``ratio``, and each
   band is given back its own active level (the shelf sets the balance, not the
   compressor);
4. a band-limited clipper: ``clip_db`` of the peaks clipped off, then the harmonics that
   clipping makes above ``clip_lowpass_hz`` (the transmitter's band) filtered away.

The profile's limiter then keeps the true peak under the ceiling, filter overshoot
included. Every step is zero phase and works on whole arrays (no per-sample loop). What
each step wins is measured through the channel simulator (:mod:`.channel`,
``scripts/intelligibility.py --channel``), not assumed.
"""

from __future__ import annotations

import numpy as np

from .dsp import Audio, active_power, band_limit, butterworth, fft_size, frame_power, moving_mean, moving_min
from .profiles import Processing

__all__ = ["process_for_channel", "Processing"]

_FRAME_S = 0.001                # the compressor's level is followed on 1 ms frames


class _Spectrum:
    """One forward FFT of ``x``, with enough silence around it that nothing wraps round;
    each filtered version is one inverse FFT of it (zero phase)."""

    def __init__(self, x: np.ndarray, rate: int):
        self.n, self.pad = len(x), rate // 4
        self.size = fft_size(self.n + 2 * self.pad)
        self.freqs = np.fft.rfftfreq(self.size, 1 / rate)
        self.spectrum = np.fft.rfft(np.concatenate([np.zeros(self.pad), x]), self.size)

    def through(self, response: np.ndarray) -> np.ndarray:
        y = np.fft.irfft(self.spectrum * response, self.size)
        return y[self.pad: self.pad + self.n]


def _shelf(freqs: np.ndarray, corner: float, db: float) -> np.ndarray:
    """A first-order high shelf: 0 dB well below ``corner``, ``db`` well above."""
    high = 10 ** (db / 20)
    ratio = (freqs / corner) ** 2
    return np.sqrt((1 + ratio * high ** 2) / (1 + ratio))


def _bands(freqs: np.ndarray, crossovers: tuple[float, ...]) -> list[np.ndarray]:
    """Responses that add up to 1 at every frequency: complementary raised-cosine edges,
    half an octave wide, one band per gap between ``crossovers`` (one band if none)."""
    def below(edge: float) -> np.ndarray:
        with np.errstate(divide="ignore"):
            octaves = np.log2(np.maximum(freqs, 1e-9) / edge)
        return 0.5 * (1 - np.sin(np.pi * np.clip(octaves / 0.5, -0.5, 0.5)))
    edges = [below(edge) for edge in sorted(crossovers)]
    lows = [np.zeros(len(freqs)), *edges]
    highs = [*edges, np.ones(len(freqs))]
    return [high - low for low, high in zip(lows, highs, strict=True)]


def _compress(x: np.ndarray, rate: int, p: Processing) -> np.ndarray:
    frame = max(1, int(rate * _FRAME_S))
    power = frame_power(x, frame)
    active = active_power(power)
    if active == 0:
        return x
    attack = max(1, int(p.attack_ms / 1000 / _FRAME_S / 2))
    release = max(1, int(p.release_ms / 1000 / _FRAME_S / 2))
    level = 10 * np.log10(np.maximum(moving_mean(power, attack), 1e-12) / active)
    over = np.maximum(level - p.threshold_db, 0.0)
    gain_db = -over * (1 - 1 / p.ratio)
    # Held for the release time, then smoothed over the attack: gain falls before a
    # rise (the windows are centred: a look-ahead of half the attack) and recovers slowly.
    gain_db = moving_mean(moving_min(gain_db, release), attack)
    gain = np.repeat(10 ** (gain_db / 20), frame)[: len(x)]
    y = x * gain
    kept = active_power(frame_power(y, frame))
    return y * np.sqrt(active / kept) if kept > 0 else y


def process_for_channel(audio: Audio, p: Processing, band_edge_hz: float = 0.0) -> Audio:
    """``audio`` through the chain (see the module); ``band_edge_hz``: the profile's
    low-pass edge, where the clipper's harmonics are cut unless ``clip_lowpass_hz``
    says otherwise."""
    x = audio.samples.astype(np.float64)
    rate = audio.rate
    if not len(x) or not np.any(x):
        return audio
    # The high-pass, the shelf and the band split are all filters of the same input: one
    # forward FFT, and one inverse per band.
    whole = _Spectrum(x, rate)
    shaped = butterworth(whole.freqs, rate, p.highpass_hz) if p.highpass_hz else 1.0
    if p.shelf_db:
        shaped = shaped * _shelf(whole.freqs, p.shelf_hz, p.shelf_db)
    if p.ratio > 1:
        x = np.sum([_compress(whole.through(shaped * band), rate, p)
                    for band in _bands(whole.freqs, p.bands)], axis=0)
    elif p.highpass_hz or p.shelf_db:
        x = whole.through(shaped * np.ones(len(whole.freqs)))
    if p.clip_db > 0:
        peak = float(np.max(np.abs(x)))
        x = np.clip(x * (10 ** (p.clip_db / 20) / peak), -1.0, 1.0)
        edge = p.clip_lowpass_hz or band_edge_hz
        if edge and edge < rate / 2:
            x = band_limit(Audio(x.astype(np.float32), rate), 0.0, edge).samples.astype(
                np.float64)
    peak = float(np.max(np.abs(x)))
    return Audio((x / peak * 0.5 if peak > 0 else x).astype(np.float32), rate)
