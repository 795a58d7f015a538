"""Engines: espeak-ng for real; gTTS at the HTTP layer against a local server."""

from __future__ import annotations

import base64
import http.server
import json
import socket
import subprocess
import threading
import warnings

import numpy as np
import pytest

from pipeline.audio.codec import ffmpeg_exe
from pipeline.config import DEFAULT_VOICES
from pipeline.errors import ConfigError, EngineError
from pipeline.voice import engines
from pipeline.voice.engines import SpeechRequest, cache_key, get_engine
from pipeline.voice.engines.gtts_engine import MAX_CHARS, GttsEngine, tokenize

SAMPLES = {
    # locale: (text, units in the text, plausible seconds per unit)
    "ko_KP": ("여러분은 혼자가 아닙니다. 여러분을 생각하는 사람들이 있습니다.",
              sum(1 for c in "여러분은혼자가아닙니다여러분을생각하는사람들이있습니다"), (0.08, 0.5)),
    "ru": ("Вы не одни. Есть люди, которые думают о вас и хотят, чтобы вы вернулись домой.",
           15, (0.2, 0.8)),
    "en": ("You are not alone. There are people who think of you and want you to return home.",
           17, (0.2, 0.8)),
}


@pytest.mark.parametrize("locale", sorted(SAMPLES))
def test_espeak_speaks_each_locale_with_plausible_duration(locale):
    text, units, (low, high) = SAMPLES[locale]
    espeak = DEFAULT_VOICES[locale].fallback or DEFAULT_VOICES[locale]     # espeak's voice
    assert espeak.engine == "espeak"
    audio = get_engine("espeak").synthesize(SpeechRequest(text, locale, espeak.voice))
    assert audio.rate == 22050
    rms = float(np.sqrt(np.mean(audio.samples.astype(np.float64) ** 2)))
    assert rms > 0.02, "the voice is (nearly) silent"
    voiced = np.mean(np.abs(audio.samples) > 0.01)
    assert voiced > 0.3
    assert low * units <= audio.duration <= high * units, audio.duration


def test_espeak_is_reproducible_whatever_was_said_before():
    engine = get_engine("espeak")
    request = SpeechRequest("Слушайте, когда это безопасно.", "ru", "ru")
    first = engine.synthesize(request).samples
    engine.synthesize(SpeechRequest("여러분은 혼자가 아닙니다.", "ko_KP", "ko"))
    assert np.array_equal(engine.synthesize(request).samples, first)


def test_espeak_speed_option_changes_duration_and_cache_key():
    slow, fast = get_engine("espeak", {"speed": 110}), get_engine("espeak", {"speed": 200})
    request = SpeechRequest("You are not alone. Listen when it is safe to do so.", "en", "en")
    assert slow.synthesize(request).duration > 1.4 * fast.synthesize(request).duration
    assert cache_key(slow, request) != cache_key(fast, request)
    assert cache_key(slow, request) == cache_key(get_engine("espeak", {"speed": 110}), request)
    assert slow.seconds_per_char("en") > fast.seconds_per_char("en")


def test_engine_options_are_validated_by_the_engine():
    with pytest.raises(ConfigError, match=r"^option speed: 5 is outside 80..450") as err:
        get_engine("espeak", {"speed": 5})
    assert err.value.file is None       # the engine does not know where it was set
    with pytest.raises(ConfigError, match="tld: unknown option"):
        get_engine("espeak", {"tld": "com"})
    assert get_engine("gtts", {"tld": "co.uk", "slow": True}).options() == \
        {"tld": "co.uk", "slow": True}


def test_espeak_unknown_voice_is_a_clear_error():
    with pytest.raises(EngineError, match="no voice 'xx-nope' for ko_KP"):
        get_engine("espeak").synthesize(SpeechRequest("안녕", "ko_KP", "xx-nope"))


def test_unknown_engine_lists_the_known_ones():
    with pytest.raises(ConfigError) as err:
        get_engine("marytts")
    assert "unknown engine 'marytts'" in str(err.value)
    assert "espeak, festival, gtts, kokoro" in str(err.value)


