"""Rendering end to end with the real espeak-ng, judged by ffmpeg's meter and ffprobe."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import polib
import pytest
from helpers import CAMPAIGN, bundle_of, copy_project, process_env, run_broadcast, snapshot
from judges import ebur128, ffprobe

from pipeline.audio.codec import ffmpeg_exe
from pipeline.audio.dsp import Audio
from pipeline.content.sources import load_campaign
from pipeline.layout import Layout
from pipeline.voice.engines import SpeechRequest, get_engine

PROFILES = ("radio", "usb", "shortwave")
TARGETS = {"radio": (-23.0, 0.5), "usb": (-16.0, 1.0), "shortwave": (-10.0, 0.5)}
FORMATS = {"radio": ("pcm_s16le", 48000), "usb": ("mp3", 44100),
           "shortwave": ("pcm_s16le", 22050)}


def out(root: Path, locale: str, profile: str) -> Path:
    return Layout(root).output_folder(CAMPAIGN, locale, profile)


def audio_files(root: Path) -> list[Path]:
    return sorted(p for p in (Layout(root).out_dir / "demo").rglob("*")
                  if p.suffix in (".wav", ".mp3"))


def test_build_renders_ready_messages_of_every_locale_in_every_profile(built):
    campaign = load_campaign(built / "messages" / "demo.yaml")
    ids = [m.id for m in campaign.messages]
    result = run_broadcast("status", "--json", "--project", built)
    assert result.code == 0, result
    status = json.loads(result.out)
    for locale in ("ko_KP", "ru", "uk"):
        ready = status["campaigns"]["demo"]["locales"][locale]["ready"]
        for profile in PROFILES:
            folder = out(built, locale, profile)
            ext = "mp3" if profile == "usb" else "wav"
            names = sorted(p.name for p in folder.glob(f"*.{ext}"))
            expected = [f"{i:02d}-{m}.{ext}" for i, m in enumerate(ready, 1)]
            assert names == expected
            assert all(re.fullmatch(r"[0-9A-Za-z_-]+\.(wav|mp3)", n) for n in names)
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            skipped = {s["id"] for s in manifest["skipped"]}
            assert skipped == set(ids) - set(ready)
            programs = sorted(p.name for p in (folder / "programs").glob("*")) \
                if (folder / "programs").exists() else []
            assert programs == ([f"evening.{ext}"] if locale != "uk" else [])
    assert len(status["campaigns"]["demo"]["locales"]["uk"]["ready"]) < len(ids)


def test_every_file_meets_its_loudness_target_by_an_independent_meter(built):
    files = audio_files(built)
    assert len(files) == 3 * (5 + 5 + 2)
    for path in files:
        profile = path.parent.name if path.parent.name != "programs" else path.parent.parent.name
        target, tolerance = TARGETS[profile]
        lufs, peak = ebur128(path)
        assert abs(lufs - target) <= tolerance, (path, lufs)
        assert peak <= -1.0, (path, peak)


def test_formats_and_no_identifying_tags(built):
    for profile in PROFILES:
        for path in sorted(out(built, "ru", profile).rglob("*.*")):
            if path.suffix not in (".wav", ".mp3"):
                continue
            info = ffprobe(path)
            (stream,) = info["streams"]
            codec, rate = FORMATS[profile]
            assert stream["codec_name"] == codec
            assert int(stream["sample_rate"]) == rate
            assert stream["channels"] == 1
            data = path.read_bytes()
            assert b"Lavf" not in data and b"Lavc" not in data
            if profile == "radio":          # playout tags (the next test), nothing else
                assert set(info["format"]["tags"]) <= {
                    "title", "album", "comment", "originator_reference", "time_reference",
                    "coding_history"}, info["format"]["tags"]
                continue
            assert not info["format"].get("tags"), info["format"].get("tags")
            if profile == "usb":
                assert not data.startswith(b"ID3") and b"TAG" != data[-128:-125]
                assert b"Xing" not in data[:2000] and b"Info" not in data[:2000]
                assert int(info["format"]["bit_rate"]) // 1000 in (127, 128)
            else:
                assert b"LIST" not in data and b"INFO" not in data


def _cart_by_libsndfile(path) -> dict[str, str]:
    """The AES46 cart chunk's text fields as libsndfile reads them (SFC_GET_CART_INFO)."""
    import soundfile
    layout = [("version", 4), ("title", 64), ("artist", 64), ("cut_id", 64)]
    buffer = bytearray(2048 + 4 + 4096)     # SF_CART_INFO with room for its tag text
    with soundfile.SoundFile(str(path)) as sound:
        found = soundfile._snd.sf_command(sound._file, 0x1401,     # SFC_GET_CART_INFO
                                          soundfile._ffi.from_buffer(buffer), len(buffer))
    assert found == 1, f"libsndfile finds no cart chunk in {path}"
    fields, at = {}, 0
    for name, size in layout:
        fields[name] = bytes(buffer[at:at + size]).split(b"\0")[0].decode("ascii")
        at += size
    return fields


