"""Text-to-speech engines behind one small interface, found by name.

Lookup order: the ``pipeline.engines`` entry-point group, then the built-ins, then a
``"module:Class"`` path. Engines import lazily: naming ``gtts`` never loads espeak-ng.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import asdict, dataclass
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

from ..audio import Audio
from ..config import Voice
from ..errors import ConfigError

BUILTIN = {
    "espeak": "pipeline.engines.espeak:EspeakEngine",
    "gtts": "pipeline.engines.gtts_engine:GttsEngine",
}


@dataclass(frozen=True)
class SpeechRequest:
    """What to say and how: normalized text, the locale and its voice."""

    text: str
    locale: str
    voice: Voice


@runtime_checkable
class Engine(Protocol):
    name: str

    def version(self) -> str:
        """Everything about the engine that changes its audio (library and data versions)."""

    def synthesize(self, request: SpeechRequest) -> Audio:
        """PCM samples and their rate for the request's text."""


def cache_key(engine: Engine, request: SpeechRequest) -> str:
    """Hash of everything that changes the audio: engine, version, voice, speed, text."""
    payload = {"engine": engine.name, "version": engine.version(),
               "voice": asdict(request.voice), "locale": request.locale,
               "text": request.text}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def known_engines() -> list[str]:
    names = set(BUILTIN)
    names.update(ep.name for ep in entry_points(group="pipeline.engines"))
    return sorted(names)


_instances: dict[str, Engine] = {}


def get_engine(name: str) -> Engine:
    """The engine called ``name`` (one instance per process)."""
    if name in _instances:
        return _instances[name]
    target = None
    for ep in entry_points(group="pipeline.engines"):
        if ep.name == name:
            target = ep.load()
            break
    if target is None:
        path = BUILTIN.get(name) or (name if ":" in name else None)
        if path is None:
            raise ConfigError(f"unknown engine '{name}'", "broadcast.toml",
                              fix=f"use one of: {', '.join(known_engines())}, "
                                  "or 'package.module:Class'")
        module, _, attr = path.partition(":")
        try:
            target = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"cannot load engine '{name}': {exc}", "broadcast.toml",
                              fix=f"use one of: {', '.join(known_engines())}") from None
    engine = target()
    if not isinstance(engine, Engine):
        raise ConfigError(f"engine '{name}' lacks name, version() or synthesize()",
                          "broadcast.toml", fix="implement pipeline.engines.Engine")
    _instances[name] = engine
    return engine