class ToneEngine:
    """A plug-in engine for the test: one 440 Hz tone, 0.1 s per character."""

    name = "tone"
    offline = True

    def version(self):
        return "tone 1"

    def options(self):
        return {}

    def seconds_per_char(self, language):
        return 0.1

    def synthesize(self, request):
        from pipeline.audio.dsp import Audio
        t = np.arange(int(0.1 * len(request.text) * 16000)) / 16000
        return Audio((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000)


def test_an_engine_registered_by_an_installed_package_plugs_in():
    engine = get_engine("plug-tone")
    audio = engine.synthesize(SpeechRequest("abcd", "en", "en"))
    assert abs(audio.duration - 0.4) < 1e-6


# --- gTTS at the HTTP layer -------------------------------------------------------------------

@pytest.mark.parametrize("text, pieces", [
    ("Short sentence.", [("Short sentence.", "sentence")]),
    ("One. Two? Three!", [("One.", "sentence"), ("Two?", "sentence"), ("Three!", "sentence")]),
    ("If you decide to stop fighting, your life comes first, and nothing else matters at "
     "all, not orders, not shame, not fear.",
     [("If you decide to stop fighting, your life comes first, and nothing else matters at "
       "all, not orders,", "clause"), ("not shame, not fear.", "sentence")]),
    ("여러분은 혼자가 아닙니다. 여러분을 생각하는 사람들이 있습니다.",
     [("여러분은 혼자가 아닙니다.", "sentence"), ("여러분을 생각하는 사람들이 있습니다.", "sentence")]),
])
def test_tokenizer_cuts_at_sentences_then_clauses(text, pieces):
    assert tokenize(text) == pieces


def test_tokenizer_never_exceeds_the_limit_nor_cuts_words():
    text = ("Международное право защищает солдат, которые сдаются в плен " * 6).strip() + "."
    pieces = tokenize(text)
    assert all(len(p) <= MAX_CHARS for p, _ in pieces)
    assert " ".join(p for p, _ in pieces).split() == text.split()
    assert pieces[-1][1] == "sentence"


def _mp3_tone(seconds: float) -> bytes:
    return subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
         f"sine=frequency=300:duration={seconds}:sample_rate=24000", "-ac", "1",
         "-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3", "pipe:1"],
        capture_output=True, check=True).stdout


def _good_reply(mp3: bytes) -> bytes:
    b64 = base64.b64encode(mp3).decode()
    return (")]}'\n\n" + json.dumps([["wrb.fr", "jQ1olc", f'["{b64}"]', None, None, None,
                                      "generic"]], separators=(",", ":")) + "\n").encode()