def test_a_radio_file_tells_a_playout_its_title_campaign_and_loudness(built):
    """Each radio file's bext (EBU Tech 3285 v2), RIFF INFO, AES46 cart and id3 chunk, read
    by four tools that did not write them, hold the manifest's figures; a stick copy of the radio
    bundle holds fmt and data alone, with the same PCM."""
    import mutagen.wave
    import wavinfo

    from pipeline.audio.codec import read_wav
    from pipeline.audio.tags import wav_chunks
    from pipeline.distribute.bundle import verify_bundle
    from pipeline.distribute.media import play_order
    folder = out(built, "ru", "radio")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    # The program's title is the catalog's translation (a unit like a message title).
    assert [e["title"] for e in manifest["files"] if e["kind"] == "program"] == ["Вечерний эфир"]
    for entry in manifest["files"]:
        path = folder / entry["file"]
        bext = wavinfo.WavInfoReader(str(path)).bext
        assert bext.version == 2
        assert bext.description.startswith(f"{CAMPAIGN}/ru/{entry['id']}")
        assert bext.loudness_value == entry["loudness_lufs"]
        assert bext.max_true_peak == entry["true_peak_dbtp"]
        for got, key in ((bext.loudness_range, "loudness_range_lu"),
                         (bext.max_momentary_loudness, "max_momentary_lufs"),
                         (bext.max_shortterm_loudness, "max_short_term_lufs")):
            assert got == entry[key], key     # a program's too, from its files' blocks
        cart = _cart_by_libsndfile(path)          # what Rivendell imports
        assert cart["version"] == "0101" and cart["artist"] == CAMPAIGN
        reference = f"{CAMPAIGN}/ru/{entry['id']}"
        assert cart["cut_id"] == reference
        assert cart["title"] == (entry["title"] if entry["title"].isascii() else reference)
        tags = ffprobe(path)["format"]["tags"]
        assert tags["title"] == entry["title"] and tags["album"] == CAMPAIGN
        id3 = mutagen.wave.WAVE(str(path)).tags
        assert str(id3["TIT2"]) == entry["title"] and str(id3["TALB"]) == CAMPAIGN
        assert str(id3["TXXX:REPLAYGAIN_TRACK_GAIN"]) == \
            f"{-18 - entry['loudness_lufs']:+.2f} dB"
        assert str(id3["TXXX:LOUDNESS_VALUE"]) == f"{entry['loudness_lufs']:.2f} LUFS"
    # The stick: a radio bundle's WAVs lose every chunk but fmt and data.
    checked = verify_bundle(bundle_of(built, "ru", "radio"), None)
    assert checked.ok, checked.problems
    stick = play_order(checked, with_programs=True)
    assert len(stick) == len(manifest["files"])
    for (name, data), entry in zip(stick, manifest["files"], strict=True):
        assert name.endswith(".wav")
        assert [kind for kind, _, _ in wav_chunks(data)] == [b"fmt ", b"data"]
        assert read_wav(data).samples.tobytes() == \
            read_wav(folder / entry["file"]).samples.tobytes()
        assert entry["title"].encode("utf-8") not in data and CAMPAIGN.encode() not in data


