"""Numbers as a native speaker says them: the grammar that num2words needs told.

Russian and Ukrainian numerals take the case their governing word asks for ("более
тридцати тысяч", "до трёх поколений") and agree in gender with the noun that follows
("одна неделя"). Korean counts people, ages, hours, things, turns and months with native
numerals before a counter ("세 명", "스무 살"); everything else is Sino-Korean ("삼만").

Used twice: by the speech stage to say numbers, and by the ``numbers`` check to accept a
number written out in any of its forms.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from babel.core import UnknownLocaleError
from babel.numbers import get_decimal_symbol
from num2words import num2words

__all__ = ["CASES", "cyrillic", "date_day", "decimal_sign", "gender_of", "governed_case",
           "GOVERNS", "GROUP_MARKS", "KO_NATIVE_COUNTERS", "korean_native", "MONTHS",
           "spelled_in", "ungroup", "written_forms"]

# The case a preposition or comparative governs. Words that govern more than one case
# (в, на, с) are left out: the numeral then stays in the nominative.
GOVERNS = {
    "ru": {**dict.fromkeys(("более", "свыше", "около", "до", "от", "из", "без", "больше",
                            "менее", "меньше", "после", "кроме", "для", "среди", "против",
                            "у", "вокруг", "мимо", "вместо", "возле", "порядка"), "genitive"),
           **dict.fromkeys(("к", "по", "согласно", "благодаря"), "dative"),
           **dict.fromkeys(("через", "за", "про", "сквозь"), "accusative"),
           **dict.fromkeys(("между", "над", "под", "перед"), "instrumental"),
           **dict.fromkeys(("о", "об", "обо", "при"), "prepositional")},
    "uk": {**dict.fromkeys(("більше", "близько", "до", "від", "з", "із", "зі", "без",
                            "після", "біля", "для", "серед", "замість", "крім", "менше",
                            "щонайменше", "коло", "довкола"), "genitive"),
           **dict.fromkeys(("понад", "через", "за", "про"), "accusative"),
           **dict.fromkeys(("між", "над", "під", "перед"), "instrumental"),
           **dict.fromkeys(("при",), "locative")},
}
CASES = {"ru": ("nominative", "genitive", "dative", "accusative", "instrumental",
                "prepositional"),
         "uk": ("nominative", "genitive", "dative", "accusative", "instrumental", "locative")}

# Noun forms whose gender the ending does not tell (soft-sign feminines, masculines in
# -а/-я, Ukrainian plurals after 2).
_GENDER_KNOWN = {
    "ru": {**dict.fromkeys(("ночь", "часть", "жизнь", "помощь", "власть", "дочь", "мать",
                            "связь", "область", "новость", "возможность", "ночи", "части"),
                           "f"),
           **dict.fromkeys(("мужчина", "мужчины", "дедушка", "папа", "дядя", "юноша"), "m"),
           **dict.fromkeys(("имя", "время", "племя", "знамя"), "n")},
    "uk": {**dict.fromkeys(("ніч", "річ", "мати", "години", "хвилини", "секунди", "тисячі",
                            "країни", "доби", "родини", "сім'ї", "сім’ї", "статті", "ночі",
                            "частини", "конвенції", "жінки", "людини"), "f"),
           **dict.fromkeys(("мужчина", "тато", "дядько"), "m"),
           **dict.fromkeys(("ім'я", "ім’я"), "n")},
}
# Endings of a feminine noun after a numeral ending in 1, by the numeral's case.
_FEMININE_AFTER_ONE = {
    "nominative": ("а", "я"), "accusative": ("у", "ю"), "genitive": ("ы", "и", "і"),
    "dative": ("е", "і"), "instrumental": ("ой", "ей", "ою", "ею", "єю"),
    "prepositional": (), "locative": (),
}

# Month names in the genitive: "1 марта" is a date, read as an ordinal.
MONTHS = {
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
           "сентября", "октября", "ноября", "декабря"),
    "uk": ("січня", "лютого", "березня", "квітня", "травня", "червня", "липня", "серпня",
           "вересня", "жовтня", "листопада", "грудня"),
}

# Counters that take the native numerals (한, 두, 세 …): people, age, hours, things,
# times, months counted, animals, books, cups, vessels, vehicles, sheets, houses, suits,
# pairs, kinds, places, trees, flowers, sticks, letters. The others (years, months,
# days, minutes, seconds, money, measures, floors, degrees, per cent) take Sino-Korean.
# Not 대: vehicles take native numerals (두 대) but generations Sino-Korean (삼대).
KO_NATIVE_COUNTERS = ("명", "살", "시", "개", "번째", "번", "달", "사람", "마리", "권", "잔",
                      "시간", "척", "장", "채", "벌", "켤레", "가지", "군데", "곳", "그루",
                      "송이", "자루", "통")
_KO_ONES = ["", "하나", "둘", "셋", "넷", "다섯", "여섯", "일곱", "여덟", "아홉"]
_KO_ONES_BEFORE_COUNTER = ["", "한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉"]
_KO_TENS = ["", "열", "스물", "서른", "마흔", "쉰", "예순", "일흔", "여든", "아흔"]


def gender_of(word: str, lang: str, value: int = 1, case: str = "nominative") -> str:
    """'m', 'f' or 'n' of the noun ``word`` that follows ``value`` in ``case``.

    Only numerals ending in 1 or 2 (not 11, 12) change with gender, so only there is the
    noun read: from a table, else from its ending, which depends on the numeral's case
    (1 неделя, около 1 недели; 2 недели but 2 дня). Unknown means masculine.
    """
    w = word.lower()
    if w in _GENDER_KNOWN.get(lang, {}):
        return _GENDER_KNOWN[lang][w]
    ones = value % 10
    if value % 100 in (11, 12) or ones not in (1, 2):
        return "m"
    if ones == 2:       # the noun is genitive singular (ru) or plural (uk): only -ы/-и tells
        return "f" if lang == "ru" and case in ("nominative", "accusative") \
            and w.endswith(("ы", "и")) else "m"
    if w.endswith(_FEMININE_AFTER_ONE.get(case, ())):
        return "f"
    if case in ("nominative", "accusative") and w.endswith(("о", "е", "ё")):
        return "n"
    return "m"


def cyrillic(value: int | float, lang: str, case: str = "nominative", gender: str = "m") -> str:
    """``value`` in words in ``case``, agreeing with a noun of ``gender``."""
    if lang == "uk":
        kwargs = {"case": case}
        if gender == "f":
            kwargs["gender"] = "feminine"
        return num2words(value, lang="uk", **kwargs)
    return num2words(value, lang="ru", case=case, gender=gender, animate=False)


def date_day(value: int, lang: str, case: str) -> str:
    """The day of a date: "1 марта" → "первое", "до 1 марта" → "первого"; Ukrainian days
    are said in the genitive ("першого березня")."""
    if lang == "uk":
        words = num2words(value, lang="uk", to="ordinal").split()
        last = words[-1]
        words[-1] = last[:-2] + ("ього" if last.endswith("ій") else "ого")
        return " ".join(words)
    return num2words(value, lang="ru", to="ordinal", case=case, gender="n")


def governed_case(previous_word: str, lang: str) -> str:
    return GOVERNS.get(lang, {}).get(previous_word.lower(), "nominative")


def korean_native(value: int, before_counter: bool = True, counter: str = "") -> str | None:
    """Native Korean numeral for 1..99 (``None`` beyond): 세 (명), 스무 (살), 첫 (번째)."""
    if not 1 <= value <= 99:
        return None
    if counter == "번째" and value == 1:
        return "첫"
    tens, ones = divmod(value, 10)
    if before_counter:
        if ones == 0 and tens == 2:
            return "스무"
        return _KO_TENS[tens] + _KO_ONES_BEFORE_COUNTER[ones]
    return _KO_TENS[tens] + _KO_ONES[ones]


@lru_cache(maxsize=4096)
def written_forms(value: float, lang: str) -> frozenset[str]:
    """Every way ``value`` may be written out in words in ``lang``, lower case."""
    number: int | float = int(value) if float(value).is_integer() else value
    forms: set[str] = set()
    try:
        forms.add(num2words(number, lang=lang).lower())
        if lang in CASES and isinstance(number, int):
            for case in CASES[lang]:
                for gender in ("m", "f", "n"):
                    forms.add(cyrillic(number, lang, case, gender).lower())
    except (NotImplementedError, OverflowError, ValueError, IndexError, KeyError):
        pass
    if lang == "ko" and isinstance(number, int):
        for before in (True, False):
            native = korean_native(number, before)
            if native:
                forms.add(native)
    forms.update({f.replace("ё", "е") for f in forms})
    return frozenset(f for f in forms if f)


def spelled_in(text: str, value: float, lang: str) -> bool:
    """Whether ``text`` writes ``value`` out in words, in any case or gender."""
    low = text.lower().replace("ё", "е")
    return any(re.search(rf"(?<!\w){re.escape(form)}(?!\w)" if lang != "ko" else re.escape(form),
                         low) for form in written_forms(value, lang))


# What separates digit groups as keyboards and word processors write them: every space
# (the plain one, no-break, narrow no-break, thin, figure, punctuation, hair …), the
# apostrophes of Swiss usage, the Arabic thousands separator; and a full stop or a comma,
# whichever the language does not use as its decimal sign.
GROUP_MARKS = "".join(chr(c) for c in range(0x3001) if unicodedata.category(chr(c)) == "Zs") \
    + "'\u2019\u02bc\u066c"
_GROUPED = re.compile(r"(?<![\d.,])(\d{1,3})([" + re.escape(GROUP_MARKS + ".,") +
                      r"])(\d{3})((?:\2\d{3})*)(?![\d])")


@lru_cache(maxsize=None)
def decimal_sign(lang: str) -> str:
    """The decimal sign of ``lang`` (CLDR's): ``,`` in ru and uk, ``.`` in en and ko."""
    try:
        return get_decimal_symbol(lang)
    except (ValueError, LookupError, UnknownLocaleError):
        return "."


def ungroup(text: str, lang: str) -> str:
    """Digit groups joined into one number (``30 000``, ``30\u2009000``, ``30.000`` in
    ru, ``30,000`` in en → ``30000``), so that every separator a translator's tools can
    produce reads as one number. A single ``.`` or ``,`` that is the language's decimal
    sign stays a decimal sign."""
    decimal = decimal_sign(lang)

    def join(match: re.Match) -> str:
        mark, more = match.group(2), match.group(4)
        if mark == decimal and not more:
            return match.group(0)
        return match.group(1) + match.group(3) + more.replace(mark, "")

    return _GROUPED.sub(join, text)
