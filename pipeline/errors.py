"""Errors of the pipeline.

Every error names where the problem is (a file and, where known, a line) and ends with
the fix. Only the CLI turns them into exit codes and printed lines.
"""

from __future__ import annotations

import difflib
from pathlib import Path


def did_you_mean(word: str, choices) -> str:
    """The fix for an unknown name: the closest known one, or the list of them."""
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"known keys: {', '.join(sorted(choices))}"


class PipelineError(Exception):
    """Base class: ``file:line: problem; fix``.  ``exit_code`` is what the CLI returns."""

    exit_code = 2

    def __init__(self, message: str, file: str | Path | None = None,
                 line: int | None = None, fix: str | None = None):
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        text = where + self.message
        if self.fix:
            text += f"; {self.fix}"
        return text


class SourceError(PipelineError):
    """A message source (``messages/*.yaml``) is invalid."""


class ConfigError(PipelineError):
    """``broadcast.toml`` is invalid."""


class CatalogError(PipelineError):
    """A .pot/.po/.mo file is malformed or inconsistent."""


class EngineError(PipelineError):
    """A text-to-speech engine failed or is unknown."""

    exit_code = 1


class AudioError(PipelineError):
    """Audio could not be read, processed or encoded."""

    exit_code = 1