def test_manifest_checksums_and_playlist_agree_with_the_files(built):
    folder = out(built, "ko_KP", "usb")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    sums = dict(reversed(line.split("  ", 1)) for line in
                (folder / "SHA256SUMS").read_text().strip().split("\n"))
    import hashlib
    for entry in manifest["files"]:
        data = (folder / entry["file"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() == sums[entry["file"]]
        assert entry["size"] == len(data)
        assert entry["duration"] > 1.0
        assert abs(entry["loudness_lufs"] + 16) <= 1.0 and entry["true_peak_dbtp"] <= -1.0
        assert entry["title"] and entry["text"]
        if entry["kind"] == "message":
            assert entry["made_by"] == {"engine": "tone", "voice": "ko",
                                        "options": {"amplitude": 0.3}}
    first = manifest["files"][0]
    assert first["title"] == "방송국 알림" and "7.2 메가헤르쯔" in first["text"]   # placeholder filled
    playlist = (folder / "playlist.m3u8").read_text(encoding="utf-8").split("\n")
    assert playlist[0] == "#EXTM3U"
    listed = [line for line in playlist if line and not line.startswith("#")]
    assert listed == sorted(p.name for p in folder.glob("*.mp3"))
    for name in ("manifest.json", "playlist.m3u8"):
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == sums[name]


def test_rebuild_is_byte_identical_and_does_no_synthesis_or_encoding(built, cli, tmp_path):
    root = tmp_path / "project"         # a copy: a build rewrites the shared project's stamp
    shutil.copytree(built, root, symlinks=True)
    before = snapshot(Layout(root).out_dir / CAMPAIGN)
    for workers in ("1", "2"):          # in process, and through the worker pool
        # the whole build (the command's main, not its entry, which answers from the stamp)
        result = cli("build", "--project", root, "--jobs", workers)
        assert result.code == 0, result
        assert "\n0 syntheses, 0 encodings\n" in result.out, result.out
        assert snapshot(Layout(root).out_dir / CAMPAIGN) == before


def test_the_report_counts_syntheses_and_encodings(project, cli):
    result = cli("render", "--project", project, "--locale", "uk", "--jobs", "1")
    # uk: ident (2 paragraphs) and not-alone (2 paragraphs) are ready; 3 profiles each.
    assert "\n4 syntheses, " in result.out
    encodings = int(result.out.split(" syntheses, ")[1].split()[0])
    assert encodings >= 6


def test_two_fresh_builds_are_byte_identical(tmp_path, cli):
    """With one worker or two (which share an MP3 program's decoding out first)."""
    outputs = []
    for name, jobs in (("a", "1"), ("b", "2")):
        root = copy_project(tmp_path / name)
        assert cli("build", "--project", root, "--locale", "ru", "--jobs", jobs).code == 0
        outputs.append(snapshot(Layout(root).out_dir / "demo"))
    assert outputs[0] == outputs[1]
    # per folder: 4 messages and 1 program, 4 transcripts, SHA256SUMS, manifest, playlist,
    # index.html
    assert len(outputs[0]) == 3 * (5 + 4 + 4)


def test_a_fuzzy_unit_means_no_audio_and_both_status_and_render_say_why(project, cli):
    assert cli("render", "--project", project, "--locale", "ru", "--profile", "usb",
               "--jobs", "1").code == 0
    folder = out(project, "ru", "usb")
    assert (folder / "03-rights.mp3").exists()
    path = project / "locales" / "ru" / "LC_MESSAGES" / "demo.po"
    po = polib.pofile(str(path))
    entry = next(e for e in po if e.msgctxt == "rights")
    entry.flags.append("fuzzy")
    po.save()
    result = cli("render", "--project", project, "--locale", "ru", "--profile", "usb",
                 "--jobs", "1")
    assert result.code == 0
    assert "skipped demo/ru/rights: 1 unit fuzzy" in result.out
    assert not any("rights" in p.name for p in folder.glob("*.mp3"))
    assert "evening" in result.out and "not ready in this locale: rights" in result.out
    assert not (folder / "programs" / "evening.mp3").exists()
    status = json.loads(cli("status", "--json", "--project", project).out)
    assert "fuzzy" in status["campaigns"]["demo"]["locales"]["ru"]["not_ready"]["rights"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert {"id": "rights", "reason": "1 unit fuzzy"} in manifest["skipped"]


def test_nothing_ready_renders_nothing_and_exits_1(project, cli):
    assert cli("init", "de", "--project", project).code == 0
    result = cli("render", "--project", project, "--locale", "de", "--jobs", "1")
    assert result.code == 1
    assert "nothing was rendered" in result.err
    assert "skipped demo/de/ident: 3 units untranslated" in result.out
    assert not (Layout(project).out_dir / "demo" / "de").exists()


def _speech(text: str, locale: str) -> Audio:
    """A stand-in for a human take: Festival's recorded Russian diphones, which the
    recognizer understands (a take is heard before its first use; espeak-ng's Russian is
    too hard to follow to pass as a recording)."""
    from pipeline.voice.textnorm import normalize
    assert locale == "ru"
    said = normalize(text.replace("\n\n", " "), locale)
    return get_engine("festival").synthesize(SpeechRequest(said, locale, "ru"))


def _write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2").tobytes())


def _translated_text(project: Path, locale: str, message_id: str) -> str:
    po = polib.pofile(str(project / "locales" / locale / "LC_MESSAGES" / "demo.po"))
    campaign = load_campaign(project / "messages" / "demo.yaml")
    return "\n\n".join(po.find(p.text, msgctxt=message_id).msgstr.format(**campaign.variables)
                       for p in campaign.message(message_id).paragraphs)


def test_very_quiet_and_very_loud_recordings_meet_the_targets(project, cli):
    recs = project / "locales" / "ru" / "recordings"
    for mid, gain_db in (("ident", -40.0), ("not-alone", +20.0)):
        text = _translated_text(project, "ru", mid)
        voice = _speech(text, "ru")
        samples = np.clip(voice.samples * 10 ** (gain_db / 20), -1, 1)   # loud one clips
        _write_wav(recs / f"{mid}.wav", samples, voice.rate)
        (recs / f"{mid}.txt").write_text(text, encoding="utf-8")
    # A FLAC recording is read too.
    text = _translated_text(project, "ru", "safe-return")
    _write_wav(recs / "tmp.wav", _speech(text, "ru").samples * 0.5, 22050)
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(recs / "tmp.wav"),
                    str(recs / "safe-return.flac")], check=True)
    (recs / "tmp.wav").unlink()
    (recs / "safe-return.txt").write_text(text, encoding="utf-8")
    assert cli("render", "--project", project, "--locale", "ru", "--jobs", "2").code == 0
    for profile in PROFILES:
        folder = out(project, "ru", profile)
        manifest = {e["id"]: e for e in json.loads(
            (folder / "manifest.json").read_text(encoding="utf-8"))["files"]}
        target, tolerance = TARGETS[profile]
        for mid in ("ident", "not-alone", "safe-return"):
            assert manifest[mid]["made_by"]["recording"].startswith("locales/ru/recordings/")
            lufs, peak = ebur128(folder / manifest[mid]["file"])
            assert abs(lufs - target) <= tolerance, (profile, mid, lufs)
            assert peak <= -1.0, (profile, mid, peak)
        assert manifest["rights"]["made_by"]["engine"] == "espeak"


def test_stale_recording_is_reported_and_policy_decides(project, cli):
    recs = project / "locales" / "ru" / "recordings"
    text = _translated_text(project, "ru", "ident")
    voice = _speech(text, "ru")
    _write_wav(recs / "ident.wav", voice.samples, voice.rate)
    (recs / "ident.txt").write_text("An older text that was read.", encoding="utf-8")
    status = json.loads(cli("status", "--json", "--project", project).out)
    assert status["campaigns"]["demo"]["locales"]["ru"]["recordings"]["stale"] == ["ident"]
    assert cli("render", "--project", project, "--locale", "ru", "--profile", "radio",
               "--jobs", "1").code == 0
    manifest = json.loads((out(project, "ru", "radio") / "manifest.json").read_text())
    assert manifest["files"][0]["made_by"]["engine"] == "espeak"      # prefer → TTS
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text() + '\n[voices.ru]\nrecordings = "require"\n'
                    if "[voices.ru]" not in toml.read_text() else
                    toml.read_text().replace('[voices.ru]\n', '[voices.ru]\nrecordings = "require"\n'))
    result = cli("render", "--project", project, "--locale", "ru", "--profile", "radio",
                 "--jobs", "1")
    assert result.code == 1
    assert "skipped demo/ru/ident: recording required: ident.wav was read from an older" \
        in result.out
    status = cli("status", "--project", project).out
    assert "recordings stale: ident" in status and "recordings missing: not-alone" in status


