"""A Korean front-end for MBROLA's hn1 voice: Hangul → phonemes by rule → a ``.pho``.

Hangul is read syllable by syllable (onset, vowel, coda) and the standard pronunciation
rules run over each word (어절), in the order a grammar gives them: coda simplification
of clusters, liaison (연음), ㅎ-aspiration and ㅎ-deletion, palatalization (굳이 → 구지),
nasalization (국물 → 궁물, 심리 → 심니), lateralization (신라 → 실라), tensification
after an obstruent (학교 → 학꾜), coda neutralization to the seven representatives, and
voicing of a lax stop between voiced sounds (hn1 has voiced allophones). The North's
standard (문화어 발음법) keeps a word-initial ㄹ and ㄴ as written (로동, 리용, 녀성):
this front-end reads spelling as written, so ``ko_KP`` text is read the North's way; its
ㄹ at the start of a word is a tap, as within a word. Exceptions no rule can know (an
unexpected tensification, a loanword) go into :data:`EXCEPTIONS` or the locale's lexicon.

Prosody: phrases break at punctuation; each word is an accentual phrase (low start, a
rise to its last syllable); a phrase declines in pitch, its last syllable is lengthened
and falls (a statement) or rises (a question). Durations are per phoneme class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Phone", "phonemes", "pho", "RULES_VERSION", "syllables", "words_to_phones"]

RULES_VERSION = "2"             # part of every cache key: bump it when a rule changes

# --- Hangul letters -----------------------------------------------------------------------

ONSETS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
CODAS = ["", "ㄱ", "ㄲ", "ㄳ", "ㄴ", "ㄵ", "ㄶ", "ㄷ", "ㄹ", "ㄺ", "ㄻ", "ㄼ", "ㄽ", "ㄾ", "ㄿ",
         "ㅀ", "ㅁ", "ㅂ", "ㅄ", "ㅅ", "ㅆ", "ㅇ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ"]

# A cluster: what it sounds as before a consonant, and (what stays, what moves on) before
# a vowel (ㅎ moving on is dropped; ㅅ moving on is tense).
CLUSTERS = {"ㄳ": ("ㄱ", "ㄱ", "ㅆ"), "ㄵ": ("ㄴ", "ㄴ", "ㅈ"), "ㄶ": ("ㄴ", "ㄴ", "ㅎ"),
            "ㄺ": ("ㄱ", "ㄹ", "ㄱ"), "ㄻ": ("ㅁ", "ㄹ", "ㅁ"), "ㄼ": ("ㄹ", "ㄹ", "ㅂ"),
            "ㄽ": ("ㄹ", "ㄹ", "ㅆ"), "ㄾ": ("ㄹ", "ㄹ", "ㅌ"), "ㄿ": ("ㅂ", "ㄹ", "ㅍ"),
            "ㅀ": ("ㄹ", "ㄹ", "ㅎ"), "ㅄ": ("ㅂ", "ㅂ", "ㅆ")}
# The seven sounds a coda can be (받침의 대표음)
NEUTRAL = {"ㄱ": "ㄱ", "ㄲ": "ㄱ", "ㅋ": "ㄱ", "ㄴ": "ㄴ", "ㄷ": "ㄷ", "ㅅ": "ㄷ", "ㅆ": "ㄷ",
           "ㅈ": "ㄷ", "ㅊ": "ㄷ", "ㅌ": "ㄷ", "ㅎ": "ㄷ", "ㄹ": "ㄹ", "ㅁ": "ㅁ", "ㅂ": "ㅂ",
           "ㅍ": "ㅂ", "ㅇ": "ㅇ"}
ASPIRATED = {"ㄱ": "ㅋ", "ㄷ": "ㅌ", "ㅂ": "ㅍ", "ㅈ": "ㅊ", "ㅅ": "ㅆ"}
TENSE = {"ㄱ": "ㄲ", "ㄷ": "ㄸ", "ㅂ": "ㅃ", "ㅅ": "ㅆ", "ㅈ": "ㅉ"}
NASAL = {"ㄱ": "ㅇ", "ㄷ": "ㄴ", "ㅂ": "ㅁ"}
Y_VOWELS = set("ㅑㅒㅕㅖㅛㅠㅣ")

# hn1's phonemes (X-SAMPA, as its database names them)
ONSET_SAMPA = {"ㄱ": "k", "ㄲ": "k_>", "ㄴ": "n", "ㄷ": "t", "ㄸ": "t_>", "ㄹ": "4", "ㅁ": "m",
               "ㅂ": "p", "ㅃ": "p_>", "ㅅ": "s", "ㅆ": "s_>", "ㅇ": "", "ㅈ": "ts\\",
               "ㅉ": "ts\\_>", "ㅊ": "ts\\_h", "ㅋ": "k_h", "ㅌ": "t_h", "ㅍ": "p_h", "ㅎ": "h"}
VOICED = {"ㄱ": "g", "ㄷ": "d", "ㅂ": "b", "ㅈ": "dz\\"}
CODA_SAMPA = {"ㄱ": "k_}", "ㄴ": "n_}", "ㄷ": "t_}", "ㄹ": "l_}", "ㅁ": "m_}", "ㅂ": "p_}",
              "ㅇ": "N"}
VOWEL_SAMPA = {"ㅏ": "a", "ㅐ": "E", "ㅑ": "ja", "ㅒ": "jE", "ㅓ": "V", "ㅔ": "e", "ㅕ": "jV",
               "ㅖ": "je", "ㅗ": "o", "ㅘ": "wa", "ㅙ": "wE", "ㅚ": "we", "ㅛ": "jo", "ㅜ": "u",
               "ㅝ": "wV", "ㅞ": "we", "ㅟ": "wi", "ㅠ": "ju", "ㅡ": "M", "ㅢ": "M\\i", "ㅣ": "i"}

# Words whose reading no rule gives (tensification inside a word, chiefly); the lexicon of
# the locale (locales/<locale>/lexicon.tsv) can add more in Hangul.
EXCEPTIONS: dict[str, str] = {}


@dataclass
class Syllable:
    onset: str          # a letter of ONSETS ("ㅇ": none)
    vowel: str
    coda: str           # "" or a letter of CODAS


def syllables(word: str) -> list[Syllable]:
    out = []
    for ch in word:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            out.append(Syllable(ONSETS[code // 588], VOWELS[(code % 588) // 28],
                                CODAS[code % 28]))
    return out


def _apply_rules(syls: list[Syllable]) -> None:
    """The standard pronunciation rules across the syllables of one word, in place."""
    for i in range(len(syls) - 1):
        cur, nxt = syls[i], syls[i + 1]
        coda = cur.coda
        if not coda:
            continue
        if nxt.onset == "ㅇ":                                   # liaison, ㅎ-deletion
            if coda in CLUSTERS:
                _, stay, move = CLUSTERS[coda]
                if move == "ㅎ":                                # 않아 → 아나, 싫어 → 시러
                    cur.coda, nxt.onset = "", stay
                else:
                    cur.coda, nxt.onset = stay, move
                continue
            if coda == "ㅎ":
                cur.coda = ""
                continue
            if coda == "ㅇ":
                continue
            # palatalization: ㄷ, ㅌ before 이
            if coda in ("ㄷ", "ㅌ") and nxt.vowel == "ㅣ":
                cur.coda, nxt.onset = "", "ㅈ" if coda == "ㄷ" else "ㅊ"
                continue
            cur.coda, nxt.onset = "", coda
            continue
        # aspiration: ㅎ before a lax stop, or a lax stop before ㅎ
        if coda in ("ㅎ", "ㄶ", "ㅀ") and nxt.onset in ("ㄱ", "ㄷ", "ㅈ"):
            cur.coda = {"ㅎ": "", "ㄶ": "ㄴ", "ㅀ": "ㄹ"}[coda]
            nxt.onset = ASPIRATED[nxt.onset]
            continue
        if coda in ("ㅎ", "ㄶ", "ㅀ") and nxt.onset == "ㅅ":
            cur.coda = {"ㅎ": "", "ㄶ": "ㄴ", "ㅀ": "ㄹ"}[coda]
            nxt.onset = "ㅆ"
            continue
        if coda in ("ㅎ", "ㄶ", "ㅀ") and nxt.onset == "ㄴ":
            cur.coda = {"ㅎ": "ㄴ", "ㄶ": "ㄴ", "ㅀ": "ㄹ"}[coda]
            if coda == "ㅀ":
                nxt.onset = "ㄹ"
            continue
        simple = CLUSTERS[coda][0] if coda in CLUSTERS else coda
        if coda == "ㄼ" and cur.onset == "ㅂ" and cur.vowel == "ㅏ":
            simple = "ㅂ"                                       # 밟다 → 밥따
        if coda == "ㄺ" and nxt.onset == "ㄱ":
            simple = "ㄹ"                                       # 맑게 → 말께
        rep = NEUTRAL.get(simple, simple)
        if nxt.onset == "ㅎ" and rep in ("ㄱ", "ㄷ", "ㅂ") and simple != "ㅅ":
            cur.coda, nxt.onset = "", ASPIRATED["ㅈ" if simple in ("ㅈ",) else rep]
            continue
        if nxt.onset == "ㅎ" and simple == "ㅅ":
            cur.coda, nxt.onset = "", "ㅌ"
            continue
        # nasalization and lateralization
        if nxt.onset == "ㄹ":
            if rep == "ㄴ" or rep == "ㄹ":
                cur.coda, nxt.onset = "ㄹ", "ㄹ"                  # 신라 → 실라
                continue
            nxt.onset = "ㄴ"                                   # 심리 → 심니, 국력 → 궁녁
        if rep == "ㄹ" and nxt.onset == "ㄴ":
            cur.coda, nxt.onset = "ㄹ", "ㄹ"                      # 설날 → 설랄
            continue
        if nxt.onset in ("ㄴ", "ㅁ") and rep in NASAL:
            cur.coda = NASAL[rep]
            continue
        cur.coda = rep
        # tensification after an obstruent, or after a cluster (넓다 → 널따)
        if (rep in ("ㄱ", "ㄷ", "ㅂ") or coda in CLUSTERS) and nxt.onset in TENSE:
            nxt.onset = TENSE[nxt.onset]
    if syls and syls[-1].coda:
        last = syls[-1].coda
        simple = CLUSTERS[last][0] if last in CLUSTERS else last
        syls[-1].coda = NEUTRAL.get(simple, simple)


@dataclass
class Phone:
    sampa: str
    kind: str           # "V" vowel, "C" onset consonant, "K" coda, "_" pause
    syllable: int = 0   # index of its syllable in the phrase
    word: int = 0       # index of its word in the phrase (an accentual phrase)


# Bound nouns after an adnominal -ㄹ take a tense onset (할 수 → 할쑤, 갈 데 → 갈떼).
BOUND_NOUNS = ("수", "것", "데", "바", "적", "줄", "지", "듯", "거")


def words_to_phones(words: list[str]) -> list[Phone]:
    """The phones of a phrase's words (Hangul only), syllables numbered in the phrase."""
    phones: list[Phone] = []
    n = w = 0
    after_l = False             # the word before ends in ㄹ as spelled
    for word in words:
        syls = syllables(EXCEPTIONS.get(word, word))
        if not syls:
            continue
        if after_l and word.startswith(BOUND_NOUNS) and syls[0].onset in TENSE:
            syls[0].onset = TENSE[syls[0].onset]
        after_l = syls[-1].coda == "ㄹ"
        for i, s in enumerate(syls):        # 의: [의] first, [에] as a particle, else [이]
            if s.vowel == "ㅢ" and i > 0:                   # (the particle ends a word)
                s.vowel = "ㅔ" if s.onset == "ㅇ" and i == len(syls) - 1 else "ㅣ"
            elif s.vowel == "ㅢ" and s.onset != "ㅇ":
                s.vowel = "ㅣ"                                  # 희망 → 히망
        _apply_rules(syls)
        for i, s in enumerate(syls):
            prev_voiced = (i > 0 and (not syls[i - 1].coda or syls[i - 1].coda in "ㄴㄹㅁㅇ"))
            onset = s.onset
            if onset == "ㄹ" and i > 0 and syls[i - 1].coda == "ㄹ":
                phones.append(Phone("l", "C", n, w))             # ㄹㄹ: a lateral
            elif onset != "ㅇ":
                sampa = VOICED[onset] if prev_voiced and onset in VOICED else ONSET_SAMPA[onset]
                if onset == "ㅅ" and s.vowel in Y_VOWELS:
                    sampa = "s\\"
                phones.append(Phone(sampa, "C", n, w))
            vowel = s.vowel
            if vowel == "ㅖ" and onset not in ("ㅇ", "ㄹ"):
                vowel = "ㅔ"
            if onset in ("ㅈ", "ㅉ", "ㅊ") and vowel in ("ㅑ", "ㅕ", "ㅛ", "ㅠ", "ㅒ"):
                vowel = {"ㅑ": "ㅏ", "ㅕ": "ㅓ", "ㅛ": "ㅗ", "ㅠ": "ㅜ", "ㅒ": "ㅐ"}[vowel]
            phones.append(Phone(VOWEL_SAMPA[vowel], "V", n, w))
            if s.coda:
                phones.append(Phone(CODA_SAMPA[s.coda], "K", n, w))
            n += 1
        w += 1
    return phones


