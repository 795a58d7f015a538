"""Listeners near the front: the channel simulator, the transmitter's processing, and
``broadcast listen``."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.audio import dsp
from pipeline.audio.channel import hear, parse_channel
from pipeline.errors import PipelineError


def _spectrum_db(samples: np.ndarray, rate: int, low: float, high: float) -> float:
    """Energy between ``low`` and ``high`` Hz, in dB against the whole signal's."""
    power = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    band = power[(freqs >= low) & (freqs < high)].sum()
    return float(10 * np.log10(band / power.sum()))


def _speechlike(seconds: float = 3.0, rate: int = 22050) -> dsp.Audio:
    """Syllables: a 120 Hz buzz with formants, 4 per second, and quiet hiss between:
    peaky, like a plain speech master."""
    t = np.arange(int(seconds * rate)) / rate
    buzz = sum(np.sin(2 * np.pi * 120 * k * t) / k for k in range(1, 30))
    envelope = np.clip(np.sin(2 * np.pi * 2 * t), 0, None) ** 3
    hiss = np.random.default_rng(1).standard_normal(len(t)) * 0.02
    x = buzz * envelope + hiss * (1 - envelope)
    return dsp.Audio((0.5 * x / np.abs(x).max()).astype(np.float32), rate)


@pytest.mark.parametrize("text, problem", [
    ("am", "is not KIND:SNR"), ("tv:6", "is not KIND:SNR"), ("am:loud", "is not a number"),
    ("am:99", "outside -20..60"), ("fm:6:pink", "fm has no option 'pink'")])
def test_a_channel_is_kind_snr_and_options(text, problem):
    assert str(parse_channel("am:6:pink:fading")) == "am:6:pink:fading"
    assert parse_channel("am:clean").snr_db is None
    with pytest.raises(PipelineError, match=problem):
        parse_channel(text)


@pytest.mark.parametrize("channel", ["am:6", "am:0:pink:fading", "fm:6", "speaker:3"])
def test_the_same_message_and_channel_give_the_same_samples(channel):
    audio = _speechlike()
    first, again = hear(audio, parse_channel(channel), "ru/ident"), \
        hear(audio, parse_channel(channel), "ru/ident")
    other = hear(audio, parse_channel(channel), "ru/rights")
    assert np.array_equal(first.samples, again.samples)
    assert not np.array_equal(first.samples, other.samples)      # another message's noise
    assert 0.3 < np.abs(first.samples).max() <= 1.0


def test_am_is_heard_at_equal_peak_through_the_transmitters_band():
    audio = _speechlike()
    clean = hear(audio, parse_channel("am:clean"))
    assert clean.rate == 11025
    assert _spectrum_db(clean.samples, clean.rate, 4800, 5512) < -40       # band-limited
    # The noise is the channel's: halve the file's level and it is heard the same way
    # (equal peak), and 6 dB more SNR is 6 dB less noise.
    quieter = dsp.apply_gain(audio, -6)
    assert np.allclose(hear(quieter, parse_channel("am:6")).samples,
                       hear(audio, parse_channel("am:6")).samples, atol=1e-4)
    noise = {snr: hear(audio, parse_channel(f"am:{snr}")).samples - clean.samples
             for snr in (6, 12)}
    ratio = 20 * np.log10(np.std(noise[6]) / np.std(noise[12]))
    assert ratio == pytest.approx(6.0, abs=0.3)