def test_program_longer_than_max_seconds_warns_and_fails_with_strict(project, cli):
    yaml_path = project / "messages" / "demo.yaml"
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8")
                         .replace("max_seconds: 300", "max_seconds: 10"), encoding="utf-8")
    args = ("render", "--project", project, "--locale", "ru", "--profile", "shortwave",
            "--jobs", "2")
    result = cli(*args)
    assert result.code == 0
    assert "warning: program 'evening' in ru (shortwave) lasts" in result.err
    assert (out(project, "ru", "shortwave") / "programs" / "evening.wav").exists()
    result = cli(*args, "--strict")
    assert result.code == 1
    assert "over its max_seconds 10" in result.err
    assert not (out(project, "ru", "shortwave") / "programs" / "evening.wav").exists()
    assert (out(project, "ru", "shortwave") / "01-ident.wav").exists()


def test_without_system_ffmpeg_mp3s_are_made_in_process(monkeypatch, project, cli):
    import imageio_ffmpeg

    from pipeline.audio import codec as ffmpeg
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which",
                        lambda name, *a, **k: None if "ffmpeg" in name else real_which(name))
    ffmpeg.ffmpeg_exe.cache_clear()
    ffmpeg.ffmpeg_version.cache_clear()
    try:
        assert ffmpeg.ffmpeg_exe() == imageio_ffmpeg.get_ffmpeg_exe()
        result = cli("render", "--project", project, "--locale", "uk", "--profile", "usb",
                     "--jobs", "1")
        assert result.code == 0, result.err
        files = sorted((out(project, "uk", "usb")).glob("*.mp3"))
        assert len(files) == 2
        for path in files:
            lufs, peak = ebur128(path)
            assert abs(lufs + 16) <= 1.0 and peak <= -1.0
    finally:
        ffmpeg.ffmpeg_exe.cache_clear()
        ffmpeg.ffmpeg_version.cache_clear()


def test_a_radio_program_is_made_with_no_tool_on_the_path(project, tmp_path):
    """A radio program is made of its tagged message files (whose bext chunk has an odd
    length) without ffmpeg or ffprobe on the PATH: they are read by their chunks, not
    decoded through other processes, as where only the pip wheels are installed."""
    bare = tmp_path / "bin"
    bare.mkdir()
    result = run_broadcast("render", "--project", project, "--locale", "ru", "--profile",
                           "radio", "--jobs", "1", env=dict(process_env(), PATH=str(bare)))
    assert result.code == 0, result.err
    folder = out(project, "ru", "radio")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    program = next(e for e in manifest["files"] if e["kind"] == "program")
    from pipeline.audio.codec import read_wav
    pcm = read_wav(folder / program["file"]).samples
    first = read_wav(folder / manifest["files"][0]["file"]).samples
    assert np.array_equal(pcm[:len(first)], first)       # the first message, as it is


def test_program_intro_and_outro_are_joined_in_order(project, cli):
    rate = 22050
    t = np.arange(int(2.0 * rate)) / rate
    _write_wav(project / "audio" / "jingle.wav", 0.3 * np.sin(2 * np.pi * 660 * t), rate)
    yaml_path = project / "messages" / "demo.yaml"
    text = yaml_path.read_text(encoding="utf-8")
    args = ("render", "--project", project, "--locale", "ru", "--profile", "radio",
            "--jobs", "2")
    assert cli(*args).code == 0
    manifest_path = out(project, "ru", "radio") / "manifest.json"
    plain = {e["id"]: e["duration"] for e in json.loads(manifest_path.read_text())["files"]}
    yaml_path.write_text(text.replace(
        "    gap_seconds: 1.0\n    max_seconds: 300\n",
        "    gap_seconds: 1.0\n    max_seconds: 300\n    intro: audio/jingle.wav\n"
        "    outro: audio/jingle.wav\n"), encoding="utf-8")
    assert cli(*args).code == 0
    longer = {e["id"]: e["duration"] for e in json.loads(manifest_path.read_text())["files"]}
    # Two 2 s jingles, each with a 1 s gap (trimmed edges cost a few milliseconds).
    assert abs(longer["evening"] - plain["evening"] - 2 * (2.0 + 1.0)) < 0.1
    assert longer["ident"] == plain["ident"]
    (project / "audio" / "jingle.wav").unlink()
    result = cli(*args)
    assert result.code == 1
    assert "program 'evening' intro file not found" in result.err and "jingle.wav" in result.err


