"""Loudness and true peak, measured once and fast (ITU-R BS.1770-4).

Integrated loudness: K-weighting (the standard's two biquads, designed for any rate as
pyloudnorm designs them), mean square over 400 ms blocks every 100 ms from sums per
100 ms (so audio may come whole or in pieces), the -70 LUFS absolute and -10 LU relative
gates. pyloudnorm loops over blocks in
Python; this is the same arithmetic, vectorized (the tests hold it to pyloudnorm and to
ffmpeg's ebur128).

True peak: ×4 oversampling (BS.1770-4 Annex 2), but only around the samples that could
reach the level asked about. A 4× interpolated peak lies within a few dB of the samples
around it, so samples more than ``TRUE_PEAK_REACH_DB`` under the level can be skipped;
for speech that is nearly all of them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

BLOCK_S = 0.4
STEP = 0.25                     # blocks overlap by 75 %
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
TRUE_PEAK_REACH_DB = 6.0        # how far over its neighbour samples an inter-sample peak may go
OVERSAMPLE = 4
REACH = 48                      # samples of context around a candidate (filter support)

@lru_cache(maxsize=None)
def k_weighting(rate: int) -> np.ndarray:
    """The K-weighting filter at ``rate`` as second-order sections."""
    # Stage 1: high shelf, +4 dB above about 1.5 kHz (the head's acoustic effect).
    gain_db, q, fc = 4.0, 1 / np.sqrt(2.0), 1500.0
    a = 10 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * fc / rate
    alpha = np.sin(w0) / (2.0 * q)
    cos = np.cos(w0)
    shelf = [a * ((a + 1) + (a - 1) * cos + 2 * np.sqrt(a) * alpha),
             -2 * a * ((a - 1) + (a + 1) * cos),
             a * ((a + 1) + (a - 1) * cos - 2 * np.sqrt(a) * alpha),
             (a + 1) - (a - 1) * cos + 2 * np.sqrt(a) * alpha,
             2 * ((a - 1) - (a + 1) * cos),
             (a + 1) - (a - 1) * cos - 2 * np.sqrt(a) * alpha]
    # Stage 2: high pass at 38 Hz (RLB weighting).
    q, fc = 0.5, 38.0
    w0 = 2.0 * np.pi * fc / rate
    alpha = np.sin(w0) / (2.0 * q)
    cos = np.cos(w0)
    highpass = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2, 1 + alpha, -2 * cos, 1 - alpha]
    return np.array([[*(c / s[3] for c in s[:3]), 1.0, s[4] / s[3], s[5] / s[3]]
                     for s in (shelf, highpass)])


def integrated(powers: np.ndarray) -> float:
    """Gated integrated loudness (LUFS) from block powers; -inf for silence."""
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10 * np.log10(powers)
    above = powers[levels >= ABSOLUTE_GATE]
    if len(above) == 0:
        return float("-inf")
    relative = -0.691 + 10 * np.log10(above.mean()) + RELATIVE_GATE
    with np.errstate(divide="ignore"):
        kept = above[-0.691 + 10 * np.log10(above) > relative]
    if len(kept) == 0:
        return float("-inf")
    return float(-0.691 + 10 * np.log10(kept.mean()))


def loudness(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness in LUFS (BS.1770-4, gated); -inf for silence."""
    meter = StreamLoudness(rate)
    meter.add(samples)
    return meter.loudness()


def candidate_windows(magnitude: np.ndarray, level: float) -> list[tuple[int, int]]:
    """Stretches of samples (with context) whose 4× interpolated peaks may reach ``level``."""
    hot = np.flatnonzero(magnitude >= level * 10 ** (-TRUE_PEAK_REACH_DB / 20))
    if len(hot) == 0:
        return []
    breaks = np.flatnonzero(np.diff(hot) > 2 * REACH)
    firsts = np.concatenate(([hot[0]], hot[breaks + 1]))
    lasts = np.concatenate((hot[breaks], [hot[-1]]))
    n = len(magnitude)
    return [(max(0, int(a) - REACH), min(n, int(b) + REACH + 1))
            for a, b in zip(firsts, lasts, strict=True)]


