"""Listeners near the front: the channel simulator, the transmitter's processing, and
``broadcast listen``."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import soundfile
from helpers import CAMPAIGN, one_line_error

from pipeline.audio import dsp
from pipeline.audio.channel import active_level, hear, parse_channel
from pipeline.audio.profiles import DEFAULT_PROFILES
from pipeline.errors import PipelineError
from pipeline.layout import Layout


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


def test_the_chains_clipping_harmonics_stay_inside_the_band():
    profile = DEFAULT_PROFILES["shortwave"]
    plain = dsp.band_limit(_speechlike(), profile.highpass_hz, profile.lowpass_hz)
    from pipeline.audio.processing import process_for_channel
    processed = process_for_channel(plain, profile.processing, profile.lowpass_hz)
    assert _spectrum_db(processed.samples, processed.rate, 5000, 11025) < -40
    unfiltered = process_for_channel(
        plain, dataclasses.replace(profile.processing, clip_lowpass_hz=10000.0),
        profile.lowpass_hz)                 # the filter after the clipper is what does it
    assert _spectrum_db(unfiltered.samples, unfiltered.rate, 5000, 10000) > -30


def _folder_audio(project, profile: str) -> list[dsp.Audio]:
    folder = Layout(project).output_folder(CAMPAIGN, "ru", profile)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return [dsp.Audio(*soundfile.read(folder / f["file"], dtype="float32"))
            for f in manifest["files"] if f["kind"] == "message"]


def test_the_shortwave_files_are_dense_and_meet_their_modulation_target(project, cli):
    """Rendered through the chain (espeak-ng ru): the measured loudness is the profile's
    (-10 LUFS) and the true peak under its ceiling, as the manifest says; at the same
    peak the speech is denser than the radio master's, and through AM at 6 dB it stands
    higher over the same noise."""
    assert cli("render", "--project", project, "--locale", "ru", "--profile", "shortwave",
               "--profile", "radio").code == 0
    folder = Layout(project).output_folder(CAMPAIGN, "ru", "shortwave")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["profile"]["processing"]["clip_db"] == 12.0
    assert "Processed for a transmitter" in (folder / "index.html").read_text("utf-8")
    radio_page = Layout(project).output_folder(CAMPAIGN, "ru", "radio") / "index.html"
    assert "Target -23 LUFS" in radio_page.read_text("utf-8")
    for entry in manifest["files"]:
        samples, rate = soundfile.read(folder / entry["file"], dtype="float32")
        audio = dsp.Audio(samples, rate)
        assert dsp.loudness(audio) == pytest.approx(entry["loudness_lufs"], abs=0.05)
        assert abs(entry["loudness_lufs"] + 10.0) <= 0.5
        assert dsp.true_peak(audio) <= -1.0 + 0.05

    def peak_to_active(audio: dsp.Audio) -> float:
        return 20 * np.log10(np.abs(audio.samples).max()) - active_level(audio.samples,
                                                                           audio.rate)

    def over_noise(audio: dsp.Audio) -> float:
        clean = hear(audio, parse_channel("am:clean"), "x")
        noise = hear(audio, parse_channel("am:6"), "x").samples - clean.samples
        return active_level(clean.samples, clean.rate) - 10 * np.log10(np.mean(noise ** 2))
    radio, shortwave = _folder_audio(project, "radio"), _folder_audio(project, "shortwave")
    assert len(radio) == len(shortwave) == 4
    for plain, processed in zip(radio, shortwave, strict=True):
        assert peak_to_active(processed) < peak_to_active(plain) - 3
        assert over_noise(processed) > over_noise(plain) + 3


def test_processing_can_be_set_or_turned_off_per_profile(project, cli, proc):
    toml = project / "broadcast.toml"
    base = toml.read_text(encoding="utf-8")
    toml.write_text(base + '\n[profiles.plain-sw]\nbase = "shortwave"\nprocessing = false\n'
                    "target_lufs = -23.0\n", encoding="utf-8")
    assert cli("render", "--project", project, "--locale", "ru", "--profile",
               "plain-sw").code == 0
    manifest = json.loads((Layout(project).output_folder(CAMPAIGN, "ru", "plain-sw")
                           / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["profile"]["processing"] is None
    toml.write_text(base + "\n[profiles.shortwave.processing]\nclip_db = 40\n",
                    encoding="utf-8")
    line = one_line_error(proc("render", "--project", project), 2)
    assert "[profiles.shortwave.processing] clip_db = 40 is not a number in 0..24" in line


def test_broadcast_listen_writes_what_a_listener_hears(project, cli, proc, tmp_path):
    """A playable WAV of the message through the channel, the same bytes twice; nothing
    written into the project, and a message not rendered yet is one line with the fix."""
    out, again = tmp_path / "heard.wav", tmp_path / "again.wav"
    line = one_line_error(proc("listen", "--project", project, "--channel", "am:6",
                               "--locale", "ru", "ident", "--out", out), 2)
    assert "is not rendered in the shortwave profile" in line and "broadcast render" in line
    assert cli("render", "--project", project, "--locale", "ru", "--profile",
               "shortwave").code == 0
    for target in (out, again):
        result = proc("listen", "--project", project, "--channel", "am:6", "--locale", "ru",
                      "ident", "--out", target)
        assert result.code == 0, result.err
    assert out.read_bytes() == again.read_bytes()
    samples, rate = soundfile.read(out)
    assert rate == 11025 and len(samples) / rate > 1.0
    inside = project / "audio_out" / "heard.wav"
    line = one_line_error(proc("listen", "--project", project, "--channel", "am:6",
                               "--locale", "ru", "ident", "--out", inside), 2)
    assert "writes nothing into the project's own files" in line and not inside.exists()
    line = one_line_error(proc("listen", "--project", project, "--channel", "am:x",
                               "--locale", "ru", "ident", "--out", out), 2)
    assert "--channel" in line and "not a number of dB" in line