def test_usb_title_tag_is_the_only_tag_when_asked_for(project, cli):
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text() + "\n[profiles.usb]\ntitle_tag = true\n")
    assert cli("render", "--project", project, "--locale", "uk", "--profile", "usb",
               "--jobs", "2").code == 0
    path = out(project, "uk", "usb") / "01-ident.mp3"
    info = ffprobe(path)
    assert info["format"]["tags"] == {"title": "Позивні станції"}
    data = path.read_bytes()
    assert data.startswith(b"ID3\x04")                      # ID3v2.4: UTF-8 text
    assert "Позивні станції".encode("utf-8") in data[:200]
    assert b"Lavf" not in data and b"Lavc" not in data and b"TSSE" not in data
    assert b"TDRC" not in data and b"TDEN" not in data      # no dates


def test_programs_are_their_messages_files_laid_end_to_end(built):
    """A program is its messages' finished files with silence between (no sample processed
    or encoded again): its true peak, taken from its messages, is what a meter reads on
    the whole file, and a decoded MP3 program is its decoded messages end to end."""
    from pipeline.audio import dsp, meter
    from pipeline.audio.codec import decode_mp3, encode_mp3, mp3_frames, read_wav
    from pipeline.audio.profiles import DEFAULT_PROFILES as PROFILES
    items = ["ident", "not-alone", "rights", "ident"]
    for profile in ("radio", "usb", "shortwave"):
        folder = out(built, "ru", profile)
        manifest = json.loads((folder / "manifest.json").read_text())
        files = {e["id"]: e for e in manifest["files"]}
        program = files["evening"]
        ext = "wav" if profile != "usb" else "mp3"
        data = (folder / "programs" / f"evening.{ext}").read_bytes()
        audio = read_wav(data) if ext == "wav" else decode_mp3(data)
        assert abs(meter.true_peak(audio.samples) - program["true_peak_dbtp"]) <= 0.01
        assert program["true_peak_dbtp"] == max(files[i]["true_peak_dbtp"] for i in items)
        fill = 1.0 - PROFILES[profile].lead_in - PROFILES[profile].lead_out
        if ext == "wav":
            # Each message starts on the meter's 100 ms grid: a pause is up to 0.1 s longer.
            pcm = (audio.samples * 32768).astype(np.int16)
            grid, at = meter.hop(audio.rate), 0
            for n, i in enumerate(items):
                message = read_wav(folder / files[i]["file"]).samples
                if n:
                    start = at + round(fill * audio.rate)
                    at = start + (-start) % grid
                    assert not pcm[start:at].any() and at % grid == 0
                assert np.array_equal(pcm[at:at + len(message)],
                                      (message * 32768).astype(np.int16))
                at += len(message)
            assert at == len(pcm)
        else:
            def decoded(b: bytes):
                return decode_mp3(b).samples
            silence = decoded(encode_mp3(dsp.Audio.silence(fill, 44100), 128))
            parts = []
            for n, i in enumerate(items):
                parts += ([silence] if n else []) + [
                    decoded(mp3_frames((folder / files[i]["file"]).read_bytes()))]
            joined = np.concatenate(parts)
            assert len(joined) == len(audio.samples)
            assert np.abs(joined - audio.samples).max() < 1e-6
        # Its loudness, added up from its messages' gating blocks, is what a meter reads.
        whole = meter.loudness(audio.samples, audio.rate)
        assert abs(program["loudness_lufs"] - whole) <= 0.005 + 1e-9, whole


def test_a_programs_cached_blocks_are_taken_only_whole(built, tmp_path):
    """What a program keeps of its MP3 files (decoded length, gating blocks at an offset)
    is taken from the cache when whole, and made again when damaged."""
    from pipeline.audio.profiles import DEFAULT_PROFILES as PROFILES
    from pipeline.audio.program import decoded_blocks
    from pipeline.layout import Layout
    from pipeline.render.cache import cached_blocks
    layout = Layout(tmp_path)
    (Layout(tmp_path).cache_dir / "final").mkdir(parents=True)
    mp3 = out(built, "ru", "usb") / "01-ident.mp3"
    expected = decoded_blocks(mp3, 1234, 44100)
    at = cached_blocks(layout, ["k"], [mp3], PROFILES["usb"])
    made = at(0, 1234)
    entry = layout.final_cache("k", "at1234.blocks")
    assert entry.is_file() and made[0] == expected[0] == len(mp3_decoded(mp3))
    assert np.array_equal(made[1], expected[1])
    mp3_copy = tmp_path / "gone.mp3"           # taken from the cache: the file is not read
    at_gone = cached_blocks(layout, ["k"], [mp3_copy], PROFILES["usb"])
    assert np.array_equal(at_gone(0, 1234)[1], expected[1])
    damaged = bytearray(entry.read_bytes())
    damaged[-1] ^= 1
    entry.write_bytes(bytes(damaged))
    assert np.array_equal(at(0, 1234)[1], expected[1])
    assert entry.read_bytes() != bytes(damaged)


