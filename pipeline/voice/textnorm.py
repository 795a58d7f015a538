"""Text normalization before synthesis: what the voice should say, not what is written.

Per locale, a list of small ``str → str`` steps: the lexicon (term → spoken form),
symbols, numbers to words (num2words, told the case and gender of the words around
each number; Korean native numerals before native counters, Sino-Korean elsewhere), then
whitespace.
"""

from __future__ import annotations

import re
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Callable

from num2words import num2words

from ..content import numerals
from ..content.locales import language_of
from ..content.text import invisible_problem, nfc
from ..errors import ConfigError
from ..fsutil import read_utf8
from . import morphology

__all__ = ["apply_lexicon", "load_lexicon", "LOCALE_SYMBOLS", "normalize", "NUM_LANG",
           "numbers_to_words", "SILENT", "Step", "steps_for", "SYMBOLS", "symbols",
           "whitespace"]

Step = Callable[[str], str]

# num2words' language for a locale; Korean defaults to Sino-Korean numerals (삼만, 칠 점 이).
NUM_LANG = {"ko": "ko", "ru": "ru", "uk": "uk", "en": "en"}

# Symbols read as words, per language; a locale's own entries come first (ko_KP: 프로).
SYMBOLS = {
    "ko": {"%": "퍼센트", "&": " 그리고 ", "+": " 더하기 ", "№": "번호 ", "°": "도"},
    "ru": {"%": " процентов", "&": " и ", "+": " плюс ", "№": "номер ", "°": " градусов"},
    "uk": {"%": " відсотків", "&": " і ", "+": " плюс ", "№": "номер ", "°": " градусів"},
    "en": {"%": " percent", "&": " and ", "+": " plus ", "№": "number ", "°": " degrees"},
}
LOCALE_SYMBOLS = {"ko_KP": {"%": "프로"}}
# Marks that are not read aloud: quotes (North Korean 《》〈〉「」『』 too) and brackets.
SILENT = "«»\"“”„()[]《》〈〉「」『』"

# Thousands groups: "30,000" (en, ko), "30 000" with a space, no-break or thin space (ru, uk).
_GROUPED = r"\d{1,3}(?:[,\u00a0\u202f ]\d{3})+"
_NUMBER = re.compile(rf"(?<![\d.,])({_GROUPED}|\d+)(?:([.,])(\d+))?(?!\d)")
_WORD_BEFORE = re.compile(r"(\w+)\s*$")
_WORD_AFTER = re.compile(r"^\s*(\w+)")
# A Korean native counter right after the digits: not a Sino word that starts like one
# (개월, 달러, 시대, 명령, 번호, 장관, 장군, 장소, 대학, 대회), nor an ordinal (제2장).
_KO_COUNTED = re.compile(r"(?<![\d.,제])(\d+)\s?(" + "|".join(
    sorted(numerals.KO_NATIVE_COUNTERS, key=len, reverse=True)) + r")(?!월|러|대|령|호|관|군|소|학|회)")
# A Sino-Korean number is a word of its own before the unit it counts (오 분, 백 달러,
# 칠 점 이 메가헤르쯔), except in dates (이천이십사년 삼월 오일) and before a number
# word (3만 → 삼만).
_KO_FUSED = ("년", "월", "일", "만", "천", "백", "억", "조", "십")


_MAX_DIGITS = 15                # a quadrillion; longer (a recognizer's hallucination) is digits


def numbers_to_words(text: str, lang: str) -> str:
    """Spell out numbers. A comma before exactly three digits groups thousands in en/ko.

    Russian and Ukrainian integers take the case of the word before them and the gender
    of the word after; Korean uses native numerals before a native counter.
    """
    text = numerals.ungroup(text, lang)
    if lang not in NUM_LANG:
        return text
    if lang == "ko":
        text = _KO_COUNTED.sub(_korean_counted, text)
    if lang == "ru" and _NUMBER.search(text):
        text = _russian(text)

    def spell(match: re.Match) -> str:
        whole, sep, frac = match.group(1), match.group(2), match.group(3)
        digits = re.sub(r"[,\u00a0\u202f ]", "", whole)
        if sep == "," and lang in ("en", "ko") and len(frac) == 3 and "," not in whole[-4:-3]:
            digits, sep, frac = digits + frac, None, None
        if sep and frac and lang == "uk" and len(frac) <= 3:
            return _ukrainian_decimal(int(digits), int(frac), len(frac))
        if sep and frac:
            if frac.startswith("0") or len(frac) > 3:
                # "7.05" → "seven point zero five": read digits one by one
                return num2words(int(digits), lang=NUM_LANG[lang]) + " " + \
                    _point(lang) + " " + " ".join(num2words(int(d), lang=NUM_LANG[lang])
                                                  for d in frac)
            return num2words(float(f"{digits}.{frac}"), lang=NUM_LANG[lang])
        if lang in numerals.CASES:
            before = _WORD_BEFORE.search(match.string[:match.start()])
            after = _WORD_AFTER.match(match.string[match.end():])
            case = numerals.governed_case(before.group(1), lang) if before else "nominative"
            if after and after.group(1).lower() in numerals.MONTHS[lang] and 1 <= int(digits) <= 31:
                if before and before.group(1).lower() in ("с", "со"):
                    case = "genitive"
                return numerals.date_day(int(digits), lang, case)
            noun_gender = None
            if lang == "uk" and after:
                if (before and before.group(1).lower() in ("о", "об")
                        and after.group(1).lower() in morphology.HOUR_WORDS["uk"]):
                    return morphology.hour_ordinal(num2words(int(digits), lang="uk",
                                                             to="ordinal"))
                case, noun_gender = morphology.agreement(after.group(1), lang, int(digits),
                                                         case)
            gender = noun_gender or (numerals.gender_of(after.group(1), lang, int(digits), case)
                                     if after else "m")
            return numerals.cyrillic(int(digits), lang, case, gender)
        return num2words(int(digits), lang=NUM_LANG[lang])

    def spell_apart(match: re.Match) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if len(digits) > _MAX_DIGITS:   # no quantity a message says: one by one
            said = " ".join(num2words(int(d), lang=NUM_LANG[lang]) for d in digits)
        else:
            said = spell(match)
        after = match.string[match.end():match.end() + 1]
        if lang == "ko" and after and "가" <= after <= "힣" and after not in _KO_FUSED:
            said += " "
        return said

    return _NUMBER.sub(spell_apart, text)


