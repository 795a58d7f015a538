"""The case and gender a number takes from the noun it counts, read by morphology.

A table of prepositions cannot cover a language ("Протягом 3 днів", "з 1 родиною"): the
noun after the number says more. pymorphy3, with its Ukrainian dictionary (PyPI, the
dictionary inside the wheel), tells every case and gender a word form can have; where
the form leaves one case, that is the number's, whatever the word before it governs.
Russian numbers are read by ru-normalizr (:mod:`.textnorm`), which measured better than
rules of our own (``scripts/read_numbers.py``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["agreement", "analyzer", "hour_ordinal", "HOUR_WORDS", "share_grammemes"]

_CASE = {"nomn": "nominative", "gent": "genitive", "datv": "dative", "accs": "accusative",
         "ablt": "instrumental", "loct": "locative", "voct": "nominative"}
_GENDER = {"masc": "m", "femn": "f", "neut": "n"}
# The hour after "о"/"об" (о 21 годині): an ordinal, feminine, locative.
HOUR_WORDS = {"uk": ("годині",)}


@lru_cache(maxsize=4)
def analyzer(lang: str) -> Any:
    """pymorphy3's analyzer for ``lang`` (its dictionary loaded once), or None."""
    try:
        import pymorphy3
        morph = pymorphy3.MorphAnalyzer(lang=lang)
    except (ImportError, ValueError, OSError):
        return None
    share_grammemes(morph.TagClass)
    return morph


def share_grammemes(tag_class: Any) -> None:
    """pymorphy3 keeps one tag class for every dictionary (its storage's "FIXME: clone
    the class"): loading the Ukrainian dictionary would forget the Russian grammemes
    (loc2, gen2…) that ru-normalizr's Russian analyzer asks about in the same process.
    The tag class is given the grammemes of both dictionaries."""
    import json
    from pathlib import Path
    lists = []
    for name in ("pymorphy3_dicts_ru", "pymorphy3_dicts_uk"):
        try:
            package = __import__(name)
        except ImportError:
            continue
        lists.append(json.loads((Path(package.get_path()) / "grammemes.json")
                                .read_text(encoding="utf-8")))
    seen: set[str] = set()
    union = []
    for grammemes in lists:
        for g in grammemes:
            if g[0] not in seen:
                seen.add(g[0])
                union.append(g)
    tag_class._init_grammemes(union)


@lru_cache(maxsize=4096)
def _forms(word: str, lang: str) -> tuple[frozenset[str], frozenset[str], bool]:
    """The cases, genders (m/f/n) and animacy a noun form may have."""
    morph = analyzer(lang)
    if morph is None:
        return frozenset(), frozenset(), False
    parses = [p for p in morph.parse(word.lower()) if p.tag.POS in ("NOUN", "ADJF")]
    cases = frozenset(_CASE[str(p.tag.case)] for p in parses if str(p.tag.case) in _CASE)
    genders = frozenset(_GENDER[str(p.tag.gender)] for p in parses
                        if str(p.tag.gender) in _GENDER)
    animate = any(str(p.tag.animacy) == "anim" for p in parses)
    return cases, genders, animate


def agreement(noun: str, lang: str, value: int, governed: str) -> tuple[str, str | None]:
    """The case of ``value`` before ``noun`` (``governed``: what the word before the
    number governs, "nominative" if nothing) and the noun's gender where one form says
    it."""
    cases, genders, animate = _forms(noun, lang)
    gender = next(iter(genders)) if len(genders) == 1 else None
    if not cases:
        return governed, gender
    paucal = value % 10 in (2, 3, 4) and value % 100 not in (12, 13, 14)
    if len(cases) == 1 and governed not in cases:
        case = next(iter(cases))
        # After 2-4 and 5+, a noun in the nominative or accusative stands in the genitive
        # ("три дні", "п'ять днів"): the number itself is nominative then.
        if case == "genitive" and not (paucal or value % 10 == 1):
            return governed, gender
        return case, gender
    if governed == "accusative" and animate and paucal:
        return "genitive", gender           # про трьох полонених: animate accusative
    if governed == "nominative" and paucal and cases <= {"genitive", "accusative",
                                                         "locative"}:
        return "genitive", gender           # у трьох полонених, протягом трьох днів
    return governed, gender


def hour_ordinal(cardinal_ordinal: str) -> str:
    """An ordinal's feminine locative: "двадцять перший" → "двадцять першій"."""
    words = cardinal_ordinal.split()
    last = words[-1]
    if last.endswith("ій"):
        pass                                # третій
    elif last.endswith("ий"):
        last = last[:-2] + "ій"
    words[-1] = last
    return " ".join(words)
