"""The northern orthography of ko_KP: southern forms a northern listener would notice."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

__all__ = ["HANGUL", "ko_kp_allowed", "ko_kp_forms", "southern_forms"]

HANGUL = re.compile(r"[\uac00-\ud7a3]")


@lru_cache(maxsize=1)
def _rows() -> tuple[tuple[str, ...], ...]:
    text = resources.files("pipeline").joinpath("data/ko_kp_orthography.tsv") \
        .read_text(encoding="utf-8")
    return tuple(tuple(line.split("\t")) for line in text.split("\n")
                 if line.strip() and not line.startswith("#"))


def ko_kp_forms() -> tuple[tuple[str, str, str], ...]:
    """(kind, southern form, northern form) from the shipped list."""
    return tuple((r[0], r[1], r[2]) for r in _rows() if r[0] != "allow")


def ko_kp_allowed() -> tuple[str, ...]:
    """Correct words that hold a listed southern form inside them."""
    return tuple(r[1] for r in _rows() if r[0] == "allow")


def _syllables_before(text: str, index: int) -> int:
    """How many Hangul syllables of the same word come before ``index``."""
    count = 0
    while index - count > 0 and HANGUL.match(text[index - count - 1]):
        count += 1
    return count


def southern_forms(text: str) -> list[tuple[str, str]]:
    """(southern, northern) pairs for the southern forms in ``text``: where a word begins
    with one, or where one sits inside a compound after two or more syllables, outside
    every allowed word."""
    allowed = [(m.start(), m.end()) for word in ko_kp_allowed()
               for m in re.finditer(re.escape(word), text)]
    found = []
    for _kind, south, north in ko_kp_forms():
        for match in re.finditer(re.escape(south), text):
            start, end = match.span()
            if _syllables_before(text, start) == 1:
                continue
            if any(a <= start and end <= b for a, b in allowed):
                continue
            found.append((south, north))
            break
    return found
