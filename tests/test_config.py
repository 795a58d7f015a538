"""broadcast.toml: defaults, overrides, and clear errors."""

from __future__ import annotations

import pytest

from pipeline.config import DEFAULT_VOICES, load_config
from pipeline.errors import ConfigError
from pipeline.profiles import DEFAULT_PROFILES


def write(tmp_path, text):
    (tmp_path / "broadcast.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_defaults_without_a_file(tmp_path):
    config = load_config(tmp_path)
    assert config.locales == ("ko_KP", "ru", "uk")
    assert config.profiles == DEFAULT_PROFILES
    assert config.voice_for("ko_KP") == DEFAULT_VOICES["ko_KP"]
    assert config.voice_for("ru_UA").voice == "ru"       # same language
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


@pytest.mark.parametrize("text, expected", [
    ("locales = [\"ru\"\n", "invalid TOML"),
    ("locals = [\"ru\"]\n", "unknown section or key 'locals'; did you mean 'locales'?"),
    ("[voices.ru]\nspeeed = 120\n", "unknown key 'speeed' in [voices.ru]; did you mean 'speed'?"),
    ("[voices.ru]\nrecordings = \"always\"\n", "recordings = 'always'"),
    ("[voices.ru]\nspeed = \"fast\"\n", "speed must be a whole number"),
    ("[profiles.usb]\nformat = \"ogg\"\n", "format 'ogg' is not supported"),
    ("[profiles.usb]\nbitrat = 96\n", "unknown key 'bitrat' in [profiles.usb]"),
    ("[profiles.new]\nsample_rate = 8000\n", "[profiles.new] lacks 'format'"),
    ("[render]\nprofiles = [\"tape\"]\n", "unknown profile 'tape'"),
])
def test_bad_config_is_one_clear_error(tmp_path, text, expected):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert expected in str(err.value)
    assert str(err.value).startswith(str(tmp_path / "broadcast.toml"))


def test_bad_config_exits_2_through_the_cli(project, cli):
    (project / "broadcast.toml").write_text("locales = [\n", encoding="utf-8")
    result = cli("status", "--project", project)
    assert result.code == 2 and "broadcast.toml:1: invalid TOML" in result.err
    assert len(result.err.strip().split("\n")) == 1


def test_unknown_engine_in_config_exits_2(project, cli):
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text().replace('[voices.ru]\nengine = "espeak"',
                                             '[voices.ru]\nengine = "festival"'))
    result = cli("render", "--project", project, "--locale", "ru")
    assert result.code == 2
    assert "unknown engine 'festival'; use one of: espeak, gtts" in result.err


def test_unknown_profile_on_the_command_line_exits_2(project, cli):
    result = cli("render", "--project", project, "--profile", "tape")
    assert result.code == 2 and "unknown profile 'tape'" in result.err
