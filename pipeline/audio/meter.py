"""Loudness and true peak, measured once and fast (ITU-R BS.1770-4).

Integrated loudness: libebur128 (through pyebur128), the reference implementation that
ffmpeg's ebur128 filter agrees with; audio may come whole or in pieces, and the meter keeps
one energy per 400 ms block, so an hour costs no more memory than a minute to speak of.
Integrated loudness is a function of those block energies alone (:func:`gated_loudness`),
so a stream made of parts that start on its 100 ms grid, with 400 ms of silence between
their sounds, has the loudness of its parts' blocks taken together
(:func:`block_energies`): nothing need be measured again.

True peak: ×4 oversampling (BS.1770-4 Annex 2), but only around the samples that could
reach the level asked about. A 4× interpolated peak lies within a few dB of the samples
around it, so samples more than ``TRUE_PEAK_REACH_DB`` under the level can be skipped;
for speech that is nearly all of them. The interpolation is a polyphase FIR in numpy (the
filter scipy's ``resample_poly`` would design, without importing scipy: it is slow to
import, and every worker process would pay for it).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyebur128

__all__ = ["ABSOLUTE_GATE", "block_energies", "BLOCK_HOPS", "candidate_windows",
           "ends_in_silence", "gated_loudness", "hop", "loudness", "LRA_RELATIVE_GATE_LU",
           "OVERSAMPLE", "oversampled_peaks", "range_stats", "REACH", "RELATIVE_GATE", "runs",
           "SHORT_TERM_HOPS", "StreamBlocks", "StreamLoudness", "true_peak", "TRUE_PEAK_REACH_DB"]

TRUE_PEAK_REACH_DB = 6.0        # how far over its neighbour samples an inter-sample peak may go
OVERSAMPLE = 4
REACH = 48                      # samples of context around a candidate (filter support)
BLOCK_HOPS = 4                  # a gating block is 400 ms: four hops of 100 ms
ABSOLUTE_GATE = 10 ** ((-70 + 0.691) / 10)     # the energy of a -70 LUFS block
RELATIVE_GATE = 0.1             # -10 LU under the mean of the blocks over the absolute gate


def loudness(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness in LUFS (BS.1770-4, gated); -inf for silence."""
    meter = StreamLoudness(rate)
    meter.add(samples)
    return meter.loudness()


def hop(rate: int) -> int:
    """Samples in 100 ms, as libebur128 counts them: its gating blocks start this far apart."""
    return (rate + 5) // 10


