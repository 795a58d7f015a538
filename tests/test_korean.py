"""The Korean front-end of the MBROLA hn1 voice: one case per pronunciation rule (the
spelling, and the phonemes a native speaker says), the North's spelling read as written,
and the prosody of a statement and a question."""

from __future__ import annotations

import pytest

from pipeline.voice import korean


def said(text: str) -> str:
    return " ".join(p.sampa for p in korean.words_to_phones(text.split()))


@pytest.mark.parametrize("rule, spelling, phonemes", [
    # 연음: a coda moves onto a vowel-initial syllable; of a cluster, the second letter
    ("liaison", "음악", "M m a k_}"),
    ("liaison of a cluster", "닭이", "t a l_} g i"),
    ("liaison of ㅅ in a cluster, tense", "값이", "k a p_} s_> i"),
    # 받침의 대표음: seven sounds at the end of a word
    ("coda neutralization", "꽃", "k_> o t_}"),
    ("cluster simplification", "흙", "h M k_}"),
    ("cluster before a consonant", "읽고", "i l_} k_> o"),
    # ㅎ: aspiration both ways, deletion before a vowel
    ("aspiration after ㅎ", "좋다", "ts\\ o t_h a"),
    ("aspiration before ㅎ", "축하", "ts\\_h u k_h a"),
    ("ㅎ deleted before a vowel", "놓아", "n o a"),
    ("ㅎ of a cluster deleted", "싫어", "s\\ i 4 V"),
    # 구개음화
    ("palatalization", "굳이", "k u dz\\ i"),
    ("palatalization of ㅌ", "같이", "k a ts\\_h i"),
    # 비음화
    ("nasalization of a stop", "국물", "k u N m u l_}"),
    ("nasalization of ㄹ", "심리", "s\\ i m_} n i"),
    ("nasalization of stop and ㄹ", "국력", "k u N n jV k_}"),
    # 유음화
    ("lateralization ㄴㄹ", "신라", "s\\ i l_} l a"),
    ("lateralization ㄹㄴ", "설날", "s V l_} l a l_}"),
    # 경음화
    ("tensification after a stop", "학교", "h a k_} k_> jo"),
    ("tensification after a cluster", "넓다", "n V l_} t_> a"),
    ("tensification after adnominal -ㄹ", "할 수", "h a l_} s_> u"),
    # lax stops are voiced between voiced sounds
    ("voicing between vowels", "바다", "p a d a"),
    ("voicing after a sonorant", "감기", "k a m_} g i"),
    # 의: [의] first, [에] as a particle, [이] after a consonant
    ("의 first", "의사", "M\\i s a"),
    ("의 as a particle", "나라의", "n a 4 a e"),
    ("의 after a consonant", "희망", "h i m a N"),
    # the North's spelling is read as written: initial ㄹ and ㄴ stay (no 두음법칙)
    ("initial ㄹ kept (문화어)", "로동", "4 o d o N"),
    ("initial ㄴ kept (문화어)", "녀성", "n jV s V N"),
    ("로씨야", "로씨야", "4 o s_> i ja"),
])
def test_each_rule(rule, spelling, phonemes):
    assert said(spelling) == phonemes, rule


def test_only_hangul_is_read():
    assert said("BBC 방송") == "p a N s o N"
    assert korean.phonemes("7.2") == []


def _contour(pho: str) -> list[tuple[str, list[int]]]:
    """(phoneme, pitch targets) of each vowel of a .pho."""
    out = []
    for line in pho.splitlines():
        name, *rest = line.split()
        if len(rest) > 1:
            out.append((name, [int(x) for x in rest[2::2]]))
    return out


def test_a_statement_falls_and_a_question_rises_at_the_end():
    statement = _contour(korean.pho("여러분은 혼자가 아닙니다."))
    question = _contour(korean.pho("여러분은 혼자가 아닙니까?"))
    assert statement[-1][1][-1] < statement[-1][1][0]
    assert question[-1][1][-1] > question[-1][1][0]
    assert question[-1][1][-1] > statement[-1][1][-1] + 20


def test_phrases_break_at_punctuation_and_last_syllables_lengthen():
    pho = korean.pho("안전할 때, 들으십시오.")
    lines = pho.splitlines()
    pauses = [int(line.split()[1]) for line in lines if line.startswith("_")]
    assert len(pauses) == 3 and pauses[1] < pauses[2]           # comma < full stop
    vowels = [line.split() for line in lines if line.split()[0] in ("a", "E", "o")]
    assert int(vowels[-1][1]) > int(vowels[0][1])               # phrase-final lengthening


def test_a_lax_onset_starts_low_and_an_aspirated_one_high():
    """The pitch of a phrase's first syllable is what tells 병 from 평 in Korean."""
    lax = _contour(korean.pho("병사"))[0][1][0]
    aspirated = _contour(korean.pho("평사"))[0][1][0]
    assert aspirated > lax + 10
