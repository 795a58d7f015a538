"""Quality checks: what a listener would hear wrong, found before anything is rendered.

Each check looks at one translated unit (or, for ``duration``, one whole message) and
returns findings. A finding with severity ``error`` keeps that message from being
rendered in that locale; a ``warning`` is only reported.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from num2words import num2words

from .catalogs import LocaleStatus, UnitState, placeholder_problem
from .errors import ConfigError
from .fsutil import atomic_write, relative
from .sources import Campaign
from .textnorm import language_of, load_lexicon, normalize

ERROR, WARNING = "error", "warning"

# The scripts a locale's text is written in (Unicode character name prefixes).
SCRIPTS = {"ko": ("HANGUL",), "ru": ("CYRILLIC",), "uk": ("CYRILLIC",), "en": ("LATIN",),
           "be": ("CYRILLIC",), "de": ("LATIN",), "fr": ("LATIN",)}
# Letters of a sibling language that a voice would read wrongly.
FOREIGN_LETTERS = {"ru": "іїєґІЇЄҐ", "uk": "ыэъёЫЭЪЁ"}
ACRONYM = re.compile(r"^[A-Z]{2,6}$")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")

DURATION_WARN = 0.9             # warn above this share of max_seconds


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str
    campaign: str
    locale: str
    message: str
    file: str
    line: int | None
    text: str

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: [{self.check}] {self.message}: {self.text}"


# --- glossary ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Glossary:
    required: tuple[tuple[str, str], ...] = ()      # (source term, target term)
    forbidden: tuple[tuple[str, str], ...] = ()     # (target term, what to use instead)
    keep: tuple[str, ...] = ()                      # do-not-translate terms

    @property
    def empty(self) -> bool:
        return not (self.required or self.forbidden or self.keep)


def load_glossary(path: Path) -> Glossary:
    """``locales/<locale>/glossary.tsv``: ``require<TAB>source<TAB>target``,
    ``forbid<TAB>term[<TAB>instead]``, ``keep<TAB>term``; ``#`` starts a comment."""
    path = Path(path)
    if not path.exists():
        return Glossary()
    required, forbidden, keep = [], [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.rstrip("\r").split("\t")]
        kind = parts[0]
        if kind == "require" and len(parts) == 3 and parts[1] and parts[2]:
            required.append((parts[1], parts[2]))
        elif kind == "forbid" and len(parts) in (2, 3) and parts[1]:
            forbidden.append((parts[1], parts[2] if len(parts) == 3 else ""))
        elif kind == "keep" and len(parts) == 2 and parts[1]:
            keep.append(parts[1])
        else:
            raise ConfigError(f"glossary line '{line[:40]}' is not understood", path, number,
                              fix="write 'require<TAB>source<TAB>target', "
                                  "'forbid<TAB>term<TAB>instead' or 'keep<TAB>term'")
    return Glossary(tuple(required), tuple(forbidden), tuple(keep))


def _contains(text: str, term: str) -> bool:
    """Term at a word start (so inflected and agglutinated forms match), any case."""
    left = r"(?<!\w)" if term[:1].isalnum() else ""
    return re.search(left + re.escape(term), text, re.IGNORECASE) is not None


# --- ko_KP orthography ----------------------------------------------------------------------

@lru_cache(maxsize=1)
def ko_kp_forms() -> tuple[tuple[str, str, str], ...]:
    """(kind, southern form, northern form) from the shipped list."""
    text = resources.files("pipeline").joinpath("data/ko_kp_orthography.tsv") \
        .read_text(encoding="utf-8")
    rows = []
    for line in text.split("\n"):
        if line.strip() and not line.startswith("#"):
            kind, south, north = line.split("\t")
            rows.append((kind, south, north))
    return tuple(rows)


def southern_forms(text: str) -> list[tuple[str, str]]:
    """(southern, northern) pairs for each southern form that begins a word in ``text``."""
    found = []
    for _kind, south, north in ko_kp_forms():
        if re.search(r"(?<![\w])" + re.escape(south), text):
            found.append((south, north))
    return found


