"""Unit checks: what a listener would hear wrong in one translated unit.

Each function is registered under its check id and yields ``(severity, text)``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from babel.core import get_global

from ..content.locales import language_of
from ..content.numerals import spelled_in, ungroup
from ..content.placeholders import placeholder_problem
from ..content.text import has_words, invisible_problem
from .glossary import contains
from .orthography import southern_forms
from .registry import ERROR, WARNING, MessageContext, Result, UnitContext, message_check, unit_check

__all__ = ["ACRONYM", "CLDR_SCRIPTS", "control", "doublewords", "ending", "FOREIGN_LETTERS",
           "glossary", "ko_kp_orthography", "letters_outside", "no_words", "numbers",
           "numbers_in", "PLACEHOLDER", "placeholders", "punctuation", "REUSED_MIN_WORDS",
           "REUSED_SHARE", "reused_share", "script", "SCRIPTS", "scripts_of", "unchanged",
           "variables", "whitespace", "WORD"]

# The scripts a locale's text is written in (Unicode character name prefixes): first
# this table, then the script CLDR gives the language (Babel's likely subtags).
SCRIPTS = {"ko": ("HANGUL",), "ru": ("CYRILLIC",), "uk": ("CYRILLIC",), "en": ("LATIN",),
           "be": ("CYRILLIC",), "de": ("LATIN",), "fr": ("LATIN",)}
CLDR_SCRIPTS = {"Latn": ("LATIN",), "Cyrl": ("CYRILLIC",), "Hang": ("HANGUL",),
                "Kore": ("HANGUL", "CJK"), "Jpan": ("HIRAGANA", "KATAKANA", "CJK"),
                "Hans": ("CJK",), "Hant": ("CJK",), "Arab": ("ARABIC",),
                "Hebr": ("HEBREW",), "Grek": ("GREEK",), "Thai": ("THAI",),
                "Deva": ("DEVANAGARI",), "Geor": ("GEORGIAN",), "Armn": ("ARMENIAN",),
                "Mong": ("MONGOLIAN",), "Ethi": ("ETHIOPIC",), "Beng": ("BENGALI",)}
# Letters of a sibling language that a voice would read wrongly.
FOREIGN_LETTERS = {"ru": "іїєґІЇЄҐ", "uk": "ыэъёЫЭЪЁ"}
ACRONYM = re.compile(r"\A[A-Z]{2,6}\Z")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
WORD = re.compile(r"[^\W\d_]+")


def _bare(text: str) -> str:
    return PLACEHOLDER.sub("", text).strip()


def scripts_of(locale: str) -> tuple[str, ...] | None:
    """The Unicode script name prefixes of a locale's writing, or None if not known."""
    lang = language_of(locale)
    if lang in SCRIPTS:
        return SCRIPTS[lang]
    likely = get_global("likely_subtags").get(lang, "")
    parts = likely.split("_")
    return CLDR_SCRIPTS.get(parts[1]) if len(parts) > 2 else None


@unit_check("placeholders")
def placeholders(ctx: UnitContext) -> Result:
    problem = placeholder_problem(ctx.source, ctx.translation)
    if problem:
        yield ERROR, problem


REUSED_SHARE = 0.6              # of a translation's words that are the source's: a near copy
REUSED_MIN_WORDS = 4


@lru_cache(maxsize=64)
def _kept_words(keep: tuple[str, ...]) -> frozenset[str]:
    return frozenset(w.casefold() for term in keep for w in WORD.findall(term))


def _counted_words(text: str, glossary) -> list[str]:
    """Words that say something in a language (not names kept as written, acronyms or
    one-letter words), case-folded."""
    kept = _kept_words(glossary.keep)
    return [folded for w in WORD.findall(_bare(text))
            if len(w) > 1 and not ACRONYM.match(w) and (folded := w.casefold()) not in kept]


@lru_cache(maxsize=1024)        # asked by `unchanged` and `script` for the same unit
def reused_share(source: str, translation: str, glossary) -> tuple[int, int]:
    """How many of the translation's counted words are the source's, and of how many."""
    source_words = set(_counted_words(source, glossary))
    words = _counted_words(translation, glossary)
    return sum(1 for w in words if w in source_words), len(words)


