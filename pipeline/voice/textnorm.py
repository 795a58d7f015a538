"""Text normalization before synthesis: what the voice should say, not what is written.

Per locale, a list of small ``str → str`` steps: the lexicon (term → spoken form),
symbols, numbers to words (num2words; Korean gets the Sino-Korean numerals that radio
uses), then whitespace.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Callable

from num2words import num2words

from ..content.locales import language_of
from ..errors import ConfigError
from ..fsutil import read_utf8

Step = Callable[[str], str]

# num2words' language for a locale; Korean defaults to Sino-Korean numerals (삼만, 칠 점 이).
NUM_LANG = {"ko": "ko", "ru": "ru", "uk": "uk", "en": "en"}

SYMBOLS = {
    "ko": {"%": "퍼센트", "&": " 그리고 ", "+": " 더하기 ", "№": "번호 ", "°": "도"},
    "ru": {"%": " процентов", "&": " и ", "+": " плюс ", "№": "номер ", "°": " градусов"},
    "uk": {"%": " відсотків", "&": " і ", "+": " плюс ", "№": "номер ", "°": " градусів"},
    "en": {"%": " percent", "&": " and ", "+": " plus ", "№": "number ", "°": " degrees"},
}

# Thousands groups: "30,000" (en, ko), "30 000" with a space, no-break or thin space (ru, uk).
_GROUPED = r"\d{1,3}(?:[,\u00a0\u202f ]\d{3})+"
_NUMBER = re.compile(rf"(?<![\d.,])({_GROUPED}|\d+)(?:([.,])(\d+))?(?!\d)")


def numbers_to_words(text: str, lang: str) -> str:
    """Spell out numbers. A comma before exactly three digits groups thousands in en/ko."""
    if lang not in NUM_LANG:
        return text

    def spell(match: re.Match) -> str:
        whole, sep, frac = match.group(1), match.group(2), match.group(3)
        digits = re.sub(r"[,\u00a0\u202f ]", "", whole)
        if sep == "," and lang in ("en", "ko") and len(frac) == 3 and "," not in whole[-4:-3]:
            digits, sep, frac = digits + frac, None, None
        if sep and frac:
            if frac.startswith("0") or len(frac) > 3:
                # "7.05" → "seven point zero five": read digits one by one
                words = num2words(int(digits), lang=NUM_LANG[lang]) + " " + \
                    _point(lang) + " " + " ".join(num2words(int(d), lang=NUM_LANG[lang])
                                                  for d in frac)
            else:
                words = num2words(float(f"{digits}.{frac}"), lang=NUM_LANG[lang])
        else:
            words = num2words(int(digits), lang=NUM_LANG[lang])
        return words

    return _NUMBER.sub(spell, text)


def _point(lang: str) -> str:
    return {"ko": "점", "ru": "точка", "uk": "кома", "en": "point"}[lang]


def symbols(text: str, lang: str) -> str:
    for sign, word in SYMBOLS.get(lang, {}).items():
        text = text.replace(sign, word)
    # Dashes and ellipses are pauses; quotes and brackets are not read aloud.
    text = re.sub(r"\s*[—–]\s*", ", ", text)
    text = text.replace("…", ".")
    text = re.sub(r"[«»\"“”„()\[\]]", "", text)
    return text


def whitespace(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([,.!?;:])", r"\1", text)


def load_lexicon(path: Path) -> list[tuple[str, str]]:
    """``term<TAB>spoken form`` per line; ``#`` starts a comment. Longest terms first."""
    path = Path(path)
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(read_utf8(path, ConfigError).split("\n"), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.rstrip("\r").split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise ConfigError("a lexicon line must be 'term<TAB>spoken form'", path, number,
                              fix="separate the term and its spoken form with one tab")
        entries.append((parts[0].strip(), parts[1].strip()))
    return sorted(entries, key=lambda e: -len(e[0]))


def apply_lexicon(text: str, entries: list[tuple[str, str]]) -> str:
    for term, spoken in entries:
        # Whole words only for terms that start/end with a word character.
        left = r"(?<!\w)" if term[0].isalnum() else ""
        right = r"(?!\w)" if term[-1].isalnum() else ""
        text = re.sub(left + re.escape(term) + right, spoken.replace("\\", r"\\"), text)
    return text


def steps_for(locale: str, lexicon: list[tuple[str, str]] | None = None) -> list[Step]:
    lang = language_of(locale)
    steps: list[Step] = []
    if lexicon:
        steps.append(partial(apply_lexicon, entries=lexicon))
    steps += [partial(symbols, lang=lang), partial(numbers_to_words, lang=lang), whitespace]
    return steps


def normalize(text: str, locale: str, lexicon: list[tuple[str, str]] | None = None) -> str:
    """What the voice for ``locale`` should read for ``text``."""
    for step in steps_for(locale, lexicon):
        text = step(text)
    return text
