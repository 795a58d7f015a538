"""The northern orthography of ko_KP: southern forms a northern listener would notice."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def ko_kp_forms() -> tuple[tuple[str, str, str], ...]:
    """(kind, southern form, northern form) from the shipped list."""
    text = resources.files("pipeline").joinpath("data/ko_kp_orthography.tsv") \
        .read_text(encoding="utf-8")
    rows = []
    for line in text.split("\n"):
        if line.strip() and not line.startswith("#"):
            kind, south, north = line.split("\t")
            rows.append((kind, south, north))
    return tuple(rows)


def southern_forms(text: str) -> list[tuple[str, str]]:
    """(southern, northern) pairs for each southern form that begins a word in ``text``."""
    found = []
    for _kind, south, north in ko_kp_forms():
        if re.search(r"(?<![\w])" + re.escape(south), text):
            found.append((south, north))
    return found