_PHRASE = re.compile(r"([^.,!?;:…—–\n]+)([.,!?;:…—–\n]*)")


def phonemes(text: str) -> list[list[str]]:
    """The phonemes of each phrase of ``text`` (for ``say --phonemes``)."""
    out = []
    for match in _PHRASE.finditer(text):
        phones = words_to_phones(match.group(1).split())
        if phones:
            out.append([p.sampa for p in phones])
    return out


# Durations in ms per class; the pitch of hn1's speaker (Hz).
DURATION = {"V": 95, "C": 60, "K": 60}
LONG_CONSONANTS = {"s", "s_>", "s\\", "ts\\_h", "k_h", "t_h", "p_h", "k_>", "t_>", "p_>",
                   "ts\\_>"}
SHORT = {"4": 30, "l": 55, "h": 45}
PAUSE_MS = {",": 250, ";": 300, ":": 300, "—": 300, "–": 300, ".": 550, "!": 550, "?": 550,
            "…": 600, "\n": 700, "": 200}
BASE_HZ, TOP_HZ, LOW_HZ = 112.0, 135.0, 92.0
# A phrase starting with one of these starts high (Seoul and Pyongyang alike): the pitch
# is what tells a listener 평 from 병.
HIGH_ONSETS = {"k_h", "t_h", "p_h", "ts\\_h", "k_>", "t_>", "p_>", "ts\\_>", "s", "s_>",
               "s\\", "h"}