# --- unit checks ----------------------------------------------------------------------------

def _letters_outside(text: str, scripts: tuple[str, ...], allowed_words: set[str],
                     allow_acronyms: bool) -> list[str]:
    bad = []
    for word in re.findall(r"[^\W\d_]+", text):
        if word in allowed_words or (allow_acronyms and ACRONYM.match(word)):
            continue
        for ch in word:
            name = unicodedata.name(ch, "")
            if not name.startswith(scripts):
                bad.append(word)
                break
    return bad


def _numbers(text: str) -> set[float]:
    values = set()
    for m in re.finditer(r"(?<![\d.,])(\d{1,3}(?:[,\u00a0\u202f ]\d{3})+|\d+)(?:\.(\d+))?"
                         r"(\s*(?:만|천|억))?", text):
        whole = float(re.sub(r"[,\u00a0\u202f ]", "", m.group(1)))
        if m.group(2):
            whole += float("0." + m.group(2))
        unit = (m.group(3) or "").strip()
        whole *= {"만": 1e4, "천": 1e3, "억": 1e8}.get(unit, 1)
        values.add(whole)
    return values


def _spelled(value: float, lang: str) -> str | None:
    try:
        return num2words(int(value) if value.is_integer() else value, lang=lang)
    except (NotImplementedError, OverflowError, ValueError):
        return None


_END_KINDS = [("question", "?？"), ("exclamation", "!！"), ("ellipsis", "…"),
              ("stop", ".。．"), ("colon", ":：")]


def _ending(text: str) -> str:
    stripped = text.rstrip(" \"'»”)")
    if stripped.endswith("..."):
        return "ellipsis"
    for kind, marks in _END_KINDS:
        if stripped[-1:] and stripped[-1] in marks:
            return kind
    return "none"


def check_unit(u: UnitState, locale: str, source_locale: str, glossary: Glossary) -> list[tuple]:
    """Findings for one translated unit, as (check, severity, text) triples."""
    src, tr = u.unit.msgid, u.msgstr
    lang, src_lang = language_of(locale), language_of(source_locale)
    out = []
    problem = placeholder_problem(src, tr)
    if problem:
        out.append(("placeholders", ERROR, problem))
    scripts = SCRIPTS.get(lang)
    bare_src, bare_tr = PLACEHOLDER.sub("", src).strip(), PLACEHOLDER.sub("", tr).strip()
    if (tr == src and scripts and SCRIPTS.get(src_lang) != scripts
            and re.search(r"[^\W\d_]", bare_src)
            and not all(w in glossary.keep or ACRONYM.match(w)
                        for w in re.findall(r"[^\W\d_]+", bare_src))):
        out.append(("unchanged", ERROR, "the translation is the source text itself; "
                    "translate it (a voice would read the source language)"))
    elif scripts:
        keep_words = {w for term in glossary.keep for w in re.findall(r"[^\W\d_]+", term)}
        bad = _letters_outside(bare_tr, scripts, keep_words, allow_acronyms=(lang == "ko"))
        if bad:
            out.append(("script", ERROR, f"'{bad[0]}' is not written in the script of {locale}; "
                        "translate or transliterate it, or add it to the glossary as keep"))
        foreign = sorted(set(ch for ch in bare_tr if ch in FOREIGN_LETTERS.get(lang, "")))
        if foreign:
            out.append(("script", ERROR, f"letters {''.join(foreign)} do not belong to {locale}; "
                        "check the language of this translation"))
    missing = []
    tr_numbers = _numbers(tr)
    for value in sorted(_numbers(src)):
        spelled = _spelled(value, lang) if lang in ("ko", "ru", "uk", "en") else None
        if value not in tr_numbers and not (spelled and spelled.lower() in tr.lower()):
            missing.append(value)
    if missing:
        shown = ", ".join(f"{v:g}" for v in missing)
        out.append(("numbers", WARNING, f"the number {shown} of the source is not in the "
                    "translation, as digits or in words; check it"))
    if not u.unit.is_title or _ending(src) != "none":
        if _ending(src) != _ending(tr) and not (_ending(src) == "stop" and _ending(tr) == "none"
                                                and u.unit.is_title):
            out.append(("punctuation", WARNING, f"the source ends with {_ending(src)} "
                        f"punctuation but the translation with {_ending(tr)}; match them"))
    elif _ending(tr) == "stop":
        out.append(("punctuation", WARNING, "the source title has no final stop but the "
                    "translation does; remove it"))
    if tr != tr.strip() or re.search(r"\S {2,}\S", tr) or "\t" in tr:
        out.append(("whitespace", WARNING, "leading, trailing or doubled whitespace; "
                    "remove it (a voice pauses on it)"))
    double = re.search(r"(?<!\w)(\w+)\s+\1(?!\w)", tr, re.IGNORECASE)
    if double:
        out.append(("doublewords", WARNING, f"'{double.group(1)}' twice in a row; "
                    "remove one unless it is meant"))
    for term, instead in glossary.forbidden:
        if _contains(tr, term):
            fix = f"use '{instead}'" if instead else "rephrase without it"
            out.append(("glossary", ERROR, f"'{term}' is forbidden in {locale}; {fix}"))
    for source_term, target_term in glossary.required:
        if _contains(src, source_term) and not _contains(tr, target_term):
            out.append(("glossary", WARNING, f"'{source_term}' should be translated as "
                        f"'{target_term}'; use the glossary term"))
    for term in glossary.keep:
        if _contains(src, term) and term not in tr:
            out.append(("glossary", WARNING, f"'{term}' is not to be translated; keep it "
                        "as written"))
    if locale == "ko_KP":
        for south, north in southern_forms(tr):
            out.append(("ko-kp-orthography", WARNING, f"'{south}' is the southern form; "
                        f"a northern listener says '{north}'"))
    return out


