"""Text-to-speech engines behind one small interface, found by name and built with options.

Lookup order: the built-ins (their names always mean them), then the ``pipeline.engines``
entry-point group of the installed packages. A project names engines, it never imports
code: opening a partner's project must not run anything it carries, so there is no
``"module:Class"`` path. Engines import lazily: naming ``gtts`` never loads espeak-ng.

An engine class is built from its own options (a table of the project's configuration):
checked against the class's ``OPTIONS`` schema (``{key: (type, low,
high)}``, see :func:`check_options`) and passed to its constructor, or handed to its
``from_options`` if it needs more; a bad option is an :class:`OptionError`. Engines never
read project configuration, and their errors name no file: whoever read the setting says
where it was (:meth:`pipeline.errors.PipelineError.at`).
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from ...audio.dsp import Audio
from ...errors import ConfigError
from ...values import KIND_NAMES, is_kind

__all__ = ["BUILTIN", "cache_key", "check_options", "Engine", "engine_class", "forget_engines", "get_engine",
           "known_engines", "OptionError", "preset", "SpeechRequest"]

BUILTIN = {
    "espeak": "pipeline.voice.engines.espeak:EspeakEngine",
    "gtts": "pipeline.voice.engines.gtts_engine:GttsEngine",
    "kokoro": "pipeline.voice.engines.kokoro:KokoroEngine",
    "festival": "pipeline.voice.engines.festival:FestivalEngine",
    "rhvoice": "pipeline.voice.engines.rhvoice:RhvoiceEngine",
    "mbrola": "pipeline.voice.engines.mbrola:MbrolaEngine",
}


class OptionError(ValueError):
    """An engine option is unknown or has a bad value: ``key`` and what to write instead."""

    def __init__(self, key: str, problem: str, fix: str):
        super().__init__(f"{key}: {problem}")
        self.key, self.problem, self.fix = key, problem, fix


@dataclass(frozen=True)
class SpeechRequest:
    """What to say: normalized text, its locale, and the engine's voice name."""

    text: str
    locale: str
    voice: str


@runtime_checkable
class Engine(Protocol):
    name: str
    offline: bool               # True: never touches the network

    def version(self) -> str:
        """Everything about the engine that changes its audio (library and data versions)."""

    def options(self) -> dict[str, Any]:
        """This engine's own options, normalized: part of every cache key."""

    def synthesize(self, request: SpeechRequest) -> Audio:
        """PCM samples and their rate for the request's text."""

    def seconds_per_char(self, language: str) -> float:
        """Spoken seconds per non-space character: the speech stage's duration estimate."""


def cache_key(engine: Engine, request: SpeechRequest) -> str:
    """Hash of what changes the audio: engine, version, locale, voice, text, own options."""
    payload = {"engine": engine.name, "version": engine.version(),
               "options": engine.options(), "locale": request.locale,
               "voice": request.voice, "text": request.text}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def _registered() -> list[Any]:
    """The engines other packages register (``pipeline.engines`` entry points). Imported
    here: a build with built-in engines never reads the installed packages' metadata."""
    from importlib.metadata import entry_points
    return list(entry_points(group="pipeline.engines"))


def known_engines() -> list[str]:
    names = set(BUILTIN)
    names.update(ep.name for ep in _registered())
    return sorted(names)


def engine_class(name: str) -> type:
    """The class registered as ``name``: a built-in engine's, else one an installed package
    registers under the ``pipeline.engines`` entry point (a built-in's name always means
    the built-in one, and the installed packages are not searched for it); an unknown name
    lists the known ones."""
    path = BUILTIN.get(name)
    if path is None:
        for ep in _registered():
            if ep.name == name:
                path = ep.value
                break
        else:
            raise ConfigError(f"unknown engine '{name}'",
                              fix=f"use one of: {', '.join(known_engines())}, or install "
                                  "the package that registers it (entry-point group "
                                  "pipeline.engines)")
    module, _, attr = path.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load engine '{name}': {exc}",
                          fix="reinstall the package that provides it") from None


_instances: dict[str, Engine] = {}


def preset(name: str, options: Mapping[str, Any], engine: Engine) -> None:
    """Make ``engine`` the instance :func:`get_engine` returns for ``name`` and
    ``options`` in this process (for an application embedding the pipeline with an engine
    it built itself, and for tests that point an engine at a local server)."""
    _instances[json.dumps([name, dict(options)], sort_keys=True, default=str)] = engine


def forget_engines() -> None:
    """Drop every instance :func:`get_engine` keeps: the next call builds a new one."""
    _instances.clear()


def get_engine(name: str, options: Mapping[str, Any] | None = None) -> Engine:
    """The engine ``name`` built with ``options``: validated by the engine once per
    process and options (one instance each), so that every job of a build reuses it."""
    options = dict(options or {})
    memo = json.dumps([name, options], sort_keys=True, default=str)
    if memo in _instances:
        return _instances[memo]
    cls = engine_class(name)
    build = getattr(cls, "from_options", None)
    schema = getattr(cls, "OPTIONS", None)
    try:
        if build:
            engine = build(options)
        elif schema is not None:
            engine = cls(**check_options(options, schema))
        else:
            engine = cls(**options) if options else cls()
    except OptionError as exc:
        raise ConfigError(f"option {exc.key}: {exc.problem}", fix=exc.fix) from None
    except TypeError as exc:
        raise ConfigError(f"engine '{name}' does not take these options: {exc}",
                          fix="check the engine's options") from None
    if not isinstance(engine, Engine):
        raise ConfigError(f"engine '{name}' lacks name, offline, version(), options(), "
                          "synthesize() or seconds_per_char()",
                          fix="implement pipeline.voice.engines.Engine")
    _instances[memo] = engine
    return engine


def check_options(options: Mapping[str, Any], schema: Mapping[str, tuple[type, Any, Any]],
                  ) -> dict[str, Any]:
    """Validate ``options`` against ``{key: (type, low, high)}`` (``low``/``high`` bound
    numbers, or list the allowed texts when ``low`` is a tuple); defaults are the caller's."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key not in schema:
            raise OptionError(key, "unknown option",
                              f"use one of: {', '.join(sorted(schema))}")
        kind, low, high = schema[key]
        if not is_kind(value, kind):
            example = {bool: "true", str: '"…"'}.get(kind, low)
            raise OptionError(key, f"{value!r} is not {KIND_NAMES[kind]}",
                              f"write e.g. {key} = {example}")
        if kind in (int, float) and not low <= value <= high:
            raise OptionError(key, f"{value} is outside {low}..{high}",
                              f"choose a value from {low} to {high}")
        if kind is str and isinstance(low, tuple) and value not in low:
            raise OptionError(key, f"'{value}' is not known", f"use one of: {', '.join(low)}")
        out[key] = value
    return out