def test_a_cache_entry_gives_its_digests_only_with_its_recorded_stat(built, tmp_path):
    """A cache hit hands on the file's SHA-256 and CRC-32 (for a bundle to copy it by)
    only with the stat they were recorded at; an entry recorded without a CRC-32 (by an
    older version) is hashed once and recorded again with one."""
    import zlib

    from pipeline.audio.profiles import DEFAULT_PROFILES as PROFILES
    from pipeline.layout import Layout
    from pipeline.render.cache import hit
    layout = Layout(tmp_path)
    final = Layout(tmp_path).cache_dir / "final"
    final.mkdir(parents=True)
    source = next((Layout(built).cache_dir / "final").glob("*.mp3"))
    key = source.stem
    entry = final / source.name
    shutil.copy(source, entry)
    meta = json.loads(source.with_suffix(".json").read_text())
    del meta["crc32"]
    (final / f"{key}.json").write_text(json.dumps(meta))
    found = hit(layout, key, PROFILES["usb"])      # another inode, no CRC: hashed again
    data = entry.read_bytes()
    assert found is not None and found.checked is not None
    assert found.checked.crc32 == zlib.crc32(data) and found.checked.sha256 == meta["sha256"]
    assert found.checked.holds(entry)
    recorded = json.loads((final / f"{key}.json").read_text())
    assert recorded["crc32"] == zlib.crc32(data)
    assert recorded["stat"] == [entry.stat().st_mtime_ns, entry.stat().st_ino]
    again = hit(layout, key, PROFILES["usb"])      # as recorded: taken on its stat
    assert again is not None and again.checked == found.checked


def test_an_mp3_programs_decoding_is_shared_out_to_the_workers(built, tmp_path):
    """The files of an MP3 program not decoded yet where they lie in it, in shares of about
    equal length for the workers; what a share makes is what the program's job takes."""
    from pipeline.audio import meter
    from pipeline.audio.dsp import Measured
    from pipeline.audio.profiles import DEFAULT_PROFILES as PROFILES
    from pipeline.audio.program import decoded_blocks, mp3_program_offsets, program_from_files
    from pipeline.content.sources import Program
    from pipeline.fsutil import Checked
    from pipeline.layout import Layout
    from pipeline.render.cache import Rendered, cached_blocks
    from pipeline.render.jobs import block_shares, render_blocks
    layout = Layout(tmp_path)
    (Layout(tmp_path).cache_dir / "final").mkdir(parents=True)
    folder = out(built, "ru", "usb")
    manifest = json.loads((folder / "manifest.json").read_text())
    messages, keys = [], []
    for entry in manifest["files"]:
        if entry["kind"] != "message":
            continue
        keys.append(entry["id"])
        shutil.copy(folder / entry["file"], layout.final_cache(entry["id"], "mp3"))
        samples = len(mp3_decoded(folder / entry["file"]))
        messages.append(Rendered(entry["id"], Measured(entry["duration"], -16.0, -2.0,
                                                       samples=samples), Checked(0, 0, 0, "", 0)))
    program = Program("p", "P", tuple(keys), 1, gap_seconds=1.5)
    usb = PROFILES["usb"]
    shares = block_shares(program, messages, usb, layout, 2)
    offsets = mp3_program_offsets([m.measured.samples for m in messages], 1.5, usb)
    assert len(shares) == 2 and sum(shares, []) == list(zip(keys, offsets, strict=True))
    lengths = [sum(m.measured.samples for m in messages if m.key in dict(share))
               for share in shares]
    assert max(lengths) < 0.75 * sum(lengths)
    assert block_shares(program, messages, PROFILES["radio"], layout, 2) == []
    assert block_shares(program, messages, usb, layout, 1) == []
    for share in shares:
        render_blocks(layout, share, usb)
    assert block_shares(program, messages, usb, layout, 2) == []     # all made
    gone = [tmp_path / "gone.mp3"] * len(keys)       # taken from the cache, not decoded
    at = cached_blocks(layout, keys, gone, usb)
    for i, (key, offset) in enumerate(zip(keys, offsets, strict=True)):
        expected = decoded_blocks(layout.final_cache(key, "mp3"), offset, 44100)
        assert at(i, offset)[0] == expected[0]
        assert np.array_equal(at(i, offset)[1], expected[1])
    # The program asks for the very offsets the shares were made at: it decodes nothing.
    files = [layout.final_cache(key, "mp3") for key in keys]
    made = program_from_files(files, [m.measured for m in messages], 1.5, usb, None,
                              tmp_path / "p.mp3", at)
    assert made is not None
    whole = mp3_decoded(made[0])
    assert abs(made[1].lufs - meter.loudness(whole, 44100)) <= 0.005 + 1e-9


def mp3_decoded(path: Path) -> np.ndarray:
    from pipeline.audio.codec import decode_mp3
    return decode_mp3(path.read_bytes()).samples