class FakeTTS:
    """A local HTTP server answering with scripted replies: (status, body) or 'slow'."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests: list[bytes] = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                fake.requests.append(self.rfile.read(int(self.headers["Content-Length"])))
                reply = fake.replies.pop(0) if len(fake.replies) > 1 else fake.replies[0]
                if reply == "slow":
                    threading.Event().wait(1.0)
                    reply = (200, b"")
                status, body = reply
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/batchexecute"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_tts():
    servers = []

    def make(replies):
        servers.append(FakeTTS(replies))
        return servers[-1]
    yield make
    for s in servers:
        s.close()


def _engine(url, sleeps=None, **kwargs):
    kwargs.setdefault("timeout", 0.5)
    kwargs.setdefault("jitter", lambda: 1.0)
    return GttsEngine(url=url, backoff=0.5,
                      sleep=(sleeps.append if sleeps is not None else lambda s: None), **kwargs)


RU = SpeechRequest("Вы не одни. Есть люди, которые думают о вас.", "ru", "ru")


def test_gtts_good_audio_is_decoded_and_joined_with_pauses(fake_tts):
    server = fake_tts([(200, _good_reply(_mp3_tone(0.5)))])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        audio = _engine(server.url).synthesize(RU)
    assert caught == []                                 # no library warnings leak
    assert len(server.requests) == 2                    # one per sentence
    assert b"f.req=" in server.requests[0] and b"ru" in server.requests[0]
    assert 1.2 <= audio.duration <= 1.8                 # 2 × 0.5 s tone + pauses
    assert np.abs(audio.samples).max() > 0.1


def test_gtts_429_is_retried_with_backoff(fake_tts):
    good = (200, _good_reply(_mp3_tone(0.3)))
    server = fake_tts([(429, b"slow down"), good])
    sleeps: list[float] = []
    audio = _engine(server.url, sleeps).synthesize(
        SpeechRequest("Вы не одни.", "ru", "ru"))
    assert len(server.requests) == 2
    assert sleeps == [0.5]
    assert audio.duration > 0.2


def test_gtts_persistent_5xx_gives_a_clear_error_after_bounded_retries(fake_tts):
    server = fake_tts([(503, b"unavailable")])
    sleeps: list[float] = []
    with pytest.raises(EngineError) as err:
        _engine(server.url, sleeps, retries=3).synthesize(RU)
    assert len(server.requests) == 4
    assert sleeps == [0.5, 1.0, 2.0]                    # exponential, bounded
    assert "HTTP 503" in str(err.value) and "gave up after 4 tries" in str(err.value)


def test_gtts_429_storm_waits_with_jitter_then_stops_without_fallback(fake_tts):
    """Refused on every try: bounded tries, jittered exponential waits, one clear error,
    and no other language or engine instead."""
    server = fake_tts([(429, b"slow down")])
    sleeps: list[float] = []
    engine = GttsEngine(url=server.url, backoff=0.5, timeout=0.5, retries=5,
                        sleep=sleeps.append)            # the real jitter
    with pytest.raises(EngineError) as err:
        engine.synthesize(RU)
    assert len(server.requests) == 6
    assert len(sleeps) == 5 and len(set(sleeps)) == 5
    for attempt, wait in enumerate(sleeps):
        assert 0.5 * 2 ** attempt * 0.5 <= wait <= 0.5 * 2 ** attempt
    assert "HTTP 429" in str(err.value) and "gave up after 6 tries" in str(err.value)
    assert all(b"ru" in r for r in server.requests)


def test_gtts_timeout_is_retried(fake_tts):
    server = fake_tts(["slow", (200, _good_reply(_mp3_tone(0.3)))])
    audio = _engine(server.url, timeout=0.2).synthesize(
        SpeechRequest("Вы не одни.", "ru", "ru"))
    assert len(server.requests) == 2 and audio.duration > 0.2


def test_gtts_client_error_is_not_retried(fake_tts):
    server = fake_tts([(400, b"bad request")])
    with pytest.raises(EngineError, match="HTTP 400"):
        _engine(server.url).synthesize(RU)
    assert len(server.requests) == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gtts_offline_error_names_message_and_locale(project, cli, monkeypatch):
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text().replace('[voices.ru]\nengine = "espeak"',
                                             '[voices.ru]\nengine = "gtts"')
                    .replace("speed = 150", 'tld = "com"'))
    offline = _engine(f"http://127.0.0.1:{_closed_port()}/", retries=2)
    engines.preset("gtts", {"tld": "com"}, offline)
    try:
        result = cli("render", "--project", project, "--locale", "ru", "--profile", "radio",
                     "--jobs", "1")
    finally:
        engines.forget_engines()
    assert result.code == 1
    assert "message 'ident' in ru:" in result.err
    assert "no connection to Google's TTS service (offline?)" in result.err
    assert 'set engine = "espeak"' in result.err


def _online() -> bool:
    try:
        socket.create_connection(("translate.google.com", 443), timeout=3).close()
        return True
    except OSError:
        return False


@pytest.mark.net
def test_gtts_real_service():
    if not _online():
        pytest.skip("Google's TTS service is not reachable from this machine")
    audio = GttsEngine().synthesize(SpeechRequest("Вы не одни.", "ru", "ru"))
    assert audio.duration > 0.5 and np.abs(audio.samples).max() > 0.05


def test_the_engine_that_renders_keeps_every_configured_option(project):
    """Workers rebuild the engine from the job: options that do not change the audio
    (gTTS's retries and timeout) must reach it too, not only those in the cache key."""
    from pipeline.project import open_project
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text().replace('[voices.ru]\nengine = "espeak"',
                                             '[voices.ru]\nengine = "gtts"')
                    .replace("speed = 150", 'tld = "com"\nretries = 1\ntimeout = 2.5'))
    p = open_project(project)
    voicing = p.voicing(p.campaigns[0], "ru", "ident")
    engine = voicing.engine_instance()
    assert (engine.retries, engine.timeout, engine.tld) == (1, 2.5, "com")
    assert voicing.made_by()["options"] == {"tld": "com", "slow": False}


def test_installed_versions_are_read_beside_the_module_as_metadata_gives_them(tmp_path):
    """The versions in cache keys: read from the dist-info folder pip puts beside a module,
    the same as importlib.metadata's; importlib.metadata where there is none, or two."""
    import importlib.metadata

    import espeakng_loader
    import lameenc

    from pipeline.versions import installed_version
    for dist, module in (("lameenc", lameenc), ("espeakng-loader", espeakng_loader)):
        assert installed_version(dist, module.__file__) == importlib.metadata.version(dist)
    (tmp_path / "Foo.Bar-1.2.3.dist-info").mkdir()
    assert installed_version("foo-bar", str(tmp_path / "foo_bar.py")) == "1.2.3"
    for version in ("1.0", "1.1"):                      # two: metadata decides
        (tmp_path / f"baz-{version}.dist-info").mkdir()
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        installed_version("baz", str(tmp_path / "baz.py"))
    assert installed_version("lameenc", str(tmp_path / "x.py")) == \
        importlib.metadata.version("lameenc")