def _is_unchanged(ctx: UnitContext) -> bool:
    """The source copied as the translation, in a locale of another language (whatever
    its script), unless the source is only names kept as written and acronyms; or a near
    copy: most of the translation's words are the source's (a word or two changed, the
    order changed), so a voice of the locale would read the source language."""
    if language_of(ctx.locale) == language_of(ctx.source_locale):
        return False
    bare_src = _bare(ctx.source)
    same = " ".join(ctx.translation.split()).casefold() == " ".join(ctx.source.split()).casefold()
    if same and re.search(r"[^\W\d_]", bare_src) and not all(
            w in ctx.glossary.keep or ACRONYM.match(w) for w in WORD.findall(bare_src)):
        return True
    reused, total = reused_share(ctx.source, ctx.translation, ctx.glossary)
    return total >= REUSED_MIN_WORDS and reused >= REUSED_SHARE * total


@unit_check("unchanged")
def unchanged(ctx: UnitContext) -> Result:
    if _is_unchanged(ctx):
        reused, total = reused_share(ctx.source, ctx.translation, ctx.glossary)
        what = (f"{reused} of its {total} words are the source's" if reused < total
                else "it is the source text itself")
        yield ERROR, (f"the translation is in the source's language ({what}); translate it "
                      "(a voice would read the source language)")


@unit_check("control")
def control(ctx: UnitContext) -> Result:
    """An invisible character (a control, a bidi override, a zero-width space, a soft
    hyphen …): the voice acts on it while Poedit, the page and the transcript do not show
    it."""
    problem = invisible_problem(ctx.translation, language_of(ctx.locale))
    if problem:
        yield ERROR, problem


@unit_check("no-words")
def no_words(ctx: UnitContext) -> Result:
    """Punctuation or spaces alone: nothing to say, where the source says something."""
    if not has_words(PLACEHOLDER.sub("x", ctx.translation)) and has_words(ctx.source):
        yield ERROR, "the translation has no word to say (only punctuation or spaces); translate it"


@lru_cache(maxsize=8192)
def _of_scripts(char: str, scripts: tuple[str, ...]) -> bool:
    return unicodedata.name(char, "").startswith(scripts)


def letters_outside(text: str, scripts: tuple[str, ...], allowed_words: set[str]) -> list[str]:
    bad = []
    for word in WORD.findall(text):
        if word in allowed_words:
            continue
        if not all(_of_scripts(ch, scripts) for ch in word):
            bad.append(word)
    return bad


@unit_check("script")
def script(ctx: UnitContext) -> Result:
    lang = language_of(ctx.locale)
    scripts = scripts_of(ctx.locale)
    if not scripts or _is_unchanged(ctx):
        return
    bare_tr = _bare(ctx.translation)
    # Names kept as written and, in Korean, acronyms that the source itself uses (UN,
    # ICRC): an English sentence in capitals is neither.
    allowed = {w for term in ctx.glossary.keep for w in WORD.findall(term)}
    if lang == "ko":
        allowed |= {w for w in WORD.findall(_bare(ctx.source)) if ACRONYM.match(w)}
    bad = letters_outside(bare_tr, scripts, allowed)
    if bad:
        yield ERROR, (f"'{bad[0]}' is not written in the script of {ctx.locale}; translate "
                      "or transliterate it, or add it to the glossary as keep")
    foreign = sorted(set(ch for ch in bare_tr if ch in FOREIGN_LETTERS.get(lang, "")))
    if foreign:
        yield ERROR, (f"letters {''.join(foreign)} do not belong to {ctx.locale}; check the "
                      "language of this translation")


def numbers_in(text: str, lang: str = "en") -> set[float]:
    """The numbers written in digits in ``text``, digit groups joined as ``lang`` writes
    them (:func:`~pipeline.content.numerals.ungroup`), either decimal sign read, and
    Korean 만/천/억 multiplied out."""
    values = set()
    for m in re.finditer(r"(?<![\d.,])(\d+)(?:[.,](\d+))?(\s*(?:만|천|억))?",
                         ungroup(text, lang)):
        whole = float(m.group(1))
        if m.group(2):
            whole += float("0." + m.group(2))
        unit = (m.group(3) or "").strip()
        whole *= {"만": 1e4, "천": 1e3, "억": 1e8}.get(unit, 1)
        values.add(whole)
    return values


