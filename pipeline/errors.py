"""Errors of the pipeline.

Every error names where the problem is (a file and, where known, a line) and ends with
the fix. Only the CLI turns them into exit codes and printed lines.
"""

from __future__ import annotations

import difflib
from pathlib import Path

__all__ = ["AudioError", "AudioFileError", "BundleError", "CatalogError", "ConfigError",
           "did_you_mean", "EngineError", "EngineMissing", "MediaError", "os_error", "PipelineError",
           "ResourceError", "SignatureError", "SourceError", "SourceErrors"]


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

    def at(self, file: str | Path, context: str = "") -> "PipelineError":
        """The same error, as found in ``file`` (under ``context`` there, e.g. a table):
        for a part that does not know where its input was written, such as an engine."""
        message = f"{context} {self.message}" if context else self.message
        return type(self)(message, file, self.line, self.fix)

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        text = where + self.message
        if self.fix:
            text += f"; {self.fix}"
        # One line whatever a hostile input put into a name: control characters escaped.
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class SourceError(PipelineError):
    """A message source (``messages/*.yaml``) is invalid."""


class SourceErrors(SourceError):
    """Every independent mistake found in the message sources, one line each, in the
    order of the files and their lines (as a compiler reports them)."""

    def __init__(self, errors: list[SourceError]):
        self.errors = errors
        first = errors[0]
        super().__init__(first.message, first.file, first.line, first.fix)

    def __str__(self) -> str:
        return "\n".join(PipelineError.__str__(e) for e in self.errors)

    @staticmethod
    def raise_if_any(errors: list[SourceError]) -> None:
        """Raise the one mistake, or all of them; nothing if there is none."""
        flat = [e for err in errors for e in (err.errors if isinstance(err, SourceErrors)
                                              else [err])]
        if len(flat) == 1:
            raise flat[0]
        if flat:
            raise SourceErrors(flat)


class ConfigError(PipelineError):
    """``broadcast.toml`` is invalid."""


class CatalogError(PipelineError):
    """A .pot/.po/.mo file is malformed or inconsistent."""


class EngineError(PipelineError):
    """A text-to-speech engine failed or is unknown."""

    exit_code = 1


class EngineMissing(EngineError):
    """An engine, or the voice asked of it, is not installed on this machine: a locale
    whose voice names a fallback is spoken by that instead (and says so)."""


class AudioError(PipelineError):
    """Audio could not be read, processed or encoded."""

    exit_code = 1


class AudioFileError(AudioError):
    """A user's audio file itself is unusable (not plain audio, too long, undecodable),
    as opposed to the machine failing to decode it (no ffmpeg)."""


class SignatureError(PipelineError):
    """A key or signature is malformed, or a signature does not verify."""

    exit_code = 1


class BundleError(PipelineError):
    """A bundle is unsafe, incomplete, altered or unsigned where a signature is needed."""

    exit_code = 1


class ResourceError(PipelineError):
    """The operating system refused: no space, no permission, a read-only disk…"""

    exit_code = 1


class MediaError(PipelineError):
    """A stick or disk image could not be written."""

    exit_code = 1


def os_error(exc: OSError, path: str | Path | None, doing: str) -> ResourceError:
    """An operating-system failure as a one-line error naming the file and the fix."""
    import errno
    where = path if path is not None else getattr(exc, "filename", None)
    fixes = {
        errno.ENOSPC: "free space on that disk, then run the command again",
        errno.EDQUOT: "free space (disk quota), then run the command again",
        errno.EFBIG: "the file is larger than allowed here (ulimit -f?); raise the limit",
        errno.EACCES: "check the permissions of that folder",
        errno.EPERM: "check the permissions of that folder",
        errno.EROFS: "the disk is read-only; choose a writable folder",
        errno.ENOTDIR: "a file stands where a folder is expected; move it away",
        errno.EISDIR: "a folder stands where a file is expected; move it away",
        errno.ENOENT: "check that the path exists",
    }
    return ResourceError(f"cannot {doing}: {exc.strerror or exc}", where,
                         fix=fixes.get(exc.errno or 0, "check the disk and the path"))