def test_an_edited_paragraph_re_encodes_its_message_only(project, cli):
    args = ("build", "--project", project, "--locale", "ru", "--jobs", "1")
    assert cli(*args).code == 0
    po = project / "locales" / "ru" / "LC_MESSAGES" / "demo.po"
    po.write_text(po.read_text(encoding="utf-8").replace(
        "Слушайте, когда это безопасно.", "Слушайте, когда это безопасно для вас."),
        encoding="utf-8")
    result = cli(*args)
    # ident: one paragraph synthesized again, its file in each of 3 profiles encoded again;
    # the programs that hold it are made of the files, encoded again nowhere.
    assert result.code == 0 and "\n1 syntheses, 3 encodings\n" in result.out, result.out


def test_a_rebuild_forks_workers_only_for_two_messages_or_more(project, cli, monkeypatch,
                                                               tmp_path):
    """A cold build forks its workers before it plans. A rebuild (every folder on disk)
    forks none for one edited message, and forks them after planning for two; what it
    writes is what a fresh one-worker build writes."""
    import pipeline.render.pool as pool
    import pipeline.workflow as workflow
    opened: list[bool] = []          # per pool opened: were the plans made already?
    planned: list[int] = []
    real_open, real_plan = pool.open_pool, workflow.plan

    def open_pool(workers, scheduler=None):
        opened.append(bool(planned))
        return real_open(workers, scheduler)

    def plan(*args, **kwargs):
        planned.append(1)
        return real_plan(*args, **kwargs)
    monkeypatch.setattr(pool, "open_pool", open_pool)
    monkeypatch.setattr(workflow, "plan", plan)

    def build(**edits: str) -> str:
        po = project / "locales" / "ru" / "LC_MESSAGES" / "demo.po"
        text = po.read_text(encoding="utf-8")
        for old, new in edits.items():
            text = text.replace(old, new)
        po.write_text(text, encoding="utf-8")
        opened.clear()
        planned.clear()
        result = cli("build", "--project", project, "--locale", "ru", "--jobs", "2")
        assert result.code == 0, result.err
        return result.out
    build()
    assert opened == [False]
    out = build(**{"Слушайте, когда это безопасно.": "Слушайте, когда это безопасно для вас."})
    assert opened == [] and "\n1 syntheses, 3 encodings\n" in out, out
    out = build(**{"Многие люди думают о вас каждый день.": "Многие люди думают о вас.",
                   "Пленный получает еду, воду и медицинскую помощь.": "Пленный получает еду."})
    assert opened == [True] and "\n2 syntheses, 6 encodings\n" in out, out
    fresh = tmp_path / "fresh"
    shutil.copytree(project, fresh, ignore=shutil.ignore_patterns("audio_out"))
    assert cli("build", "--project", fresh, "--locale", "ru", "--jobs", "1").code == 0
    assert snapshot(Layout(fresh).out_dir / "demo") == snapshot(Layout(project).out_dir / "demo")


def test_prune_deletes_what_an_edit_left_and_nothing_a_folder_holds(project, cli):
    """After an edit, the cache still holds the old text's files (a message in each
    profile, the programs, the old paragraph's synthesis): prune deletes them, and only
    them; --dry-run says the same and deletes nothing; the next build renders nothing."""
    args = ("build", "--project", project, "--locale", "ru", "--jobs", "1")
    cache = Layout(project).cache_dir
    assert cli(*args).code == 0
    po = project / "locales" / "ru" / "LC_MESSAGES" / "demo.po"
    po.write_text(po.read_text(encoding="utf-8").replace(
        "Слушайте, когда это безопасно.", "Слушайте, когда это безопасно для вас."),
        encoding="utf-8")
    before = {p: p.stat().st_size for p in cache.rglob("*") if p.is_file()}
    assert cli(*args).code == 0
    left = {p for p in cache.rglob("*") if p.is_file()} & set(before)
    dry = cli("prune", "--project", project, "--dry-run")
    assert dry.code == 0 and dry.out.startswith("would delete ")
    assert {p for p in cache.rglob("*") if p.is_file()} >= left
    done = cli("prune", "--project", project)
    assert done.code == 0 and done.out.startswith("deleted ")
    assert re.search(r"\d+ files", dry.out).group() == re.search(r"\d+ files", done.out).group()
    gone = left - {p for p in cache.rglob("*") if p.is_file()}
    # The old ident: its file in each profile with its meta, the usb MP3's mastered PCM,
    # and the six programs with their metas; the old paragraph's synthesis.
    assert {p.suffix for p in gone} >= {".wav", ".mp3", ".json"}
    assert any(p.parent.name == "speech" for p in gone)
    for folder in (Layout(project).out_dir / "demo" / "ru").iterdir():
        for audio in (p for p in folder.rglob("*") if p.suffix in (".wav", ".mp3")):
            assert audio.stat().st_nlink == 2, audio       # its cache entry is still there
    assert "\n0 syntheses, 0 encodings\n" in cli(*args).out


def test_workers_fork_only_where_it_is_safe():
    """A command's process forks its workers (they inherit its imports); a process running
    another thread, or holding a library with a thread pool of its own, spawns them."""
    import threading

    from pipeline.render.pool import start_method
    code = ("import sys; from pipeline.render.pool import start_method; "
            "print(start_method()); import onnxruntime; print(start_method())")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["fork", "spawn"]
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert start_method() == "spawn"
    finally:
        stop.set()
        thread.join()