@lru_cache(maxsize=1)
def _taps() -> np.ndarray:
    """The interpolation filter scipy's resample_poly designs for ×4, designed once."""
    from scipy import signal  # lazily: scipy is slow to import
    half = 10 * OVERSAMPLE
    return signal.firwin(2 * half + 1, 1.0 / OVERSAMPLE, window=("kaiser", 5.0))


def oversampled_peaks(samples: np.ndarray, windows: list[tuple[int, int]]) -> np.ndarray:
    """Per sample, the largest magnitude of the ×4 oversampled signal around it; samples
    outside ``windows`` keep their own magnitude.

    All windows are oversampled in one call: laid end to end with silence between them
    longer than the filter's reach, each is filtered as if alone.
    """
    from scipy import signal  # lazily: scipy is slow to import
    x = np.asarray(samples, dtype=np.float64)
    out = np.abs(x)
    if not windows:
        return out
    n = len(x)
    spans = [(max(0, start - REACH), min(n, stop + REACH)) for start, stop in windows]
    gap = np.zeros(REACH)
    offsets, parts, position = [], [], 0
    for a, b in spans:
        offsets.append(position)
        parts += [x[a:b], gap]
        position += b - a + REACH
    joined = np.concatenate(parts)
    up = signal.resample_poly(joined, OVERSAMPLE, 1, window=_taps())
    peaks = np.abs(up[: len(joined) * OVERSAMPLE]).reshape(len(joined), OVERSAMPLE).max(axis=1)
    for (start, stop), (a, _b), offset in zip(windows, spans, offsets, strict=True):
        here = peaks[offset + start - a: offset + stop - a]
        np.maximum(out[start:stop], here, out=out[start:stop])
    return out


def true_peak(samples: np.ndarray) -> float:
    """True peak in dBTP: ×4 oversampled around the loudest samples."""
    x = np.asarray(samples)
    if len(x) == 0:
        return float("-inf")
    magnitude = np.abs(x.astype(np.float64))
    top = float(magnitude.max())
    if top == 0:
        return float("-inf")
    peak = float(oversampled_peaks(x, candidate_windows(magnitude, top)).max())
    return float(20 * np.log10(peak))


class StreamLoudness:
    """Integrated loudness of audio fed whole or in pieces, in pyloudnorm's blocks: the
    filter state carries over, and only one sum per 100 ms is kept, so an hour costs no
    more memory than a minute."""

    def __init__(self, rate: int):
        self.rate = rate
        self.sub = int(round(rate * BLOCK_S * STEP))            # samples per 100 ms
        self._sos = k_weighting(rate)
        self._state = np.zeros((len(self._sos), 2))
        self._sums: list[float] = []
        self._partial, self._fill, self.samples = 0.0, 0, 0

    def add(self, samples: np.ndarray) -> None:
        from scipy import signal  # lazily: scipy is slow to import
        if len(samples) == 0:
            return
        y, self._state = signal.sosfilt(self._sos, np.asarray(samples, dtype=np.float64),
                                        zi=self._state)
        power = y * y
        self.samples += len(power)
        need = self.sub - self._fill
        if len(power) < need:
            self._partial += float(power.sum())
            self._fill += len(power)
            return
        self._sums.append(self._partial + float(power[:need].sum()))
        rest = power[need:]
        full = len(rest) // self.sub
        if full:
            self._sums.extend(rest[: full * self.sub].reshape(full, self.sub).sum(axis=1).tolist())
        tail = rest[full * self.sub:]
        self._partial, self._fill = float(tail.sum()), len(tail)

    def loudness(self) -> float:
        subs = np.array(self._sums + ([self._partial] if self._fill else []))
        per_block = int(round(1 / STEP))
        if len(subs) < per_block:
            subs = np.concatenate([subs, np.zeros(per_block - len(subs))])
        length = max(self.samples / self.rate, BLOCK_S)
        count = int(np.round((length - BLOCK_S) / (BLOCK_S * STEP))) + 1
        cumulative = np.concatenate(([0.0], np.cumsum(subs)))
        starts = np.arange(count)
        ends = np.minimum(starts + per_block, len(subs))
        return integrated((cumulative[ends] - cumulative[starts]) / (BLOCK_S * self.rate))
