"""Glossaries: ``locales/<locale>/glossary.tsv``, terms required, forbidden or kept."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..content.text import invisible_problem, nfc
from ..errors import ConfigError
from ..fsutil import read_utf8

__all__ = ["contains", "Glossary", "load_glossary"]


@dataclass(frozen=True)
class Glossary:
    required: tuple[tuple[str, str], ...] = ()      # (source term, target term)
    forbidden: tuple[tuple[str, str], ...] = ()     # (target term, what to use instead)
    keep: tuple[str, ...] = ()                      # do-not-translate terms

    @property
    def empty(self) -> bool:
        return not (self.required or self.forbidden or self.keep)


def load_glossary(path: Path) -> Glossary:
    """``locales/<locale>/glossary.tsv``: ``require<TAB>source<TAB>target``,
    ``forbid<TAB>term[<TAB>instead]``, ``keep<TAB>term``; ``#`` starts a comment."""
    path = Path(path)
    if not path.exists():
        return Glossary()
    required, forbidden, keep = [], [], []
    for number, line in enumerate(read_utf8(path, ConfigError).split("\n"), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in nfc(line.rstrip("\r")).split("\t")]
        problem = invisible_problem(" ".join(parts))
        if problem:
            raise ConfigError(f"this glossary line holds {problem.removeprefix('an ')}", path,
                              number, fix="retype the line")
        kind = parts[0]
        if kind == "require" and len(parts) == 3 and parts[1] and parts[2]:
            required.append((parts[1], parts[2]))
        elif kind == "forbid" and len(parts) in (2, 3) and parts[1]:
            forbidden.append((parts[1], parts[2] if len(parts) == 3 else ""))
        elif kind == "keep" and len(parts) == 2 and parts[1]:
            keep.append(parts[1])
        else:
            raise ConfigError(f"glossary line '{line[:40]}' is not understood", path, number,
                              fix="write 'require<TAB>source<TAB>target', "
                                  "'forbid<TAB>term<TAB>instead' or 'keep<TAB>term'")
    return Glossary(tuple(required), tuple(forbidden), tuple(keep))


def contains(text: str, term: str) -> bool:
    """Term at a word start (so inflected and agglutinated forms match), any case."""
    left = r"(?<!\w)" if term[:1].isalnum() else ""
    return re.search(left + re.escape(term), text, re.IGNORECASE) is not None