def block_energies(samples: np.ndarray, rate: int, offset: int = 0) -> np.ndarray:
    """The energy (K-weighted mean square) of every gating block of a stream that ends
    within ``samples``, which lie ``offset`` samples after a point of the stream's 100 ms
    grid and after at least 400 ms of silence: what libebur128 computes for those blocks
    in that stream. The first blocks reach back into the silence; a stream that starts
    with these samples (offset 0) has all but the first ``BLOCK_HOPS - 1``.

    Float samples in [-1, 1], or 16-bit PCM. The K-weighting filter is libebur128's, and it
    forgets what came before a silence of 400 ms to within 1e-40.
    """
    n = hop(rate)
    if not 0 <= offset < n:
        raise ValueError(f"offset {offset} is not within a 100 ms step ({n} samples)")
    dtype = np.int16 if samples.dtype == np.int16 else np.float32
    x = np.concatenate([np.zeros(offset, dtype=dtype), np.asarray(samples, dtype=dtype)])
    state = pyebur128.R128State(1, rate, pyebur128.MeasurementMode.MODE_M)
    state.add_frames(np.zeros(BLOCK_HOPS * n, dtype=dtype), BLOCK_HOPS * n)
    out = np.empty(len(x) // n)
    for k in range(len(out)):
        state.add_frames(x[k * n:(k + 1) * n], n)
        out[k] = pyebur128.get_loudness_momentary(state)
    return 10 ** ((out + 0.691) / 10)      # back from LUFS to energy (silence: -inf → 0)


def ends_in_silence(samples: np.ndarray, rate: int) -> bool:
    """Whether ``samples`` end in a gating block's length (400 ms) of digital silence:
    then no block of a longer stream that holds their sound ends after them, and their
    :func:`block_energies` are all that stream's blocks of them."""
    quiet = BLOCK_HOPS * hop(rate)
    return len(samples) >= quiet and not samples[-quiet:].any()


def gated_loudness(energies: np.ndarray) -> float:
    """Integrated loudness in LUFS of the gating blocks with these energies (BS.1770-4's
    two gates, as libebur128 applies them); -inf if none passes."""
    heard = energies[energies >= ABSOLUTE_GATE]
    if len(heard) == 0:
        return float("-inf")
    kept = heard[heard >= heard.mean() * RELATIVE_GATE]
    return float(10 * np.log10(kept.mean()) - 0.691)


def runs(indices: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """Sorted indices grouped into runs: (first, last) of each, a new run wherever two
    indices are more than ``gap`` apart."""
    if len(indices) == 0:
        return []
    breaks = np.flatnonzero(np.diff(indices) > gap)
    firsts = np.concatenate(([indices[0]], indices[breaks + 1]))
    lasts = np.concatenate((indices[breaks], [indices[-1]]))
    return list(zip(firsts.tolist(), lasts.tolist(), strict=True))


def candidate_windows(magnitude: np.ndarray, level: float) -> list[tuple[int, int]]:
    """Stretches of samples (with context) whose 4× interpolated peaks may reach ``level``."""
    hot = np.flatnonzero(magnitude >= level * 10 ** (-TRUE_PEAK_REACH_DB / 20))
    n = len(magnitude)
    return [(max(0, a - REACH), min(n, b + REACH + 1)) for a, b in runs(hot, 2 * REACH)]


@lru_cache(maxsize=1)
def _phases() -> tuple[np.ndarray, ...]:
    """The ×4 interpolation filter split into its four phases (one row each), gain
    included: ``firwin(81, 1/4, window=("kaiser", 5.0)) * 4`` as resample_poly designs it."""
    half = 10 * OVERSAMPLE
    n = np.arange(2 * half + 1) - half
    cutoff = 1.0 / OVERSAMPLE
    taps = cutoff * np.sinc(cutoff * n) * np.kaiser(2 * half + 1, 5.0)
    taps *= OVERSAMPLE / taps.sum()
    return tuple(taps[p::OVERSAMPLE] for p in range(OVERSAMPLE))


def _upsampled_peaks(x: np.ndarray) -> np.ndarray:
    """Per input sample k, the largest magnitude of the ×4 interpolated samples 4k..4k+3."""
    delay = 10                              # input samples to the filter's centre
    centre, *others = _phases()
    # Phase 0 falls on the samples themselves: its other taps are the sinc's zeros (1e-17).
    peaks = np.abs(x) * abs(centre[delay])
    for row in others:
        y = np.convolve(x, row)[delay: delay + len(x)]
        np.maximum(peaks, np.abs(y), out=peaks)
    return peaks


def oversampled_peaks(samples: np.ndarray, level: float) -> np.ndarray | None:
    """Per sample, the largest magnitude of the ×4 oversampled signal around it, where it
    may reach ``level`` (elsewhere the sample's own magnitude); None if it reaches it
    nowhere.

    All the stretches that may are oversampled in one call: laid end to end with silence
    between them longer than the filter's reach, each is filtered as if alone.
    """
    x = np.asarray(samples, dtype=np.float64)
    out = np.abs(x)
    windows = candidate_windows(out, level)
    if not windows:
        return None
    n = len(x)
    spans = [(max(0, start - REACH), min(n, stop + REACH)) for start, stop in windows]
    gap = np.zeros(REACH)
    offsets, parts, position = [], [], 0
    for a, b in spans:
        offsets.append(position)
        parts += [x[a:b], gap]
        position += b - a + REACH
    joined = np.concatenate(parts)
    peaks = _upsampled_peaks(joined)
    for (start, stop), (a, _b), offset in zip(windows, spans, offsets, strict=True):
        here = peaks[offset + start - a: offset + stop - a]
        np.maximum(out[start:stop], here, out=out[start:stop])
    return out


def true_peak(samples: np.ndarray) -> float:
    """True peak in dBTP: ×4 oversampled around the loudest samples."""
    x = np.asarray(samples)
    if len(x) == 0:
        return float("-inf")
    top = max(float(x.max()), -float(x.min()))
    if top == 0:
        return float("-inf")
    peaks = oversampled_peaks(x, top)
    return float(20 * np.log10(peaks.max() if peaks is not None else top))


SHORT_TERM_HOPS = 30            # a short-term window is 3 s
LRA_RELATIVE_GATE_LU = 20.0     # EBU Tech 3342: -20 LU under the gated short-term mean


def range_stats(energies: np.ndarray) -> tuple[float, float, float]:
    """(loudness range in LU, maximum momentary and maximum short-term loudness in LUFS)
    of a stream that starts after silence, from its gating-block energies
    (:func:`block_energies`, the first ``BLOCK_HOPS - 1`` reaching into the silence).

    Each 400 ms block is the mean of four 100 ms hops, the first three of them silent, so
    the hops' energies follow exactly; a short-term value is the mean of 30 hops, taken
    every 100 ms once 3 s have passed, as ffmpeg's ebur128 takes it; the loudness range
    is EBU Tech 3342's: short-term values over -70 LUFS, then over 20 LU under their
    mean, from the 10th to the 95th percentile. -inf where there is too little audio."""
    none = (float("-inf"),) * 3
    if len(energies) < BLOCK_HOPS:
        return none
    # hop[k] = 4·block[k] − (the three hops before it): plain floats, no array per step.
    found: list[float] = []
    before = [0.0] * (BLOCK_HOPS - 1)
    for block in energies.tolist():
        hop_energy = BLOCK_HOPS * block - sum(before)
        found.append(hop_energy)
        before = before[1:] + [hop_energy]
    hops = np.maximum(np.array(found), 0.0)          # (rounding)
    momentary = _lufs(float(energies[BLOCK_HOPS - 1:].max()))
    if len(hops) < SHORT_TERM_HOPS:
        return float("-inf"), momentary, float("-inf")
    total = np.concatenate([[0.0], np.cumsum(hops)])
    short = (total[SHORT_TERM_HOPS:] - total[:-SHORT_TERM_HOPS]) / SHORT_TERM_HOPS
    kept = short[short > ABSOLUTE_GATE]
    lra = float("-inf")
    if len(kept):
        kept = kept[kept >= kept.mean() * 10 ** (-LRA_RELATIVE_GATE_LU / 10)]
        levels = -0.691 + 10 * np.log10(kept)
        lra = float(np.percentile(levels, 95) - np.percentile(levels, 10))
    return lra, momentary, _lufs(float(short.max()))


def _lufs(energy: float) -> float:
    return -0.691 + 10 * np.log10(energy) if energy > 0 else float("-inf")


class StreamBlocks:
    """The gating-block energies of a stream fed in pieces, as :func:`block_energies` gives
    them for the whole (the first ``BLOCK_HOPS - 1`` reaching into silence before it): for
    its integrated loudness (:func:`gated_loudness`) and its range (:func:`range_stats`)
    alike. One energy per 100 ms kept: an hour is 36,000 floats."""

    def __init__(self, rate: int):
        self.rate = rate
        self.samples = 0
        self._hop = hop(rate)
        self._state = pyebur128.R128State(1, rate, pyebur128.MeasurementMode.MODE_M)
        self._pending: np.ndarray = np.zeros(0, dtype=np.float32)   # under a hop, not fed yet
        self._levels: list[float] = []

    def add(self, samples: np.ndarray) -> None:
        """Float samples in [-1, 1], or 16-bit PCM (read as libebur128 reads it: / 32768)."""
        x = samples.astype(np.float32) / 32768 if samples.dtype == np.int16 \
            else np.asarray(samples, dtype=np.float32)
        self.samples += len(x)
        x = np.concatenate([self._pending, x]) if len(self._pending) else x
        n, whole = self._hop, len(x) // self._hop * self._hop
        for at in range(0, whole, n):
            self._state.add_frames(np.ascontiguousarray(x[at:at + n]), n)
            self._levels.append(pyebur128.get_loudness_momentary(self._state))
        self._pending = x[whole:].copy()

    def energies(self) -> np.ndarray:
        return 10 ** ((np.array(self._levels) + 0.691) / 10)


class StreamLoudness:
    """Integrated loudness of audio fed whole or in pieces (libebur128's state carries the
    filter and the blocks over)."""

    def __init__(self, rate: int):
        self.rate = rate
        self.samples = 0
        self._state = pyebur128.R128State(1, rate, pyebur128.MeasurementMode.MODE_I)

    def add(self, samples: np.ndarray) -> None:
        """Float samples in [-1, 1], or 16-bit PCM (read as libebur128 reads it: / 32768)."""
        if len(samples) == 0:
            return
        dtype = np.int16 if samples.dtype == np.int16 else np.float32
        x = np.ascontiguousarray(samples, dtype=dtype)
        self._state.add_frames(x, len(x))
        self.samples += len(x)

    def loudness(self) -> float:
        """Gated integrated loudness in LUFS; -inf for silence."""
        value = pyebur128.get_loudness_global(self._state)
        return float(value) if np.isfinite(value) else float("-inf")
