"""broadcast.toml: defaults, overrides, engine options, and a clear line for every mistake."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import DATA, snapshot

from pipeline.audio.profiles import DEFAULT_PROFILES
from pipeline.config import DEFAULT_VOICES, load_config


def write(tmp_path, text):
    (tmp_path / "broadcast.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_defaults_without_a_file(tmp_path):
    config = load_config(tmp_path)
    assert config.locales == ("ko_KP", "ru", "uk")
    assert config.profiles == DEFAULT_PROFILES
    assert config.voice_for("ko_KP") == DEFAULT_VOICES["ko_KP"]
    assert config.voice_for("ru_UA").engine == "rhvoice"   # same language
    assert config.voice_for("ru_UA").fallback == DEFAULT_VOICES["ru"].fallback
    assert config.voice_for("de").voice == "de"


def test_profile_override_and_new_profile_from_base(tmp_path):
    config = load_config(write(tmp_path, """
[profiles.usb]
bitrate_kbps = 96
title_tag = true

[profiles.fm]
base = "radio"
target_lufs = -18.0
"""))
    assert config.profile("usb").bitrate_kbps == 96 and config.profile("usb").title_tag
    assert config.profile("usb").target_lufs == -16.0
    fm = config.profile("fm")
    assert fm.sample_rate == 48000 and fm.target_lufs == -18.0 and fm.name == "fm"


BAD = sorted((DATA / "bad_config").glob("*.toml"))


def expectation(path: Path) -> str:
    first = path.read_bytes().decode("utf-8", "replace").lstrip("\ufeff").split("\n")[0]
    assert first.startswith("# expect: "), path
    return first[len("# expect: "):]


@pytest.mark.parametrize("bad", BAD, ids=[p.stem for p in BAD])
def test_bad_config_is_exit_2_one_line_naming_the_file_and_nothing_written(bad, project, proc):
    shutil.copy(bad, project / "broadcast.toml")
    before = snapshot(project)
    for command in ("status", "build"):
        result = proc(command, "--project", project)      # a process: tracebacks show
        lines = result.err.strip().split("\n")
        assert result.code == 2, result
        assert 1 <= len(lines) <= 3, result.err
        assert "broadcast.toml" in lines[0] and expectation(bad) in lines[0], lines[0]
        assert snapshot(project) == before


def test_the_corpus_covers_every_kind_of_mistake():
    assert len(BAD) >= 30


def test_engine_options_reach_the_engine_and_only_they_change_its_cache_key(project):
    from pipeline.project import open_project
    from pipeline.voice.engines import SpeechRequest, cache_key
    toml = project / "broadcast.toml"
    base = open_project(project)
    request = SpeechRequest("Текст", "ru", "ru")
    key = cache_key(base.engine("ru"), request)
    assert base.engine("ru").speed == 150
    toml.write_text(toml.read_text() + '\n[voices.en]\nrecordings = "ignore"\n')
    assert cache_key(open_project(project).engine("ru"), request) == key
    toml.write_text(toml.read_text().replace('[voices.ru]\nengine = "espeak"',
                                             '[voices.ru]\nengine = "espeak"\nrecordings = "ignore"'))
    assert open_project(project).voice("ru").recordings == "ignore"
    assert cache_key(open_project(project).engine("ru"), request) == key
    toml.write_text(toml.read_text().replace("speed = 150", "speed = 120"))
    slower = open_project(project).engine("ru")
    assert slower.speed == 120 and cache_key(slower, request) != key


def test_unknown_profile_on_the_command_line_exits_2(project, cli):
    """It is the command line's mistake, not broadcast.toml's; in [render] profiles it is
    the config's."""
    result = cli("render", "--project", project, "--profile", "tape")
    assert result.code == 2 and "--profile: unknown profile 'tape'" in result.err
    assert "broadcast.toml" not in result.err
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text().replace("\n[voices.", '\n[render]\nprofiles = ["tape"]'
                                             "\n\n[voices.", 1))
    result = cli("render", "--project", project)
    assert result.code == 2 and "broadcast.toml: [render] profiles names unknown profile 'tape'" \
        in result.err


def test_an_engine_error_at_render_time_is_placed_in_broadcast_toml(project, proc):
    """An engine names no file; the render says the voice was set in broadcast.toml."""
    toml = project / "broadcast.toml"
    config = toml.read_text(encoding="utf-8")
    toml.write_text(config.replace('voice = "ru"', 'voice = "xx-nope"'), encoding="utf-8")
    result = proc("render", "--project", project, "--locale", "ru")
    assert result.code == 1, result
    assert "broadcast.toml: espeak-ng has no voice 'xx-nope' for ru" in result.err, result.err
