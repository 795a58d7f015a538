"""Text normalization: input → output tables per locale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.voice.textnorm import apply_lexicon, load_lexicon, normalize, numbers_to_words

NUMBERS = [
    # Korean: Sino-Korean numerals, attached to the counter as written
    ("ko_KP", "3만명이상", "삼만명이상"),
    ("ko_KP", "3대에 걸쳐", "삼 대에 걸쳐"),
    ("ko_KP", "7.2메가헤르쯔", "칠 점 이 메가헤르쯔"),
    ("ko_KP", "30,000명", "삼만 명"),
    ("ko_KP", "2026년", "이천이십육년"),
    ("ru", "Более 30 000 человек", "Более тридцати тысяч человек"),
    ("ru", "7.2 мегагерца", "семь целых две десятых мегагерца"),
    ("ru", "7,5 км", "семь целых пять десятых километра"),
    ("ru", "до 3 поколений", "до трёх поколений"),
    ("uk", "30 000 людей", "тридцять тисяч людей"),
    ("uk", "7.2 мегагерца", "сім цілих дві десятих мегагерца"),
    ("en", "More than 30,000 people", "More than thirty thousand people"),
    ("en", "on 7.2 megahertz", "on seven point two megahertz"),
    ("en", "7.05 MHz", "seven point zero five MHz"),
    ("en", "1,000,000", "one million"),
    ("en", "articles 17, 70 and 71", "articles seventeen, seventy and seventy-one"),
]


# Numbers in the grammar of the sentence (the cases, then wider held-out ones).
GRAMMAR = [
    ("ru", "Более 30 000 солдат", "Более тридцати тысяч солдат"),
    ("ko_KP", "병사 3명", "병사 세 명"),
    ("ru", "свыше 2 000 человек", "свыше двух тысяч человек"),
    ("ru", "около 21 дня", "около двадцати одного дня"),
    ("ru", "около 1 недели", "около одной недели"),
    ("ru", "1 неделя и 1 день", "одна неделя и один день"),
    ("ru", "2 недели, 2 дня, 1 письмо", "две недели, два дня, одно письмо"),
    ("ru", "за 1 неделю", "за одну неделю"),
    ("ru", "к 5 часам", "к пяти часам"),
    ("ru", "из 3 стран", "из трёх стран"),
    ("ru", "без 2 минут", "без двух минут"),
    ("ru", "больше 40 лет", "больше сорока лет"),
    ("ru", "менее 10 минут", "менее десяти минут"),
    ("ru", "от 18 до 60 лет", "от восемнадцати до шестидесяти лет"),
    ("ru", "с 1 марта", "с первого марта"),
    ("ru", "9 мая", "девятого мая"),         # ru-normalizr: "on 9 May", the usual
    ("ru", "о 3 солдатах", "о трёх солдатах"),
    ("uk", "понад 30 000 солдатів", "понад тридцять тисяч солдатів"),
    ("uk", "більше 2 000 людей", "більше двох тисяч людей"),
    ("uk", "близько 3 тижнів", "близько трьох тижнів"),
    ("uk", "1 година і 1 тиждень", "одна година і один тиждень"),
    ("uk", "2 години", "дві години"),
    ("uk", "з 1 березня", "з першого березня"),
    ("ko_KP", "20살 청년", "스무 살 청년"),
    ("ko_KP", "1번째 권리", "첫 번째 권리"),
    ("ko_KP", "2번째", "두 번째"),
    ("ko_KP", "3달 동안", "세 달 동안"),
    ("ko_KP", "오후 3시", "오후 세 시"),
    ("ko_KP", "사과 10개", "사과 열 개"),
    ("ko_KP", "35명이", "서른다섯 명이"),
    ("ko_KP", "3개월", "삼 개월"),               # Sino-Korean counters stay Sino-Korean
    ("ko_KP", "5달러", "오 달러"),               # (a word of their own before a unit)
    ("ko_KP", "150명", "백오십 명"),            # beyond 99: Sino-Korean
    ("ko_KP", "15시", "십오 시"),               # a 24-hour clock reading
]

SYMBOLS = [
    ("ko_KP", "50%", "오십 프로"),                # North Korean usage
    ("ko", "50%", "오십 퍼센트"),
    ("ko_KP", "《로동신문》과 〈조선중앙통신〉, 「법」", "로동신문과 조선중앙통신, 법"),
    ("ru", "50%", "пятьдесят процентов"),
    ("en", "Red Cross & Red Crescent", "Red Cross and Red Crescent"),
    ("ru", "Главное — ваша жизнь.", "Главное, ваша жизнь."),
    ("ru", "«Женевские конвенции»", "Женевские конвенции"),
    ("en", "  You  are\n not   alone .  ", "You are not alone."),
    ("en", "Wait…", "Wait."),
]


@pytest.mark.parametrize("locale, text, spoken", NUMBERS + GRAMMAR + SYMBOLS)
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


@pytest.mark.parametrize("lang, value, text, found", [
    ("ru", 30000, "Более тридцати тысяч солдат.", True),
    ("ru", 30000, "Свыше тридцатью тысячами.", True),
    ("ru", 3, "до трех поколений", True),                  # ё written as е
    ("ru", 1, "одна неделя", True),
    ("uk", 30000, "Понад тридцяти тисяч.", True),
    ("ko", 3, "병사 세 명", True),
    ("ru", 30000, "Более тридцати солдат.", False),
    ("ru", 3, "тридцать", False),                           # a whole word, not a part
])
def test_a_number_is_found_written_out_in_any_form(lang, value, text, found):
    """The numbers check accepts any case and gender form of the source's number."""
    from pipeline.content.numerals import spelled_in
    assert spelled_in(text, value, lang) is found