def pho(text: str, speed: float = 1.0, pitch: float = 1.0) -> str:
    """An MBROLA ``.pho`` for ``text``: phones, durations, and a pitch contour per phrase."""
    lines = ["_ 150"]
    for match in _PHRASE.finditer(text):
        words, punct = match.group(1).split(), match.group(2)
        phones = words_to_phones(words)
        if not phones:
            continue
        end = punct.strip()[:1] if punct.strip() else ""
        question = "?" in punct
        total = phones[-1].syllable + 1
        # Accentual phrases: each word rises from its first syllable to its last, from
        # low, or from high after an aspirated, tense or fricative onset.
        spans: dict[int, list[int]] = {}               # word → (first, last syllable)
        high: set[int] = set()
        for p in phones:
            if p.word not in spans:
                spans[p.word] = [p.syllable, p.syllable]
                if p.kind == "C" and p.sampa in HIGH_ONSETS:
                    high.add(p.word)
            spans[p.word][1] = p.syllable
        for p in phones:
            ms = DURATION[p.kind]
            if p.kind == "C":
                ms = SHORT.get(p.sampa, 80 if p.sampa in LONG_CONSONANTS else ms)
            final = p.syllable == total - 1
            if final:
                ms = int(ms * (1.6 if end in ".!?…\n" else 1.35))
            ms = int(ms / speed)
            if p.kind != "V":
                lines.append(f"{p.sampa} {ms}")
                continue
            where = p.syllable / max(total - 1, 1)
            top = TOP_HZ - (TOP_HZ - BASE_HZ) * where          # declination
            start, last = spans[p.word]
            length = last - start + 1
            rise = (p.syllable - start) / max(length - 1, 1)
            low = top - 4 if p.word in high else BASE_HZ - 14
            hz = low + (top - low) * rise if length > 1 else (low + top) / 2
            if final and question:
                contour = f"0 {hz * pitch:.0f} 100 {TOP_HZ * 1.15 * pitch:.0f}"
            elif final and end in ".!…\n":
                contour = f"0 {hz * pitch:.0f} 100 {LOW_HZ * pitch:.0f}"
            elif final:
                contour = f"0 {hz * pitch:.0f} 100 {(hz + 6) * pitch:.0f}"
            else:
                contour = f"50 {hz * pitch:.0f}"
            lines.append(f"{p.sampa} {ms} {contour}")
        lines.append(f"_ {int(PAUSE_MS.get(end, 200) / speed)}")
    return "\n".join(lines) + "\n"
