"""Audio processing on synthetic signals: true peak, limiter, trim, loudness loop."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import CAMPAIGN

from pipeline.audio import dsp
from pipeline.audio.profiles import DEFAULT_PROFILES
from pipeline.layout import Layout

RATE = 48000


def quarter_rate_sine(amplitude: float, seconds: float = 1.0) -> dsp.Audio:
    """A sine at fs/4 with phase π/4: every sample lands at ±amplitude·√½, so the sample
    peak is 3.01 dB under the true peak."""
    n = np.arange(int(seconds * RATE))
    return dsp.Audio((amplitude * np.sin(np.pi / 2 * n + np.pi / 4)).astype(np.float32), RATE)


def sample_peak_db(audio: dsp.Audio) -> float:
    return float(20 * np.log10(np.abs(audio.samples).max()))


def test_true_peak_sees_the_peak_between_samples():
    audio = quarter_rate_sine(0.5)
    assert sample_peak_db(audio) == pytest.approx(20 * np.log10(0.5 * np.sqrt(0.5)), abs=0.01)
    # BS.1770-4 allows a true-peak meter a few tenths of a dB; ×4 oversampling reads +0.1.
    assert dsp.true_peak(audio) == pytest.approx(20 * np.log10(0.5), abs=0.2)
    assert dsp.true_peak(audio) - sample_peak_db(audio) == pytest.approx(3.01, abs=0.2)


def test_limiter_holds_the_true_peak_that_a_sample_peak_limiter_would_miss():
    audio = quarter_rate_sine(0.95)          # sample peak -3.5 dBFS, true peak -0.45 dBTP
    assert sample_peak_db(audio) < -1.0 < dsp.true_peak(audio)
    limited = dsp.limit(audio, -1.0)
    assert dsp.true_peak(limited) <= -1.0 + 0.05
    # Only what passes the ceiling is touched: a quiet signal comes out unchanged.
    quiet = quarter_rate_sine(0.2)
    assert np.array_equal(dsp.limit(quiet, -1.0).samples, quiet.samples)


def test_trim_keeps_quiet_speech_and_cuts_only_silence():
    tone = quarter_rate_sine(0.001, 0.5)      # -60 dBFS: quiet, but the only sound there is
    padded = dsp.pad(tone, 1.0, 2.0)
    trimmed = dsp.trim(padded)
    assert trimmed.duration == pytest.approx(0.5 + 2 * 0.02, abs=0.011)
    assert dsp.trim(dsp.Audio.silence(1.0, RATE)).duration == 0.0


@pytest.mark.parametrize("name", sorted(DEFAULT_PROFILES))
def test_loudness_loop_reaches_the_target_under_the_ceiling(name):
    profile = DEFAULT_PROFILES[name]
    rng = np.random.default_rng(7)
    bursts = np.concatenate([quarter_rate_sine(a, 0.4).samples
                             for a in rng.uniform(0.05, 0.9, 8)])
    audio = dsp.Audio(bursts, RATE)
    out = dsp.normalize_loudness(audio, profile.target_lufs, profile.max_true_peak)
    assert dsp.loudness(out) == pytest.approx(profile.target_lufs, abs=0.1)
    assert dsp.true_peak(out) <= profile.max_true_peak


def test_process_resamples_band_limits_and_pads():
    profile = DEFAULT_PROFILES["shortwave"]
    n = np.arange(RATE)
    speechy = dsp.Audio((0.3 * np.sin(2 * np.pi * 300 * n / RATE)
                         + 0.3 * np.sin(2 * np.pi * 8000 * n / RATE)).astype(np.float32), RATE)
    out = dsp.process(speechy, profile)
    assert out.rate == profile.sample_rate
    assert out.duration == pytest.approx(1.0 + profile.lead_in + profile.lead_out, abs=0.05)
    spectrum = np.abs(np.fft.rfft(out.samples))
    freqs = np.fft.rfftfreq(len(out.samples), 1 / out.rate)
    low = spectrum[np.argmin(np.abs(freqs - 300))]
    high = spectrum[np.argmin(np.abs(freqs - 8000))]
    assert high < low / 1000                  # 8 kHz is gone above the 4.5 kHz low-pass


def _speechlike(rate: int, seconds: float, seed: int) -> np.ndarray:
    """Noise bursts with pauses and a level that wanders, like speech."""
    rng = np.random.default_rng(seed)
    n = int(rate * seconds)
    envelope = np.repeat(rng.uniform(0.0, 1.0, n // (rate // 10) + 1), rate // 10)[:n]
    envelope[envelope < 0.3] = 0.0
    return (0.3 * rng.standard_normal(n) * envelope).astype(np.float32)


@pytest.mark.parametrize("rate", [48000, 44100, 22050])
def test_the_meter_agrees_with_pyloudnorm_and_ffmpeg(rate, tmp_path):
    """The meter (libebur128), whole or fed in pieces, against two other meters; the true
    peak oversampled near the loud samples only, against oversampling it all."""
    import pyloudnorm
    from judges import ebur128
    from scipy import signal

    from pipeline.audio import meter
    from pipeline.audio.codec import wav_bytes
    x = _speechlike(rate, 20.0, rate)
    whole = meter.loudness(x, rate)
    stream = meter.StreamLoudness(rate)
    for start in range(0, len(x), 12345):
        stream.add(x[start:start + 12345])
    assert abs(stream.loudness() - whole) < 1e-9
    # pyloudnorm designs the K-weighting for rates other than 48 kHz its own way
    assert abs(whole - pyloudnorm.Meter(rate).integrated_loudness(x.astype(np.float64))) < 0.15
    path = tmp_path / "x.wav"
    path.write_bytes(wav_bytes(dsp.Audio(x, rate)))
    lufs, _peak = ebur128(path)
    assert abs(whole - lufs) < 0.08                 # ffmpeg prints one decimal
    everything = np.abs(signal.resample_poly(x.astype(np.float64), 4, 1)).max()
    full = 20 * np.log10(max(everything, float(np.abs(x).max())))
    assert abs(meter.true_peak(x) - full) < 1e-9


@pytest.mark.parametrize("rate", [48000, 22050, 11025])
def test_a_streams_loudness_adds_up_from_its_parts_blocks(rate):
    """Parts that start on the meter's 100 ms grid, each ending in 400 ms of silence, make
    a stream whose loudness is their gating blocks taken together; off the grid the blocks
    fall elsewhere and the sum misses. A part alone has the loudness of its own blocks."""
    from pipeline.audio import meter
    hop = meter.hop(rate)
    quiet = np.zeros(meter.BLOCK_HOPS * hop + 7, dtype=np.float32)
    parts = [np.concatenate([_speechlike(rate, seconds, seed), quiet])
             for seed, seconds in ((1, 3.3), (2, 5.07), (3, 1.91))]

    def stream(shift: int) -> np.ndarray:
        out, at = [], 0
        for n, part in enumerate(parts):
            if n:
                gap = (-at) % hop + shift
                out.append(np.zeros(gap, dtype=np.float32))
                at += gap
            out.append(part)
            at += len(part)
        return np.concatenate(out)
    energies = [meter.block_energies(part, rate) for part in parts]
    first = meter.BLOCK_HOPS - 1            # a stream's first block ends 400 ms in
    added = meter.gated_loudness(np.concatenate([energies[0][first:], *energies[1:]]))
    assert abs(added - meter.loudness(stream(0), rate)) < 1e-9
    assert abs(added - meter.loudness(stream(hop // 3), rate)) > 1e-4
    alone = meter.gated_loudness(energies[1][first:])
    assert abs(alone - meter.loudness(parts[1], rate)) < 1e-9
    # Placed where they lie, with silence between, the parts' blocks are the stream's
    # own, so its range figures follow too; fed in pieces, the stream gives the same.
    from pipeline.audio.program import _stream_blocks
    whole = stream(0)
    starts = np.cumsum([0] + [len(p) + (-len(p)) % hop for p in parts[:-1]])
    # A block between two parts, which neither part's blocks reach, holds only the
    # filter's tail after a sound (under -50 LUFS, far under any relative gate).
    placed = _stream_blocks(list(zip(starts.tolist(), energies, strict=True)), len(whole),
                            rate)
    assert np.allclose(placed, meter.block_energies(whole, rate), rtol=1e-9, atol=1e-5)
    assert dsp.range_figures(placed) == dsp.range_figures(meter.block_energies(whole, rate))
    assert dsp.range_figures(placed)["lra"] > 0
    fed = meter.StreamBlocks(rate)
    for start in range(0, len(whole), 12345):
        fed.add(whole[start:start + 12345])
    assert fed.samples == len(whole)
    assert np.allclose(fed.energies(), meter.block_energies(whole, rate), rtol=1e-6,
                       atol=1e-15)
    # A file keeps its blocks only if it ends in that silence.
    kept = dsp.measure_blocks(dsp.Audio(parts[0], rate))
    assert np.array_equal(np.frombuffer(kept.blocks, dtype="<f8"), energies[0])
    assert kept.lufs == round(meter.loudness(parts[0], rate), 2)
    loud_end = np.concatenate([parts[0], np.full(10, 0.1, dtype=np.float32)])
    assert dsp.measure_blocks(dsp.Audio(loud_end, rate)).blocks is None


def test_a_wav_program_adds_up_its_messages_blocks_instead_of_measuring(tmp_path,
                                                                         monkeypatch):
    from pipeline.audio import finish, meter, program
    from pipeline.audio.codec import read_wav, wav_bytes
    profile = DEFAULT_PROFILES["radio"]
    files, measured = [], []
    for seed in (1, 2):
        data = wav_bytes(dsp.process(dsp.Audio(_speechlike(22050, 4.0, seed), 22050), profile))
        files.append(tmp_path / f"{seed}.wav")
        files[-1].write_bytes(data)
        measured.append(finish.measure_encoded(data, profile))
    monkeypatch.setattr(meter, "StreamBlocks", None)   # measuring would fail
    made = program.program_from_files(files, measured, 1.5, profile, None, tmp_path / "p.wav")
    monkeypatch.undo()
    assert made is not None
    audio = read_wav(made[0])
    assert abs(made[1].lufs - meter.loudness(audio.samples, audio.rate)) <= 0.005 + 1e-9
    whole = dsp.measure(audio)          # its range figures, as if measured whole
    assert (made[1].lra, made[1].max_momentary, made[1].max_short_term) == \
        (whole.lra, whole.max_momentary, whole.max_short_term)


@pytest.mark.parametrize("name", ["radio", "usb"])
def test_a_program_of_files_without_blocks_is_measured(name, tmp_path):
    """A lead-out under 400 ms: the files keep no blocks (an MP3 decodes to none), and the
    program is measured as it is written (an MP3 decoded)."""
    import dataclasses

    from pipeline.audio import finish, meter, program
    from pipeline.audio.codec import decode_mp3, read_wav
    profile = dataclasses.replace(DEFAULT_PROFILES[name], lead_out=0.2)
    files, measured = [], []
    for seed in (1, 2):
        audio = dsp.process(dsp.Audio(_speechlike(22050, 4.0, seed), 22050), profile)
        data = finish.encode(audio, profile, None)
        files.append(tmp_path / f"{seed}.{profile.ext}")
        files[-1].write_bytes(data)
        measured.append(finish.measure_encoded(data, profile))
        assert measured[-1].blocks is None
        if profile.format == "mp3":
            assert program.decoded_blocks(files[-1], 0, profile.sample_rate)[1] is None
    made = program.program_from_files(files, measured, 1.5, profile, None,
                                      tmp_path / f"p.{profile.ext}")
    assert made is not None
    data = made[0].read_bytes()
    audio = read_wav(data) if profile.format == "wav" else decode_mp3(data)
    assert abs(made[1].lufs - meter.loudness(audio.samples, audio.rate)) <= 0.005 + 1e-9
    # Its length is what was decoded: libsndfile's estimate of an MP3's is longer.
    assert made[1].duration == round(len(audio.samples) / audio.rate, 3)
    whole = dsp.measure(audio)          # measured as written, its range figures too
    assert made[1].lra is not None
    for got, want in ((made[1].lra, whole.lra), (made[1].max_momentary, whole.max_momentary),
                      (made[1].max_short_term, whole.max_short_term)):
        assert abs(got - want) <= 0.011


def test_the_dsp_filters_agree_with_scipy():
    """The limiter's moving minimum and mean, and the zero-phase band limit, against the
    scipy functions they stand in for (scipy is not imported at run time: it is slow)."""
    from scipy import ndimage, signal
    rng = np.random.default_rng(7)
    need = np.minimum(1.0, rng.uniform(0.5, 1.5, 20000))
    for half in (1, 5, 192):
        assert np.array_equal(dsp.moving_min(need, half),
                              ndimage.minimum_filter1d(need, 2 * half + 1, mode="nearest"))
        assert np.allclose(dsp.moving_mean(need, half),
                           ndimage.uniform_filter1d(need, 2 * half + 1, mode="nearest"),
                           rtol=0, atol=1e-9)
    # ... and the limiter's gain, computed only around the stretches that need it
    need = np.ones(50000)
    for start in rng.integers(0, 49000, 30):
        need[start: start + rng.integers(1, 400)] = rng.uniform(0.5, 1.0)
    need[:2], need[-1:] = 0.7, 0.8                  # the edges too
    for half in (1, 10, 176):
        whole = ndimage.uniform_filter1d(ndimage.minimum_filter1d(need, 2 * half + 1,
                                                                  mode="nearest"),
                                         2 * half + 1, mode="nearest")
        assert np.allclose(dsp.smoothed_gain(need, half), np.minimum(whole, need),
                           rtol=0, atol=1e-9)
    rate = 22050
    x = _speechlike(rate, 5.0, 3)
    x[: rate // 2] = 0
    x[-rate // 2:] = 0
    ref = signal.sosfiltfilt(signal.butter(8, 4500, "lowpass", fs=rate, output="sos"),
                             x.astype(np.float64))
    ref = signal.sosfiltfilt(signal.butter(4, 100, "highpass", fs=rate, output="sos"), ref)
    ours = dsp.band_limit(dsp.Audio(x, rate), 100, 4500).samples
    assert np.abs(ours - ref).max() < 1e-5 * np.abs(ref).max()
    # resampled (within the band both resamplers pass whole)
    up = signal.resample_poly(ref, 320, 147)
    ours = dsp.resample(dsp.Audio(ref.astype(np.float32), rate), 48000).samples
    assert len(ours) == len(up)
    assert np.abs(ours[1000:-1000] - up[1000:-1000]).max() < 1e-2 * np.abs(up).max()


def test_a_damaged_cache_entry_is_made_again(project, cli):
    assert cli("build", "--project", project, "--locale", "uk", "--profile", "usb").code == 0
    out = Layout(project).output_folder(CAMPAIGN, "uk", "usb")
    before = {p.name: p.read_bytes() for p in out.glob("*.mp3")}
    entry = next((Layout(project).cache_dir / "final").glob("*.mp3"))
    entry.unlink()                                  # the output file holds its own link
    entry.write_bytes(b"\xff\xfb" + bytes(100))     # a truncated, wrong entry
    run = cli("build", "--project", project, "--locale", "uk", "--profile", "usb")
    assert run.code == 0 and "0 syntheses, 1 encodings" in run.out, run.out
    assert {p.name: p.read_bytes() for p in out.glob("*.mp3")} == before


def test_an_mp3_with_playout_tags_carries_replaygain_read_by_mutagen(tmp_path):
    """A profile with playout_tags in MP3: an ID3v2.4 tag with the title, the campaign,
    ReplayGain 2.0 and the loudness figures measured, read back by mutagen; the frames are
    those of the same file without tags, and a program is tagged after it is measured."""
    import dataclasses

    import mutagen.id3
    import mutagen.mp3

    from pipeline.audio import finish, program
    from pipeline.audio.codec import mp3_frames
    from pipeline.audio.tags import Label, tag_file
    profile = dataclasses.replace(DEFAULT_PROFILES["usb"], playout_tags=True, title_tag=True)
    audio = dsp.process(dsp.Audio(_speechlike(22050, 4.0, 3), 22050), profile)
    label = Label("Права военнопленного", "kursk", "kursk/ru/pow-rights")
    data, measured, _ = finish.finish(audio, profile, label)
    plain, _, _ = finish.finish(audio, dataclasses.replace(profile, playout_tags=False,
                                                           title_tag=False), None)
    assert mp3_frames(data) == plain and data != plain
    path = tmp_path / "01.mp3"
    path.write_bytes(data)
    tags = mutagen.mp3.MP3(str(path)).tags
    assert tags.version[:2] == (2, 4) and len(tags.getall("TIT2")) == 1
    assert str(tags["TIT2"]) == label.title and str(tags["TALB"]) == "kursk"
    gain = float(str(tags["TXXX:REPLAYGAIN_TRACK_GAIN"]).split()[0])
    assert gain == pytest.approx(-18 - measured.lufs, abs=0.005)
    assert float(str(tags["TXXX:REPLAYGAIN_TRACK_PEAK"])) == \
        pytest.approx(10 ** (measured.true_peak / 20), rel=1e-5)
    assert measured.lra is not None
    assert str(tags["TXXX:LOUDNESS_RANGE"]) == f"{measured.lra:.2f} LU"
    assert str(tags["TXXX:MAX_SHORT_TERM_LOUDNESS"]) == f"{measured.max_short_term:.2f} LUFS"
    # A program: written, measured, then tagged in place, streamed.
    made = program.program_from_files([path, path], [measured, measured], 1.5, profile, None,
                                      tmp_path / "p.mp3")
    assert made is not None
    before = made[0].read_bytes()
    tag_file(made[0], "mp3", profile.sample_rate, Label("Вечер", "kursk", "kursk/ru/p"),
             made[1])
    after = made[0].read_bytes()
    assert mp3_frames(after) == mp3_frames(before) and after.startswith(b"ID3")
    assert str(mutagen.id3.ID3(str(made[0]))["TIT2"]) == "Вечер"