# ru-normalizr with its number stages only: abbreviations, capitals, Latin letters and
# punctuation stay as the translator wrote them.
_RU_STAGES: dict[str, Any] = dict(cleanup_malformed_punctuation=False, enable_caps_normalization=False,
                  enable_first_word_decap=False, remove_links=False,
                  enable_url_normalization=False, enable_year_normalization=True,
                  enable_roman_normalization=False, enable_math_normalization=False,
                  enable_dates_time_normalization=True, enable_numeral_normalization=True,
                  enable_abbreviation_expansion=False,
                  enable_contextual_abbreviation_expansion=False,
                  enable_years_ago_expansion=False, enable_initials_expansion=False,
                  enable_letter_abbreviation_expansion=False,
                  enable_dictionary_normalization=False, enable_latinization=False)


@lru_cache(maxsize=1)
def _ru_normalizer() -> Callable[[str], str] | None:
    try:
        import ru_normalizr
    except ImportError:
        return None
    options = ru_normalizr.NormalizeOptions(**_RU_STAGES)
    read = partial(ru_normalizr.normalize, options=options)
    read("1 день")                  # its analyzer loaded now, then the tag class shared
    from pymorphy3.tagset import OpencorporaTag
    morphology.share_grammemes(OpencorporaTag)
    return read


def _russian(text: str) -> str:
    """Russian numbers read in the case and gender the sentence gives them (ru-normalizr,
    on pymorphy3); this module's own reading where it is not installed."""
    read = _ru_normalizer()
    return read(text) if read is not None else text


_UK_PARTS = {1: ("десята", "десятих"), 2: ("сота", "сотих"), 3: ("тисячна", "тисячних")}


def _ukrainian_decimal(whole: int, frac: int, places: int) -> str:
    """7,2 → "сім цілих дві десятих", 1,5 → "одна ціла п'ять десятих"."""
    one, many = _UK_PARTS[places]

    def part(value: int, singular: str, plural: str) -> str:
        single = value % 10 == 1 and value % 100 != 11
        return f"{numerals.cyrillic(value, 'uk', 'nominative', 'f')} " + \
            (singular if single else plural)
    return f"{part(whole, 'ціла', 'цілих')} {part(frac, one, many)}"


def _korean_counted(match: re.Match) -> str:
    value, counter = int(match.group(1)), match.group(2)
    limit = 12 if counter == "시" else 99
    native = numerals.korean_native(value, counter=counter) if value <= limit else None
    if native is None:
        return match.group(0)
    return f"{native} {counter}"


def _point(lang: str) -> str:
    return {"ko": "점", "ru": "точка", "uk": "кома", "en": "point"}[lang]


def symbols(text: str, lang: str, locale: str = "") -> str:
    table = {**SYMBOLS.get(lang, {}), **LOCALE_SYMBOLS.get(locale, {})}
    for sign, word in table.items():
        text = text.replace(sign, word)
    # Dashes and ellipses are pauses; quotes and brackets are not read aloud.
    text = re.sub(r"\s*[—–]\s*", ", ", text)
    text = text.replace("…", ".")
    return text.translate({ord(c): None for c in SILENT})


def whitespace(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s+([,.!?;:])", r"\1", text)


def load_lexicon(path: Path, locale: str = "") -> list[tuple[str, str]]:
    """``term<TAB>spoken form`` per line; ``#`` starts a comment. Longest terms first.

    A spoken form is held to what a translation is held to: nothing invisible, and (with
    ``locale``) only letters of the locale's script, so that a lexicon cannot make a voice
    say what no translation could (the page shows every spoken form beside its text)."""
    from ..checks.units import letters_outside, scripts_of
    scripts = scripts_of(locale) if locale else None
    path = Path(path)
    if not path.exists():
        return []
    entries = []
    for number, line in enumerate(read_utf8(path, ConfigError).split("\n"), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = nfc(line.rstrip("\r")).split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise ConfigError("a lexicon line must be 'term<TAB>spoken form'", path, number,
                              fix="separate the term and its spoken form with one tab")
        problem = invisible_problem(parts[0] + " " + parts[1])
        if problem:
            raise ConfigError(f"this lexicon line holds {problem.removeprefix('an ')}", path,
                              number, fix="retype the line")
        foreign = letters_outside(parts[1], scripts, set()) if scripts else []
        if foreign:
            raise ConfigError(f"the spoken form '{parts[1].strip()[:40]}' has '{foreign[0]}', "
                              f"not in the script of {locale}", path, number,
                              fix="write the spoken form as the voice of this locale reads it")
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
    steps += [partial(symbols, lang=lang, locale=locale), partial(numbers_to_words, lang=lang), whitespace]
    return steps


def normalize(text: str, locale: str, lexicon: list[tuple[str, str]] | None = None) -> str:
    """What the voice for ``locale`` should read for ``text``."""
    for step in steps_for(locale, lexicon):
        text = step(text)
    return text
