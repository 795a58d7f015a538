"""Project configuration: ``broadcast.toml``, with every default in one place.

A project works without the file. Everything a user may set is a dataclass field
here or in :mod:`pipeline.profiles`.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError, did_you_mean
from .profiles import DEFAULT_PROFILES, Profile

CONFIG_NAME = "broadcast.toml"

RECORDING_POLICIES = ("prefer", "require", "ignore")


@dataclass(frozen=True)
class Voice:
    """How one locale is spoken."""

    engine: str = "espeak"
    voice: str = "en"
    speed: int = 150            # words per minute (espeak); gTTS uses slow=speed<120
    pitch: int = 50             # 0-100 (espeak)
    recordings: str = "prefer"  # prefer a fresh recording, else TTS | require | ignore
    tld: str = "com"            # gTTS only

    @classmethod
    def from_dict(cls, locale: str, data: dict, base: "Voice", source: str) -> "Voice":
        names = {f.name for f in dataclasses.fields(cls)}
        for key in data:
            if key not in names:
                raise ConfigError(f"unknown key '{key}' in [voices.{locale}]", source,
                                  fix=did_you_mean(key, names))
        values = dataclasses.asdict(base)
        values.update(data)
        if values["recordings"] not in RECORDING_POLICIES:
            raise ConfigError(f"[voices.{locale}] recordings = '{values['recordings']}'",
                              source, fix=f"use one of: {', '.join(RECORDING_POLICIES)}")
        for key in ("speed", "pitch"):
            if not isinstance(values[key], int) or isinstance(values[key], bool):
                raise ConfigError(f"[voices.{locale}] {key} must be a whole number", source,
                                  fix=f"write e.g. {key} = {getattr(base, key)}")
        return cls(**values)


DEFAULT_VOICES: dict[str, Voice] = {
    "ko_KP": Voice(voice="ko", speed=140),
    "ru": Voice(voice="ru", speed=150),
    "uk": Voice(voice="uk", speed=150),
    "en": Voice(voice="en", speed=150),
}

DEFAULT_LOCALES = ("ko_KP", "ru", "uk")


@dataclass(frozen=True)
class Config:
    root: Path
    locales: tuple[str, ...] = DEFAULT_LOCALES
    profiles: dict[str, Profile] = field(default_factory=lambda: dict(DEFAULT_PROFILES))
    default_profiles: tuple[str, ...] = ("radio", "usb", "shortwave")
    voices: dict[str, Voice] = field(default_factory=lambda: dict(DEFAULT_VOICES))
    jobs: int = 0               # 0: one per core

    @property
    def messages_dir(self) -> Path:
        return self.root / "messages"

    @property
    def locales_dir(self) -> Path:
        return self.root / "locales"

    @property
    def out_dir(self) -> Path:
        return self.root / "audio_out"

    def voice_for(self, locale: str) -> Voice:
        if locale in self.voices:
            return self.voices[locale]
        language = locale.split("_")[0]
        for known, voice in self.voices.items():
            if known.split("_")[0] == language:
                return voice
        return Voice(voice=language)

    def profile(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            raise ConfigError(f"unknown profile '{name}'", CONFIG_NAME,
                              fix=f"use one of: {', '.join(sorted(self.profiles))}") from None




def load_config(root: Path) -> Config:
    """Read ``root/broadcast.toml`` if present; defaults otherwise."""
    root = Path(root)
    path = root / CONFIG_NAME
    if not path.exists():
        return Config(root=root)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8", source, fix="save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        line = int(match.group(1)) if match else text.rstrip("\n").count("\n") + 1
        problem = re.sub(r"\s*\(at .*\)$", "", str(exc))
        raise ConfigError(f"invalid TOML: {problem}", source, line,
                          fix="fix the syntax on this line (quotes, brackets, '=')") from None
    top = {"locales", "profiles", "voices", "render"}
    for key in data:
        if key not in top:
            raise ConfigError(f"unknown section or key '{key}'", source,
                              fix=did_you_mean(key, top))
    kwargs: dict = {}
    if "locales" in data:
        locales = data["locales"]
        if not isinstance(locales, list) or not all(isinstance(x, str) for x in locales):
            raise ConfigError("locales must be a list of locale codes", source,
                              fix='write e.g. locales = ["ko_KP", "ru"]')
        kwargs["locales"] = tuple(locales)
    profiles = dict(DEFAULT_PROFILES)
    for name, table in data.get("profiles", {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"profiles.{name} must be a table", source,
                              fix=f"write it as [profiles.{name}]")
        table = dict(table)
        base_name = table.pop("base", name if name in profiles else None)
        base = profiles.get(base_name) if base_name else None
        if base_name and base is None:
            raise ConfigError(f"[profiles.{name}] base '{base_name}' is unknown", source,
                              fix=f"use one of: {', '.join(sorted(profiles))}")
        profiles[name] = Profile.from_dict(name, table, base, source)
    kwargs["profiles"] = profiles
    voices = dict(DEFAULT_VOICES)
    for locale, table in data.get("voices", {}).items():
        if not isinstance(table, dict):
            raise ConfigError(f"voices.{locale} must be a table", source,
                              fix=f"write it as [voices.{locale}]")
        base = voices.get(locale) or Voice(voice=locale.split("_")[0])
        voices[locale] = Voice.from_dict(locale, table, base, source)
    kwargs["voices"] = voices
    render = data.get("render", {})
    known_render = {"profiles", "jobs"}
    for key in render:
        if key not in known_render:
            raise ConfigError(f"unknown key '{key}' in [render]", source,
                              fix=did_you_mean(key, known_render))
    if "profiles" in render:
        for name in render["profiles"]:
            if name not in profiles:
                raise ConfigError(f"[render] profiles names unknown profile '{name}'", source,
                                  fix=f"use one of: {', '.join(sorted(profiles))}")
        kwargs["default_profiles"] = tuple(render["profiles"])
    if "jobs" in render:
        kwargs["jobs"] = int(render["jobs"])
    return Config(root=root, **kwargs)