def test_a_worker_gives_freed_memory_back_after_a_job():
    """glibc keeps freed blocks in its heap (here made to, as it does by itself once large
    blocks have been freed); after a job a worker hands them back when more than TRIM_FREE
    bytes are free (in a process of its own: the measure is the process's resident
    memory)."""
    code = """
from pipeline.render.pool import TRIM_FREE, glibc, trim_memory
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) << 10
import ctypes
libc = ctypes.CDLL(None)
libc.mallopt(-3, 64 << 20)              # M_MMAP_THRESHOLD: 4 MiB blocks come from the heap
libc.mallopt(-1, 1 << 30)               # M_TRIM_THRESHOLD: free() gives nothing back itself
blocks = [bytearray(4 << 20) for _ in range(40)]
keep = blocks[-1]                       # the top of the heap stays in use
del blocks
before, free = rss(), glibc().mallinfo2().fordblks
assert free > TRIM_FREE, free
trim_memory()
assert rss() < before - free // 2, (before, free, rss())
print("ok")
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr


def test_progress_counts_the_files_written(project, proc):
    """Off a terminal, progress is a line per quarter; its total is the number of audio
    files the render writes (messages and programs, in every profile)."""
    result = proc("render", "--project", project, "--locale", "ru", "--profile", "radio",
                  "--profile", "usb")
    assert result.code == 0, result.err
    written = sum(len([f for f in json.loads((out(project, "ru", p) / "manifest.json")
                                             .read_text())["files"]]) for p in ("radio", "usb"))
    last = [line for line in result.err.splitlines() if line.startswith("render: ")][-1]
    assert last == f"render: {written}/{written} files", (last, written)


@pytest.mark.parametrize("text", ["ru/ident", "kursk/ko_KP/stop-fighting radio usb shortwave",
                                  "a" * 50])
def test_a_progress_label_keeps_its_width_and_its_words(text):
    from pipeline.cli.console import LABEL_WIDTH, fit
    shown = fit(text, LABEL_WIDTH)
    assert len(shown) == LABEL_WIDTH
    kept = shown.rstrip().rstrip("…")
    assert text.startswith(kept)
    if len(text) > LABEL_WIDTH and " " in text:
        assert text[len(kept)] in " /"               # cut between words


def test_build_json_and_quiet_for_scripts(project, proc):
    """--json: one JSON document on stdout, nothing else (no progress either); its
    folders and bundles are what was written. --quiet: nothing on stdout."""
    result = proc("build", "--project", project, "--locale", "ru", "--json", "--jobs", "1")
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["exit_code"] == 0 and summary["errors"] == []
    for folder in summary["folders"]:
        manifest = json.loads((project / folder["folder"] / "manifest.json").read_text())
        assert folder["files"] == len(manifest["files"])
    assert {b["path"] for b in summary["bundles"]} == {
        f"audio_out/bundles/{CAMPAIGN}-ru-{p}.zip" for p in PROFILES}
    assert all((project / b["path"]).exists() and not b["signed"] for b in summary["bundles"])
    assert "render: " not in result.err
    quiet = proc("build", "--project", project, "--locale", "ru", "--quiet", "--jobs", "1")
    assert quiet.code == 0 and quiet.out == "", quiet


def test_loudness_is_reported_as_ffmpegs_ebur128_reports_it(project, cli):
    """Per message and program file: maximum momentary and short-term loudness and the
    loudness range within 0.15 of what ffmpeg's ebur128 filter reports (a program's taken
    from its files' blocks, not measured again)."""
    assert cli("render", "--project", project, "--locale", "ru", "--profile", "radio",
               "--profile", "usb").code == 0
    for profile in ("radio", "usb"):
        folder = out(project, "ru", profile)
        manifest = json.loads((folder / "manifest.json").read_text())
        assert {e["kind"] for e in manifest["files"]} == {"message", "program"}
        for entry in manifest["files"]:
            log = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostats", "-i",
                                  str(folder / entry["file"]), "-af",
                                  "ebur128=peak=true:framelog=info", "-f", "null", "-"],
                                 capture_output=True, text=True).stderr
            frames = re.findall(r"t:\s*([\d.]+)\s+TARGET.*?M:\s*(-?[\d.]+)\s+S:\s*(-?[\d.]+)",
                                log)
            momentary = max(float(m) for t, m, s in frames if float(t) >= 0.4 - 1e-6)
            short = max(float(s) for t, m, s in frames if float(t) >= 3.0 - 1e-6)
            lra = float(re.findall(r"LRA:\s+(-?[\d.]+) LU", log)[-1])
            assert abs(entry["max_momentary_lufs"] - momentary) <= 0.15, (entry, momentary)
            assert abs(entry["max_short_term_lufs"] - short) <= 0.15, (entry, short)
            assert abs(entry["loudness_range_lu"] - lra) <= 0.15, (entry, lra)
    page = (out(project, "ru", "radio") / "index.html").read_text(encoding="utf-8")
    assert " · LRA " in page and "max. short-term" in page