@unit_check("numbers")
def numbers(ctx: UnitContext) -> Result:
    """A number missing, added or changed: a wrong frequency or count is a wrong message."""
    lang, source_lang = language_of(ctx.locale), language_of(ctx.source_locale)
    tr, src = _bare(ctx.translation), _bare(ctx.source)
    tr_numbers, src_numbers = numbers_in(tr, lang), numbers_in(src, source_lang)
    missing = [value for value in sorted(src_numbers)
               if value not in tr_numbers and not spelled_in(tr, value, lang)]
    added = [value for value in sorted(tr_numbers)
             if value not in src_numbers and not spelled_in(src, value, source_lang)]
    if missing:
        shown = ", ".join(f"{v:g}" for v in missing)
        yield ERROR, (f"the number {shown} of the source is not in the translation, as "
                      "digits or in words; write it as the source has it")
    if added:
        shown = ", ".join(f"{v:g}" for v in added)
        yield ERROR, (f"the number {shown} is not in the source; check the figure (a wrong "
                      "number is a wrong message)")


_END_KINDS = [("question", "?？"), ("exclamation", "!！"), ("ellipsis", "…"),
              ("stop", ".。．"), ("colon", ":：")]


def ending(text: str) -> str:
    stripped = text.rstrip(" \"'»”)")
    if stripped.endswith("..."):
        return "ellipsis"
    for kind, marks in _END_KINDS:
        if stripped[-1:] and stripped[-1] in marks:
            return kind
    return "none"


@unit_check("punctuation")
def punctuation(ctx: UnitContext) -> Result:
    src, tr = ending(ctx.source), ending(ctx.translation)
    is_title = ctx.unit.unit.is_title
    if not is_title or src != "none":
        if src != tr and not (src == "stop" and tr == "none" and is_title):
            yield WARNING, (f"the source ends with {src} punctuation but the translation "
                            f"with {tr}; match them")
    elif tr == "stop":
        yield WARNING, "the source title has no final stop but the translation does; remove it"


@unit_check("whitespace")
def whitespace(ctx: UnitContext) -> Result:
    tr = ctx.translation
    if tr != tr.strip() or re.search(r"\S {2,}\S", tr) or "\t" in tr:
        yield WARNING, "leading, trailing or doubled whitespace; remove it (a voice pauses on it)"


@unit_check("doublewords")
def doublewords(ctx: UnitContext) -> Result:
    double = re.search(r"(?<!\w)(\w+)\s+\1(?!\w)", ctx.translation, re.IGNORECASE)
    if double:
        yield WARNING, f"'{double.group(1)}' twice in a row; remove one unless it is meant"


@unit_check("glossary")
def glossary(ctx: UnitContext) -> Result:
    src, tr, g = ctx.source, ctx.translation, ctx.glossary
    for term, instead in g.forbidden:
        if contains(tr, term):
            fix = f"use '{instead}'" if instead else "rephrase without it"
            yield ERROR, f"'{term}' is forbidden in {ctx.locale}; {fix}"
    for source_term, target_term in g.required:
        # The translation may hold the term inside a compound (국제적십자위원회).
        if contains(src, source_term) and target_term.casefold() not in tr.casefold():
            yield WARNING, (f"'{source_term}' should be translated as '{target_term}'; use "
                            "the glossary term")
    for term in g.keep:
        if contains(src, term) and term not in tr:
            yield WARNING, f"'{term}' is not to be translated; keep it as written"


@unit_check("ko-kp-orthography")
def ko_kp_orthography(ctx: UnitContext) -> Result:
    if ctx.locale != "ko_KP":
        return
    for south, north in southern_forms(ctx.translation):
        yield WARNING, f"'{south}' is the southern form; a northern listener says '{north}'"


@message_check("variables")
def variables(ctx: MessageContext):
    """A campaign variable is the same in every locale, and the locale's voice reads it:
    its letters must be of the locale's script (a value like "7.2 MHz" is read in English
    by a Russian voice). Digits, spaces and punctuation are fine."""
    locale = ctx.catalog.locale
    scripts = scripts_of(locale)
    if not scripts:
        return
    said: set[tuple[str, str]] = set()
    for u in ctx.catalog.units:
        if u.state != "translated":
            continue
        for name in sorted(set(re.findall(r"\{(\w+)\}", u.msgstr))):
            value = ctx.campaign.variables.get(name)
            if value is None or (u.unit.message_id, name) in said:
                continue
            bad = letters_outside(value, scripts, set())
            if bad:
                said.add((u.unit.message_id, name))
                yield u.unit.message_id, ERROR, (
                    f"the variable {{{name}}} = '{value}' has '{bad[0]}', not in the script of "
                    f"{locale}, and the voice would read it so; keep the variable to digits "
                    "and write its words in each translation")