HELD_OUT = [line.split("\t") for line in
            (Path(__file__).parent / "data" / "numbers" / "held_out.tsv")
            .read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]


def _comparable(text: str) -> str:
    text = text.lower().replace("ё", "е").replace("’", "'")
    return " ".join(re.sub(r"[^\w' ]", " ", text).split())


@pytest.mark.parametrize("lang, text, expected", HELD_OUT,
                         ids=[f"{lang}-{text[:24]}" for lang, text, _ in HELD_OUT])
def test_numbers_take_the_case_and_gender_the_sentence_gives(lang, text, expected):
    """Held-out sentences, wider than any table (scripts/read_numbers.py measures the
    normalizers on them): Russian by ru-normalizr, Ukrainian by the noun's morphology."""
    said = _comparable(normalize(text, lang))
    assert said in {_comparable(e) for e in expected.split("|")}, said


def test_russian_and_ukrainian_read_right_in_either_order_in_one_process():
    """pymorphy3 shares one tag class between its dictionaries: loading one language's
    must not break the other's (a render reads both)."""
    for _ in range(2):
        assert normalize("Мы ждали 3 часа.", "ru") == "Мы ждали три часа."
        assert normalize("Протягом 3 днів.", "uk") == "Протягом трьох днів."


@pytest.mark.parametrize("text, said", [
    ("배 2척", "배 두 척"), ("종이 2장", "종이 두 장"), ("5번 만났다", "다섯 번 만났다"),
    ("2켤레", "두 켤레"), ("3시 5분", "세 시 오 분"), ("100달러", "백 달러"),
    ("3개월", "삼 개월"), ("제2장", "제이 장"), ("7.2메가헤르쯔", "칠 점 이 메가헤르쯔"),
    ("2024년 3월 5일", "이천이십사년 삼월 오일"), ("1곳", "한 곳"), ("병사 3명", "병사 세 명"),
])
def test_korean_counters_take_native_or_sino_numerals(text, said):
    assert normalize(text, "ko_KP") == said


@pytest.mark.parametrize("lang", ["ru", "uk", "ko", "en"])
def test_a_number_longer_than_any_the_language_names_is_read_digit_by_digit(lang):
    """A recognizer that hallucinates '1000…0' (80 digits) must not stop the judge."""
    said = numbers_to_words("1" + "0" * 80, lang)
    assert not any(ch.isdigit() for ch in said)
    assert len(said.split()) == 81
