"""Project configuration: ``broadcast.toml``, with every default in one place.

A project works without the file. Everything a user may set is a dataclass field here or
in :mod:`pipeline.audio.profiles`, and every value is validated for type, range and sense
when the file is read: a bad value is one line naming broadcast.toml and the fix.
Engine options (``[voices.<locale>.options]``) are kept as written; each engine validates
its own when the project opens.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Mapping, cast

from .audio.profiles import DEFAULT_PROFILES, Profile
from .errors import ConfigError, did_you_mean
from .fsutil import read_utf8
from .layout import CONFIG_NAME, LOCALE_RE, PROFILE_RE, Layout
from .voice.speech import DEFAULT_TIMEOUT_S

__all__ = ["Config", "DEFAULT_LOCALES", "DEFAULT_VOICES", "ENGINE_RE", "load_config",
           "MAX_WORKERS", "RECORDING_POLICIES", "RecordingPolicy", "Voice"]

RecordingPolicy = Literal["prefer", "require", "ignore"]
RECORDING_POLICIES = ("prefer", "require", "ignore")
# An engine is named (a built-in, or an installed package's entry point), never a path to
# code: a project file must not be able to make a command import anything.
ENGINE_RE = re.compile(r"\A[A-Za-z][\w-]{0,63}\Z")
MAX_WORKERS = 256


@dataclass(frozen=True)
class Voice:
    """How one locale is spoken: an engine, its voice, its own options, and recordings;
    and the voice that speaks instead where that engine or voice is not installed (never
    silently: the build, ``status`` and the manifests say so)."""

    engine: str = "espeak"
    voice: str = "en"
    recordings: RecordingPolicy = "prefer"  # a fresh recording, else TTS | require | ignore
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    fallback: "Voice | None" = None

    @property
    def label(self) -> str:
        return f"{self.engine}/{self.voice}"

    @classmethod
    def from_dict(cls, locale: str, data: dict, base: "Voice", source: str,
                  table: str = "") -> "Voice":
        where = f"[voices.{locale}{table}]"
        names = {"engine", "voice", "options"} | (set() if table else {"recordings",
                                                                          "fallback"})
        for key in data:
            if key not in names:
                # (This module knows no engine's options: the engine checks its own.)
                fix = did_you_mean(key, names)
                if not fix.startswith("did you mean"):
                    fix += f"; an engine's own options go into [voices.{locale}.options]"
                raise ConfigError(f"unknown key '{key}' in {where}", source, fix=fix)
        engine = data.get("engine", base.engine)
        if isinstance(engine, str) and ":" in engine:
            raise ConfigError(f"{where} engine = {engine!r} names code to import, which a "
                              "project may not do", source,
                              fix="name an engine: a built-in one, or one an installed "
                                  "package registers (entry-point group pipeline.engines)")
        if not isinstance(engine, str) or not ENGINE_RE.match(engine):
            raise ConfigError(f"{where} engine = {engine!r} is not an engine name", source,
                              fix='write e.g. engine = "espeak"')
        voice = data.get("voice", base.voice)
        if not isinstance(voice, str) or not voice.strip():
            raise ConfigError(f"{where} voice = {voice!r} is not a voice name", source,
                              fix='write e.g. voice = "ru"')
        recordings = data.get("recordings", base.recordings)
        if recordings not in RECORDING_POLICIES:
            raise ConfigError(f"{where} recordings = {recordings!r}", source,
                              fix=f"use one of: {', '.join(RECORDING_POLICIES)}")
        options = data.get("options", {} if "engine" in data else dict(base.options))
        if not isinstance(options, dict):
            raise ConfigError(f"{where} options must be a table", source,
                              fix=f"write it as [voices.{locale}.options]")
        fallback = data.get("fallback", None if "engine" in data else base.fallback)
        if isinstance(fallback, dict):
            fallback = cls.from_dict(locale, fallback, Voice(voice=locale.split("_")[0]),
                                     source, ".fallback")
        elif fallback is not None and not isinstance(fallback, Voice):
            raise ConfigError(f"{where} fallback must be a table", source,
                              fix=f"write it as [voices.{locale}.fallback] with engine and "
                                  "voice")
        return cls(engine, voice, cast(RecordingPolicy, recordings),
                   MappingProxyType(dict(options)), fallback)


def _espeak(voice: str, speed: int = 150) -> Voice:
    return Voice(voice=voice, options=MappingProxyType({"speed": speed}))


# Native voices where Debian has one (RHVoice, MBROLA hn1: scripts/voices.sh installs
# them), espeak-ng where they are not installed.
DEFAULT_VOICES: dict[str, Voice] = {
    "ko_KP": Voice("mbrola", "hn1", fallback=_espeak("ko", 140)),
    "ru": Voice("rhvoice", "aleksandr", fallback=_espeak("ru")),
    "uk": Voice("rhvoice", "anatol", fallback=_espeak("uk")),
    "en": _espeak("en"),
}

DEFAULT_LOCALES = ("ko_KP", "ru", "uk")


@dataclass(frozen=True)
class Config:
    root: Path
    locales: tuple[str, ...] = DEFAULT_LOCALES
    profiles: dict[str, Profile] = field(default_factory=lambda: dict(DEFAULT_PROFILES))
    default_profiles: tuple[str, ...] = ("radio", "usb", "shortwave")
    voices: dict[str, Voice] = field(default_factory=lambda: dict(DEFAULT_VOICES))
    workers: int = 0            # 0: one per core
    synthesis_timeout: float = DEFAULT_TIMEOUT_S
    speech_check: bool = False  # the render hears every message file (the [asr] extra)
    review: bool | tuple[str, ...] = False     # [review] required: all locales, or these

    def review_required(self, locale: str) -> bool:
        """Whether only messages a native reviewer approved leave in ``locale``."""
        return self.review is True or (isinstance(self.review, tuple) and locale in self.review)

    @property
    def layout(self) -> Layout:
        return Layout(self.root)

    def voice_for(self, locale: str) -> Voice:
        if locale in self.voices:
            return self.voices[locale]
        language = locale.split("_")[0]
        for known, voice in self.voices.items():
            if known.split("_")[0] == language:
                return voice
        return Voice(voice=language)

    def profile(self, name: str, asked_by: str | None = None) -> Profile:
        """The profile ``name``; unknown, it is the mistake of where it was asked for
        (``asked_by``, e.g. ``--profile``; by default the config, [render] profiles)."""
        try:
            return self.profiles[name]
        except KeyError:
            raise ConfigError(f"unknown profile '{name}'", asked_by or CONFIG_NAME,
                              fix=f"use one of: {', '.join(sorted(self.profiles))}") from None


def _read(path: Path) -> dict:
    source = str(path)
    text = read_utf8(path, ConfigError)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        line = int(match.group(1)) if match else text.rstrip("\n").count("\n") + 1
        problem = re.sub(r"\s*\(at .*\)$", "", str(exc))
        raise ConfigError(f"invalid TOML: {problem}", source, line,
                          fix="fix the syntax on this line (quotes, brackets, '=')") from None


def _table(data: dict, key: str, where: str, source: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a table", source, fix=f"write it as [{where}]")
    return value


def _names(value, what: str, pattern: re.Pattern, example: str, source: str) -> tuple:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ConfigError(f"{what} must be a list of names", source,
                          fix=f"write e.g. {what} = {example}")
    for name in value:
        if not pattern.match(name):
            raise ConfigError(f"{what} names '{name}', which is not a valid name", source,
                              fix=f"write e.g. {what} = {example}")
    if len(set(value)) != len(value):
        raise ConfigError(f"{what} names one entry twice", source, fix="remove the repeat")
    return tuple(value)


def load_config(root: Path) -> Config:
    """Read ``root/broadcast.toml`` if present; defaults otherwise."""
    root = Path(root)
    path = root / CONFIG_NAME
    if not path.is_file():
        return Config(root=root)
    source = str(path)
    data = _read(path)
    top = {"locales", "profiles", "voices", "render", "review"}
    for key in data:
        if key not in top:
            raise ConfigError(f"unknown section or key '{key}'", source,
                              fix=did_you_mean(key, top))
    kwargs: dict = {}
    if "locales" in data:
        kwargs["locales"] = _names(data["locales"], "locales", LOCALE_RE, '["ko_KP", "ru"]',
                                   source)
    profiles = dict(DEFAULT_PROFILES)
    for name, table in _table(data, "profiles", "profiles", source).items():
        if not PROFILE_RE.match(name):
            raise ConfigError(f"profile name '{name}' is not a valid name", source,
                              fix="use lower-case letters, digits, '-' and '_' (it becomes "
                                  "a folder name)")
        if not isinstance(table, dict):
            raise ConfigError(f"profiles.{name} must be a table", source,
                              fix=f"write it as [profiles.{name}]")
        table = dict(table)
        base_name = table.pop("base", name if name in profiles else None)
        if base_name is not None and base_name not in profiles:
            raise ConfigError(f"[profiles.{name}] base '{base_name}' is unknown", source,
                              fix=f"use one of: {', '.join(sorted(profiles))}")
        base = profiles[base_name] if base_name else None
        profiles[name] = Profile.from_dict(name, table, base, source)
    kwargs["profiles"] = profiles
    voices = dict(DEFAULT_VOICES)
    for locale, table in _table(data, "voices", "voices", source).items():
        if not LOCALE_RE.match(locale):
            raise ConfigError(f"[voices.{locale}] is not a locale code", source,
                              fix="use a code like ko_KP, ru, uk or en")
        if not isinstance(table, dict):
            raise ConfigError(f"voices.{locale} must be a table", source,
                              fix=f"write it as [voices.{locale}]")
        voice_base = voices.get(locale) or Voice(voice=locale.split("_")[0])
        voices[locale] = Voice.from_dict(locale, table, voice_base, source)
    kwargs["voices"] = voices
    render = _table(data, "render", "render", source)
    known_render = {"profiles", "workers", "synthesis_timeout", "speech_check"}
    for key in render:
        if key not in known_render:
            raise ConfigError(f"unknown key '{key}' in [render]", source,
                              fix=("it is called 'workers'" if key == "jobs"
                                   else did_you_mean(key, known_render)))
    if "profiles" in render:
        names = _names(render["profiles"], "[render] profiles", PROFILE_RE, '["radio", "usb"]',
                       source)
        for name in names:
            if name not in profiles:
                raise ConfigError(f"[render] profiles names unknown profile '{name}'", source,
                                  fix=f"use one of: {', '.join(sorted(profiles))}")
        if not names:
            raise ConfigError("[render] profiles is empty", source,
                              fix='name at least one, e.g. profiles = ["radio"]')
        kwargs["default_profiles"] = names
    if "workers" in render:
        workers = render["workers"]
        if isinstance(workers, bool) or not isinstance(workers, int) or \
                not 0 <= workers <= MAX_WORKERS:
            raise ConfigError(f"[render] workers = {workers!r} is not a number of workers",
                              source, fix=f"write a whole number from 0 (one per core) to "
                                          f"{MAX_WORKERS}")
        kwargs["workers"] = workers
    if "synthesis_timeout" in render:
        timeout = render["synthesis_timeout"]
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or \
                not 1 <= timeout <= 3600:
            raise ConfigError(f"[render] synthesis_timeout = {timeout!r} is not a time in seconds",
                              source, fix="write a number of seconds from 1 to 3600, e.g. 300")
        kwargs["synthesis_timeout"] = float(timeout)
    if "speech_check" in render:
        if not isinstance(render["speech_check"], bool):
            raise ConfigError(f"[render] speech_check = {render['speech_check']!r} is not true "
                              "or false", source, fix="write speech_check = true")
        kwargs["speech_check"] = render["speech_check"]
    review = _table(data, "review", "review", source)
    for key in review:
        if key != "required":
            raise ConfigError(f"unknown key '{key}' in [review]", source,
                              fix=did_you_mean(key, {"required"}))
    if "required" in review:
        required = review["required"]
        if isinstance(required, bool):
            kwargs["review"] = required
        else:
            kwargs["review"] = _names(required, "[review] required", LOCALE_RE,
                                      '["ko_KP", "ru"]', source)
    return Config(root=root, **kwargs)
