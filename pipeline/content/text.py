"""Text as it enters the project: one normalization, and what a text may not hold.

Every text that can be spoken or shown for review (campaign YAML, catalogs, lexicons,
glossaries, recording scripts) is read through :func:`nfc`, so that checks, cache keys,
bindings and voices all see the same string: a text saved in NFD (decomposed Hangul
jamo, й as и + breve) looks the same in every tool, but a voice reads it differently.

:func:`invisible` finds what a reviewer cannot see but a voice would act on: bidi
controls, zero-width characters, soft hyphens, tag characters, Hangul fillers, variation
selectors, private-use and unassigned code points. Line breaks and tabs are allowed; so
are the joiners a locale's script needs (ZWNJ in Persian, ZWJ and ZWNJ in the Indic
scripts), listed in :data:`JOINERS`.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["describe", "has_words", "invisible", "invisible_problem", "JOINERS", "nfc"]

# The joiners a language's spelling needs (Unicode's own examples; more by configuration
# of this table): everywhere else they hide inside a word and split it when spoken.
ZWNJ, ZWJ = "\u200c", "\u200d"
JOINERS: dict[str, str] = {
    **{lang: ZWNJ for lang in ("fa", "ps", "ur", "ckb", "ku", "tg")},
    **{lang: ZWNJ + ZWJ for lang in ("hi", "mr", "ne", "bn", "as", "gu", "pa", "or", "ta",
                                     "te", "kn", "ml", "si", "sa")},
}
# Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties) outside the categories
# refused below: letters and marks that render as nothing.
_IGNORABLE_RANGES = ((0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5),
                     (0x180B, 0x180F), (0x3164, 0x3164), (0xFE00, 0xFE0F),
                     (0xFFA0, 0xFFA0), (0xE0100, 0xE01EF))
# Categories never allowed: other controls (Cc, but line breaks and tabs), format (Cf),
# private use (Co), unassigned (Cn), surrogates (Cs), line and paragraph separators.
_REFUSED = {"Cc", "Cf", "Co", "Cn", "Cs", "Zl", "Zp"}


def nfc(text: str) -> str:
    """``text`` in Unicode Normalization Form C (composed): the one form the project uses."""
    return unicodedata.normalize("NFC", text)


_IGNORABLE = re.compile("[" + "".join(f"{chr(low)}-{chr(high)}"
                                      for low, high in _IGNORABLE_RANGES) + "]")


def invisible(text: str, language: str = "") -> tuple[int, str] | None:
    """The first character of ``text`` that a voice would act on but nobody sees, with
    its 0-based index; None if there is none. ``language`` (``fa``, ``hi`` …) allows the
    joiners its script needs."""
    allowed = "\n\t" + JOINERS.get(language, "")
    # Fast path: str.isprintable() is False for every refused category (and for spaces
    # other than U+0020, which are allowed): only then is each character looked at.
    if text.translate({ord(c): "x" for c in allowed}).isprintable():
        found = _IGNORABLE.search(text)
        return (found.start(), found.group()) if found else None
    for index, char in enumerate(text):
        if char in allowed:
            continue
        if unicodedata.category(char) in _REFUSED or _IGNORABLE.match(char):
            return index, char
    return None


def describe(char: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: a code point as a reviewer can look it up."""
    name = unicodedata.name(char, "") or {"Cn": "unassigned", "Co": "private use",
                                         "Cs": "surrogate", "Cc": "control"}.get(
        unicodedata.category(char), "")
    return f"U+{ord(char):04X} {name}".rstrip()


def invisible_problem(text: str, language: str = "") -> str | None:
    """One sentence naming the first invisible character of ``text`` and its column."""
    found = invisible(text, language)
    if found is None:
        return None
    index, char = found
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    where = f"column {column}" if line == 1 else f"line {line} of the text, column {column}"
    return (f"an invisible character {describe(char)} at {where}: a voice would act on "
            "what no reviewer sees; remove it")


def has_words(text: str) -> bool:
    """Whether ``text`` holds anything a voice says: a letter or a digit."""
    return any(unicodedata.category(c)[0] in "LN" for c in text)
