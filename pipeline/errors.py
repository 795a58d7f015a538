"""Errors of the pipeline.

Every error names where the problem is (a file and, where known, a line) and ends with
the fix. Only the CLI turns them into exit codes and printed lines.
"""

from __future__ import annotations

from pathlib import Path


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


class WorkFailed(PipelineError):
    """The work ran but its result is a failure (checks failed, nothing rendered)."""

    exit_code = 1
