"""Text normalization: input → output tables per locale."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.voice.textnorm import apply_lexicon, load_lexicon, normalize, numbers_to_words

NUMBERS = [
    # Korean: Sino-Korean numerals, attached to the counter as written
    ("ko_KP", "3만명이상", "삼만명이상"),
    ("ko_KP", "3대에 걸쳐", "삼대에 걸쳐"),
    ("ko_KP", "7.2메가헤르쯔", "칠 점 이메가헤르쯔"),
    ("ko_KP", "30,000명", "삼만명"),
    ("ko_KP", "2026년", "이천이십육년"),
    ("ru", "Более 30 000 человек", "Более тридцать тысяч человек"),
    ("ru", "7.2 мегагерца", "семь целых две десятых мегагерца"),
    ("ru", "7,5 км", "семь целых пять десятых км"),
    ("ru", "до 3 поколений", "до три поколений"),
    ("uk", "30 000 людей", "тридцять тисяч людей"),
    ("uk", "7.2 мегагерца", "сім кома два мегагерца"),
    ("en", "More than 30,000 people", "More than thirty thousand people"),
    ("en", "on 7.2 megahertz", "on seven point two megahertz"),
    ("en", "7.05 MHz", "seven point zero five MHz"),
    ("en", "1,000,000", "one million"),
    ("en", "articles 17, 70 and 71", "articles seventeen, seventy and seventy-one"),
]


SYMBOLS = [
    ("ko_KP", "50%", "오십퍼센트"),
    ("ru", "50%", "пятьдесят процентов"),
    ("en", "Red Cross & Red Crescent", "Red Cross and Red Crescent"),
    ("ru", "Главное — ваша жизнь.", "Главное, ваша жизнь."),
    ("ru", "«Женевские конвенции»", "Женевские конвенции"),
    ("en", "  You  are\n not   alone .  ", "You are not alone."),
    ("en", "Wait…", "Wait."),
]


@pytest.mark.parametrize("locale, text, spoken", NUMBERS + SYMBOLS)
def test_normalize(locale, text, spoken):
    """Numbers to words, symbols and whitespace: what the voice reads for the text."""
    assert normalize(text, locale) == spoken


def test_unknown_language_keeps_digits():
    assert numbers_to_words("12 people", "xx") == "12 people"


def test_lexicon_whole_words_longest_first(tmp_path):
    path = tmp_path / "lexicon.tsv"
    path.write_text("# comment\nСМИ\tсредства массовой информации\n"
                    "Red Cross\tthe Red Cross\nICRC\tI C R C\n", encoding="utf-8")
    entries = load_lexicon(path)
    assert apply_lexicon("Государственные СМИ молчат.", entries) == \
        "Государственные средства массовой информации молчат."
    assert apply_lexicon("ICRCX and ICRC", entries) == "ICRCX and I C R C"
    assert normalize("Государственные СМИ молчат.", "ru", entries).startswith(
        "Государственные средства")


def test_lexicon_runs_before_numbers(tmp_path):
    path = tmp_path / "lexicon.tsv"
    path.write_text("III\tthird\n", encoding="utf-8")
    assert normalize("Convention III, article 17", "en", load_lexicon(path)) == \
        "Convention third, article seventeen"


def test_bad_lexicon_line_names_file_and_line(tmp_path):
    path = tmp_path / "lexicon.tsv"
    path.write_text("ok\tfine\nno tab here\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_lexicon(path)
    assert f"{path}:2:" in str(err.value) and "tab" in str(err.value)


def test_missing_lexicon_is_empty(tmp_path):
    assert load_lexicon(tmp_path / "none.tsv") == []
