"""Native voices (RHVoice for ru and uk), and the fallback a locale names where its engine
or voice is not installed: used, and said, never silent. scripts/test.sh installs the
voices (scripts/voices.sh), so these run against the real RHVoice."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import CAMPAIGN, process_env, run_broadcast
from test_voices import heard_cer, set_voice

from pipeline.errors import ConfigError, EngineMissing
from pipeline.layout import Layout
from pipeline.voice.engines import SpeechRequest, cache_key, get_engine

RU = "Вы не одни. Женевские конвенции защищают каждого военнопленного."
UK = "Ви не самі. Женевські конвенції захищають кожного військовополоненого."

RHVOICE_RU = """
[voices.ru]
engine = "rhvoice"
voice = "aleksandr"
[voices.ru.fallback]
engine = "espeak"
voice = "ru"
"""


@pytest.mark.parametrize("locale, voice, text", [("ru", "aleksandr", RU), ("uk", "anatol", UK)])
def test_rhvoice_speaks_russian_and_ukrainian_natively(locale, voice, text, tmp_path):
    engine = get_engine("rhvoice")
    audio = engine.synthesize(SpeechRequest(text, locale, voice))
    again = engine.synthesize(SpeechRequest(text, locale, voice))
    assert audio.rate == 24000 and audio.duration > 2
    assert np.array_equal(audio.samples, again.samples)         # deterministic
    assert heard_cer(audio, text, locale, tmp_path) <= 0.08
    # A language names its default voice, whose licence lets any broadcaster air it.
    by_language = engine.synthesize(SpeechRequest(text, locale, locale))
    assert np.array_equal(by_language.samples, audio.samples)


def test_rhvoice_options_change_the_audio_and_the_key():
    slow, fast = get_engine("rhvoice", {"rate": 70}), get_engine("rhvoice", {"rate": 150})
    request = SpeechRequest(RU, "ru", "aleksandr")
    assert slow.synthesize(request).duration > 1.5 * fast.synthesize(request).duration
    assert cache_key(slow, request) != cache_key(fast, request)
    assert slow.seconds_per_char("ru") > fast.seconds_per_char("ru")
    with pytest.raises(ConfigError, match="option rate: 1000 is outside 25..400"):
        get_engine("rhvoice", {"rate": 1000})


def test_rhvoice_without_the_voice_is_missing_and_lists_the_installed_ones():
    with pytest.raises(EngineMissing, match="no voice 'nobody' installed; use one of: .*anatol"):
        get_engine("rhvoice").synthesize(SpeechRequest(RU, "ru", "nobody"))


def _manifest(root, locale: str = "ru") -> dict:
    path = Layout(root).output_folder(CAMPAIGN, locale, "radio") / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_native_voice_speaks_where_installed_and_the_manifest_says_so(project, proc):
    set_voice(project, "ru", RHVOICE_RU)
    result = proc("build", "--project", project, "--locale", "ru", "--profile", "radio")
    assert result.code == 0, result.err
    assert "instead of" not in result.err
    made = _manifest(project)["files"][0]["made_by"]
    assert made["engine"] == "rhvoice" and made["voice"] == "aleksandr"
    assert "instead_of" not in made


def test_a_missing_native_voice_falls_back_and_every_place_says_so(project, tmp_path):
    set_voice(project, "ru", RHVOICE_RU)
    env = process_env(RHVOICE_VOICES=str(tmp_path / "no-voices"))
    result = run_broadcast("build", "--project", project, "--locale", "ru", "--profile",
                           "radio", env=env)
    assert result.code == 0, result.err
    last = result.err.strip().splitlines()[-1]
    assert "ru: spoken by espeak/ru instead of rhvoice/aleksandr" in last, result.err
    assert "apt-get install rhvoice" in last
    made = _manifest(project)["files"][0]["made_by"]
    assert made["engine"] == "espeak" and "rhvoice/aleksandr" in made["instead_of"]
    page = (Layout(project).output_folder(CAMPAIGN, "ru", "radio") / "index.html").read_text()
    assert "fallback voice" in page
    report = (Layout(project).out_dir / "report.html").read_text(encoding="utf-8")
    assert "<b>fallback</b>: spoken by espeak/ru instead of rhvoice/aleksandr" in report
    status = run_broadcast("status", "--project", project, "--json", env=env)
    ru = json.loads(status.out)["campaigns"][CAMPAIGN]["locales"]["ru"]
    assert ru["voice"] == "espeak/ru" and "instead of rhvoice/aleksandr" in ru["fallback"]
    # The next build, once the voice is installed, speaks with it: no stamp kept the
    # fallback's output.
    again = run_broadcast("build", "--project", project, "--locale", "ru", "--profile",
                          "radio")
    assert again.code == 0 and "nothing changed" not in again.out + again.err
    assert _manifest(project)["files"][0]["made_by"]["engine"] == "rhvoice"


def test_a_missing_voice_without_a_fallback_is_one_line_naming_the_config(project, tmp_path):
    set_voice(project, "ru", '[voices.ru]\nengine = "rhvoice"\nvoice = "aleksandr"\n')
    env = process_env(RHVOICE_VOICES=str(tmp_path / "no-voices"))
    result = run_broadcast("build", "--project", project, "--locale", "ru", env=env)
    assert result.code == 1, result
    line = result.err.strip()
    assert "\n" not in line
    assert line.startswith("broadcast: broadcast.toml: [voices.ru] rhvoice/aleksandr: RHVoice "
                           "has no voice 'aleksandr' installed"), line


KO = "여러분은 혼자가 아닙니다. 로동자들과 병사들이 이 방송을 듣고 있습니다."


def test_mbrola_hn1_speaks_korean_through_the_front_end(tmp_path):
    engine = get_engine("mbrola")
    audio = engine.synthesize(SpeechRequest(KO, "ko_KP", "hn1"))
    again = engine.synthesize(SpeechRequest(KO, "ko_KP", "ko"))     # the language's voice
    assert audio.rate == 16000 and audio.duration > 3
    assert np.array_equal(audio.samples, again.samples)             # deterministic
    assert heard_cer(audio, KO, "ko_KP", tmp_path) <= 0.2
    slower = get_engine("mbrola", {"speed": 0.8}).synthesize(SpeechRequest(KO, "ko_KP", "hn1"))
    assert slower.duration > 1.15 * audio.duration


def test_mbrola_without_hn1_is_missing(tmp_path, monkeypatch):
    from pipeline.voice.engines import mbrola
    monkeypatch.setattr(mbrola, "DATABASES", tmp_path)
    with pytest.raises(EngineMissing, match="no voice 'hn1' installed"):
        get_engine("mbrola").check_voice("hn1")


def test_say_shows_the_phonemes_a_linguist_checks(project, cli):
    result = cli("say", "--project", project, "--locale", "ko_KP", "--engine", "mbrola",
                 "--text-only", "--phonemes", "로동자들이 국물을 먹었습니다.")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == ("phonemes: 4 o d o N dz\\ a d M 4 i k u N m u 4 M l_} m V g V t_} "
                        "s_> M m_} n i d a")
    assert lines[1] == "로동자들이 국물을 먹었습니다."


@pytest.mark.parametrize("script, problem", [
    ("import wave, sys; w = wave.open(sys.argv[1], 'wb'); w.setnchannels(1); "
     "w.setsampwidth(2); w.setframerate(16000); w.writeframes(bytes(32000)); w.close()",
     "wrote silence"),
    ("import sys; sys.stderr.write('voice data missing\\n'); sys.exit(3)",
     "wrote no audio for 'Ви не самі' \\(voice data missing\\)"),
])
def test_a_program_engine_that_writes_silence_or_nothing_is_an_error(script, problem):
    import sys

    from pipeline.errors import EngineError
    from pipeline.voice.engines.external import speak_with
    with pytest.raises(EngineError, match=f"Voice {problem}"):
        speak_with("Voice", lambda folder: [sys.executable, "-c", script,
                                            str(folder / "speech.wav")], "Ви не самі")