# --- durations ---------------------------------------------------------------------------------

CALIBRATION_TEXT = {
    "ko": "여러분은 혼자가 아닙니다. 여러분을 생각하며 여러분이 살아서 집으로 돌아가기를 "
          "바라는 사람들이 있습니다. 안전할 때에 들으십시오.",
    "ru": "Вы не одни. Есть люди, которые думают о вас и хотят, чтобы вы вернулись домой "
          "живыми. Слушайте, когда это безопасно.",
    "uk": "Ви не самі. Є люди, які думають про вас і хочуть, щоб ви повернулися додому "
          "живими. Слухайте, коли це безпечно.",
    "en": "You are not alone. There are people who think of you and want you to return "
          "home alive. Listen when it is safe to do so.",
}
# Seconds per spoken character for engines that cannot be measured here (e.g. online ones).
DEFAULT_SECONDS_PER_CHAR = {"ko": 0.16, "ru": 0.075, "uk": 0.075, "en": 0.07}


def _spoken_chars(text: str) -> int:
    return len(re.sub(r"\s", "", text))


def seconds_per_char(config, locale: str) -> float:
    """The configured voice's measured speaking rate (cached per engine, voice and text)."""
    from .engines import SpeechRequest, cache_key, get_engine
    from .audio import trim
    voice = config.voice_for(locale)
    lang = language_of(locale)
    text = CALIBRATION_TEXT.get(lang)
    engine = get_engine(voice.engine)
    if text is None or not getattr(engine, "offline", False):
        return DEFAULT_SECONDS_PER_CHAR.get(lang, 0.08)
    request = SpeechRequest(text, locale, voice)
    key = cache_key(engine, request)
    path = config.out_dir / ".cache" / "calibration.json"
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    if key not in known:
        seconds = trim(engine.synthesize(request)).duration
        known[key] = seconds / _spoken_chars(text)
        atomic_write(path, json.dumps(known, sort_keys=True).encode())
    return known[key]


