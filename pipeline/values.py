"""Kinds of configuration values, as TOML gives them: one rule for profiles and engine
options alike (a ``bool`` is never a number; an ``int`` is a fine ``float``); and how a
count is written for people (:func:`counted`)."""

from __future__ import annotations

from typing import Any

__all__ = ["counted", "is_kind", "KIND_NAMES"]

KIND_NAMES = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}


def is_kind(value: Any, kind: type) -> bool:
    """True if ``value`` may stand for a ``kind`` (bool, int, float or str)."""
    if kind is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, (int, float))
    return isinstance(value, kind)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 file``, ``2 files``: a count with its noun in the right number."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