def rendered_seconds(config, campaign: str, locale: str) -> dict[str, tuple[float, str]]:
    """Spoken seconds (without lead-in and lead-out) and text of rendered messages."""
    base = config.out_dir / campaign / locale
    for profile in config.default_profiles:
        path = base / profile / "manifest.json"
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        pad = manifest["profile"].get("lead_in", 0) + manifest["profile"].get("lead_out", 0)
        return {e["id"]: (e["duration"] - pad, e["text"]) for e in manifest["files"]
                if e.get("kind") == "message"}
    return {}


def duration_findings(config, campaign: Campaign, st: LocaleStatus) -> list[tuple]:
    """(message id, severity, text) for messages over (or near) their ``max_seconds``."""
    from .render import PARAGRAPH_PAUSE_S
    out = []
    rate = None
    rendered = rendered_seconds(config, campaign.name, st.locale)
    lexicon = load_lexicon(config.locales_dir / st.locale / "lexicon.tsv")
    for m in campaign.messages:
        mine = [u for u in st.units if u.unit.message_id == m.id]
        if not m.max_seconds or not mine or any(u.state != "translated" for u in mine):
            continue
        _, paragraphs = st.translation(m.id, campaign.variables)
        text = "\n\n".join(paragraphs)
        if m.id in rendered and rendered[m.id][1] == text:
            seconds, how = rendered[m.id][0], "rendered"
        else:
            rate = rate if rate is not None else seconds_per_char(config, st.locale)
            spoken = [normalize(p, st.locale, lexicon) for p in paragraphs]
            seconds = sum(_spoken_chars(p) for p in spoken) * rate + \
                PARAGRAPH_PAUSE_S * (len(spoken) - 1)
            how = "predicted"
        if seconds > m.max_seconds:
            out.append((m.id, ERROR, f"{how} {seconds:.0f} s is over max_seconds "
                        f"{m.max_seconds:g}; shorten the translation or raise max_seconds"))
        elif seconds > DURATION_WARN * m.max_seconds:
            out.append((m.id, WARNING, f"{how} {seconds:.0f} s is close to max_seconds "
                        f"{m.max_seconds:g}; consider shortening"))
    return out


# --- running -------------------------------------------------------------------------------------

def check_locale(config, campaign: Campaign, st: LocaleStatus) -> list[Finding]:
    """Every check on every translated unit of one campaign in one locale."""
    if not st.exists:
        return []
    glossary = load_glossary(config.locales_dir / st.locale / "glossary.tsv")
    file = relative(st.path, config.root)
    findings = []
    for u in st.units:
        if u.state != "translated":
            continue
        for check, severity, text in check_unit(u, st.locale, campaign.source_locale, glossary):
            findings.append(Finding(check, severity, campaign.name, st.locale,
                                    u.unit.message_id, file, u.line, text))
    first_line = {}
    for u in st.units:
        first_line.setdefault(u.unit.message_id, u.line)
    for mid, severity, text in duration_findings(config, campaign, st):
        findings.append(Finding("duration", severity, campaign.name, st.locale, mid, file,
                                first_line.get(mid), text))
    return findings


def blocking(findings: list[Finding]) -> dict[str, str]:
    """Message id → why it must not be rendered (its first error finding)."""
    out: dict[str, str] = {}
    for f in findings:
        if f.severity == ERROR and f.message not in out:
            where = f"line {f.line}: " if f.line else ""
            out[f.message] = f"check {f.check} failed ({where}{f.text})"
    return out


def readiness(config, campaign: Campaign, st: LocaleStatus) -> tuple[dict[str, str | None],
                                                                    list[Finding]]:
    """The render gate: per message, None if ready (translated, nothing fuzzy, no check
    error) or the reason it is not; and the findings behind it."""
    reasons = st.message_reasons(campaign)
    findings = check_locale(config, campaign, st)
    for mid, why in blocking(findings).items():
        if reasons.get(mid) is None:
            reasons[mid] = why
    return reasons, findings
