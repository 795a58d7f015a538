"""Catalogs: ``.pot`` from sources, ``.po`` per locale (init/update), ``.mo`` (compile), status.

Translators' files are read strictly (Babel's parser with ``abort_invalid=True`` finds
malformed entries with their line; a header and plural check follows) and handled with
polib, which keeps everything a translation tool writes. Files are written atomically and
only when their content changes, so an update with nothing new changes no byte.
"""

from __future__ import annotations

import difflib
import io
import os
import re
import string
import time
from dataclasses import dataclass, field
from pathlib import Path

import polib
from babel import Locale, UnknownLocaleError
from babel.messages.plurals import get_plural
from babel.messages.pofile import PoFileError, read_po

from .errors import CatalogError
from .extract import Unit, message_id_of, units_of
from .fsutil import write_if_changed
from .sources import Campaign, fill, placeholders

WRAP = 79                       # GNU gettext's default page width
LOCALE_RE = re.compile(r"^[a-z]{2,3}(_[A-Z][a-z]{3})?(_[A-Z]{2}|_\d{3})?$")
FUZZY_SAME_CONTEXT = 0.5        # similarity needed to carry a translation as fuzzy
FUZZY_OTHER_CONTEXT = 0.85      # ... from a unit of another message (a renamed id)


# --- paths -------------------------------------------------------------------------------

def pot_path(locales_dir: Path, campaign: str) -> Path:
    return Path(locales_dir) / f"{campaign}.pot"


def po_path(locales_dir: Path, locale: str, campaign: str) -> Path:
    return Path(locales_dir) / locale / "LC_MESSAGES" / f"{campaign}.po"


def mo_path(locales_dir: Path, locale: str, campaign: str) -> Path:
    return po_path(locales_dir, locale, campaign).with_suffix(".mo")


def catalog_locales(locales_dir: Path) -> list[str]:
    """Locales that have a catalog folder."""
    base = Path(locales_dir)
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir()
                  if (p / "LC_MESSAGES").is_dir() and LOCALE_RE.match(p.name))


def parse_locale(code: str, source: str = "--locale") -> Locale:
    """Babel's locale for ``code``; an unknown or malformed code is a clear error."""
    if not LOCALE_RE.match(code or ""):
        raise CatalogError(f"'{code}' is not a locale code", source,
                           fix="use a code like ko_KP, ru, uk or en")
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        raise CatalogError(f"unknown locale '{code}'", source,
                           fix="use a code from Babel's CLDR data, like ko_KP, ru, uk or en") from None


# --- reading -----------------------------------------------------------------------------

def load_po(path: Path) -> polib.POFile:
    """Read a .po/.pot strictly: any malformed entry, header or plural index is an error."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"cannot read: {exc.strerror}", path,
                           fix="check the path and its permissions") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise CatalogError("not valid UTF-8", path, line,
                           fix="save the catalog as UTF-8 (Poedit does by default)") from None
    _lint_lines(text, path)
    try:
        po = polib.pofile(text, wrapwidth=WRAP)
    except (IOError, ValueError) as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise CatalogError(f"malformed entry: {exc}", path,
                           int(match.group(1)) if match else None,
                           fix="fix the syntax on this line (msgfmt -c shows more)") from None
    po.source_lines = text.split("\n")
    _check_header(po, path, text)
    _check_plurals(po, path)
    try:
        read_po(io.StringIO(text), abort_invalid=True)
    except PoFileError as exc:
        raise CatalogError(f"malformed entry: {_babel_problem(exc)}", path,
                           getattr(exc, "lineno", None),
                           fix="fix the quoting or keyword on this line (msgfmt -c shows more)") from None
    return po


_STRING_LINE = re.compile(
    r'^(#~ ?)?(#\| ?)?((msgctxt|msgid|msgid_plural|msgstr|msgstr\[\d+\])\s+)?'
    r'"((?:[^"\\]|\\.)*)"\s*$')
_KEYWORD_START = re.compile(r'^(#~ ?)?(#\| ?)?(msg\w*|")')


def _lint_lines(text: str, path: Path) -> None:
    """Find what both parsers let through: unterminated strings, stray quotes, bad keywords."""
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#") and not _KEYWORD_START.match(stripped):
            continue
        if _STRING_LINE.match(stripped):
            continue
        if _KEYWORD_START.match(stripped):
            keyword = re.match(r'^(?:#~ ?)?(?:#\| ?)?(\S*)', stripped).group(1)
            if keyword.startswith("msg") and keyword not in (
                    "msgctxt", "msgid", "msgid_plural", "msgstr") and \
                    not re.match(r"^msgstr\[\d+\]$", keyword):
                problem, fix = (f"unknown keyword '{keyword}'",
                                "use msgctxt, msgid, msgid_plural, msgstr or msgstr[N]")
            else:
                problem, fix = ("a string is not closed, or has an unescaped '\"' inside",
                                'quote each string as "…" and escape quotes inside as \\"')
        else:
            problem, fix = (f"unexpected text '{stripped[:30]}'",
                            "start the line with a keyword, a quoted string or '#'")
        raise CatalogError(f"malformed entry: {problem}", path, number, fix=fix)


def msgstr_line(po: polib.POFile, entry: polib.POEntry) -> int:
    """The line of an entry's msgstr in the file it was read from (where a fix goes)."""
    lines = getattr(po, "source_lines", None)
    if lines and entry.linenum:
        for number in range(entry.linenum - 1, min(len(lines), entry.linenum + 200)):
            if lines[number].lstrip("#~ ").startswith("msgstr"):
                return number + 1
    return entry.linenum


def _babel_problem(exc: PoFileError) -> str:
    message = str(exc).split(" on ")[0].strip()
    return message or "syntax error"


def _check_header(po: polib.POFile, path: Path, text: str) -> None:
    header_line = 1
    match = re.search(r'^msgid ""\s*$', text, re.M)
    if match:
        header_line = text.count("\n", 0, match.start()) + 1
    if not po.metadata:
        raise CatalogError("the header entry (msgid \"\") is missing or empty", path, header_line,
                           fix="restore the header, e.g. by re-creating the file with broadcast init")
    # Every header line must be 'Name: value'.
    raw = _raw_header(text)
    for offset, line in enumerate(raw.split("\n")):
        if line and not re.match(r"^[A-Za-z][A-Za-z0-9-]*: ?", line):
            raise CatalogError(f"header line '{line[:40]}' is not 'Name: value'", path,
                               header_line + 2 + offset,
                               fix="restore the header field's name and colon")
    ctype = po.metadata.get("Content-Type", "")
    if "charset=utf-8" not in ctype.lower().replace(" ", ""):
        raise CatalogError(f"header Content-Type '{ctype}' is not UTF-8", path, header_line,
                           fix='use "Content-Type: text/plain; charset=UTF-8\\n"')
    plural = po.metadata.get("Plural-Forms")
    if plural is not None and _nplurals(plural) is None:
        raise CatalogError(f"header Plural-Forms '{plural}' is malformed", path, header_line,
                           fix="use 'nplurals=N; plural=EXPR;' as in Babel's data for the locale")


def _raw_header(text: str) -> str:
    """The header msgstr as written (escapes resolved), for line-by-line checks."""
    match = re.search(r'^msgid ""\s*\nmsgstr ((?:".*"\s*\n?)+)', text, re.M)
    if not match:
        return ""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(1))
    joined = "".join(parts)
    return joined.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")


def _nplurals(plural_forms: str) -> int | None:
    match = re.match(r"^\s*nplurals\s*=\s*(\d+)\s*;\s*plural\s*=\s*([^;]+);?\s*$", plural_forms)
    if not match or int(match.group(1)) < 1:
        return None
    return int(match.group(1))


def _check_plurals(po: polib.POFile, path: Path) -> None:
    nplurals = _nplurals(po.metadata.get("Plural-Forms", "nplurals=2; plural=(n != 1);")) or 2
    for entry in po:
        if entry.msgstr_plural and not entry.msgid_plural:
            raise CatalogError("msgstr[N] on an entry without msgid_plural", path, entry.linenum,
                               fix="write a plain msgstr for this entry")
        for index in entry.msgstr_plural:
            if int(index) >= nplurals:
                raise CatalogError(f"plural index msgstr[{index}] but the header says "
                                   f"nplurals={nplurals}", path, entry.linenum,
                                   fix=f"use msgstr[0] to msgstr[{nplurals - 1}]")


# --- writing -----------------------------------------------------------------------------

def _now_header() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    stamp = int(epoch) if epoch and epoch.isdigit() else int(time.time())
    return time.strftime("%Y-%m-%d %H:%M+0000", time.gmtime(stamp))


def _render(po: polib.POFile) -> bytes:
    return (str(po).rstrip("\n") + "\n").encode("utf-8")


def _masked(data: bytes) -> bytes:
    """The file with its date headers blanked: two files equal here differ only in dates."""
    return re.sub(rb'^"(POT-Creation-Date|PO-Revision-Date): [^"\\]*\\n"$', rb'"\1: \\n"',
                  data, flags=re.M)


def write_catalog(path: Path, po: polib.POFile, dry_run: bool = False,
                  stamp_header: str | None = "POT-Creation-Date") -> bool:
    """Write ``po`` if its content changed beyond the date headers. True if (to be) written.

    ``stamp_header`` is set to now when content changed; when only dates would change,
    the old file stays as it is, byte for byte.
    """
    path = Path(path)
    old = path.read_bytes() if path.exists() else None
    new = _render(po)
    if old is not None and _masked(old) == _masked(new):
        return False
    if stamp_header:
        po.metadata[stamp_header] = _now_header()
        new = _render(po)
    if dry_run:
        return True
    return write_if_changed(path, new)


# --- extract ------------------------------------------------------------------------------

def build_pot(campaign: Campaign) -> polib.POFile:
    pot = polib.POFile(wrapwidth=WRAP)
    pot.header = (f"Translations template for the '{campaign.name}' campaign: {campaign.title}.\n"
                  f"Generated from {campaign.rel_path} by 'broadcast extract'; do not edit.")
    pot.metadata = {
        "Project-Id-Version": campaign.name,
        "Report-Msgid-Bugs-To": "",
        "POT-Creation-Date": "",
        "PO-Revision-Date": "YEAR-MO-DA HO:MI+ZONE",
        "Last-Translator": "",
        "Language-Team": "",
        "Language": "",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "X-Source-Language": campaign.source_locale,
    }
    for unit in units_of(campaign):
        pot.append(polib.POEntry(
            msgctxt=unit.msgctxt, msgid=unit.msgid, msgstr="",
            comment="\n".join(unit.comments),
            occurrences=[(campaign.rel_path, str(unit.line))],
            flags=list(unit.flags)))
    return pot


def extract(campaign: Campaign, locales_dir: Path, check: bool = False) -> bool:
    """Write ``locales/<campaign>.pot``. True if it changed (or, with check, would)."""
    path = pot_path(locales_dir, campaign.name)
    pot = build_pot(campaign)
    if path.exists():
        old = load_po(path)
        pot.metadata["POT-Creation-Date"] = old.metadata.get("POT-Creation-Date", "")
    return write_catalog(path, pot, dry_run=check)


# --- init ----------------------------------------------------------------------------------

def new_po(pot: polib.POFile, locale: str, campaign: Campaign) -> polib.POFile:
    loc = parse_locale(locale)
    nplurals, expr = get_plural(locale)
    po = polib.POFile(wrapwidth=WRAP)
    name = loc.get_display_name("en")
    po.header = f"{name} translations for the '{campaign.name}' campaign: {campaign.title}."
    po.metadata = dict(pot.metadata)
    po.metadata.update({
        "Language": locale,
        "Language-Team": f"{name} ({loc.get_display_name(loc)})",
        "Plural-Forms": f"nplurals={nplurals}; plural={expr};",
    })
    for entry in pot:
        po.append(polib.POEntry(msgctxt=entry.msgctxt, msgid=entry.msgid, msgstr="",
                                comment=entry.comment, occurrences=list(entry.occurrences),
                                flags=list(entry.flags)))
    return po


def init(campaign: Campaign, locales_dir: Path, locale: str) -> bool:
    """Create the locale's .po from the campaign's units. False if it already exists."""
    parse_locale(locale)
    path = po_path(locales_dir, locale, campaign.name)
    if path.exists():
        return False
    pot = build_pot(campaign)
    pot_file = pot_path(locales_dir, campaign.name)
    stamp = _now_header()
    pot.metadata["POT-Creation-Date"] = (load_po(pot_file).metadata.get("POT-Creation-Date")
                                         if pot_file.exists() else stamp)
    po = new_po(pot, locale, campaign)
    po.metadata["PO-Revision-Date"] = stamp
    write_catalog(path, po, stamp_header=None)
    return True


# --- update (msgmerge semantics) ------------------------------------------------------------

def merge(old: polib.POFile, pot: polib.POFile) -> polib.POFile:
    """Merge a translator's catalog with a new template, never losing a translation.

    Exact (context, source) matches keep their translation and state. A changed source
    takes the most similar old translation (same message first) marked fuzzy, with the old
    source as ``#|`` previous msgid. What matches nothing becomes obsolete (``#~``).
    """
    new = polib.POFile(wrapwidth=WRAP)
    new.header = old.header
    new.metadata = dict(old.metadata)
    new.metadata["POT-Creation-Date"] = pot.metadata.get("POT-Creation-Date", "")
    # Active entries first, so that an obsolete twin never shadows a live translation.
    by_key: dict[tuple, polib.POEntry] = {}
    for e in sorted(old, key=lambda e: e.obsolete):
        by_key.setdefault((e.msgctxt, e.msgid), e)
    used: set[int] = set()
    pending: list[tuple[polib.POEntry, polib.POEntry]] = []
    for t in pot:
        entry = polib.POEntry(msgctxt=t.msgctxt, msgid=t.msgid, msgstr="", comment=t.comment,
                              occurrences=list(t.occurrences), flags=list(t.flags))
        src = by_key.get((t.msgctxt, t.msgid))
        if src is not None:
            used.add(id(src))
            entry.msgstr = src.msgstr
            entry.tcomment = src.tcomment
            if src.fuzzy:
                entry.flags.append("fuzzy")
                entry.previous_msgid = src.previous_msgid
                entry.previous_msgctxt = src.previous_msgctxt
        else:
            pending.append((t, entry))
        new.append(entry)
    for t, entry in pending:
        src = _closest(t, [e for e in old if id(e) not in used and e.msgstr])
        if src is None:
            continue
        used.add(id(src))
        entry.msgstr = src.msgstr
        entry.tcomment = src.tcomment
        entry.flags.append("fuzzy")
        entry.previous_msgid = src.previous_msgid if src.fuzzy and src.previous_msgid else src.msgid
        if src.msgctxt != t.msgctxt:
            entry.previous_msgctxt = src.msgctxt
    for e in old:
        if id(e) in used or not e.msgstr:
            continue
        gone = polib.POEntry(msgctxt=e.msgctxt, msgid=e.msgid, msgstr=e.msgstr,
                             tcomment=e.tcomment, flags=list(e.flags), obsolete=True,
                             previous_msgid=e.previous_msgid, previous_msgctxt=e.previous_msgctxt)
        new.append(gone)
    return new


def _closest(target: polib.POEntry, candidates: list[polib.POEntry]) -> polib.POEntry | None:
    best, best_score = None, 0.0
    for c in candidates:
        same = c.msgctxt == target.msgctxt
        # A title only matches a title, a paragraph only a paragraph.
        if (c.msgctxt or "").endswith("|title") != (target.msgctxt or "").endswith("|title"):
            continue
        score = difflib.SequenceMatcher(None, target.msgid, c.msgid, autojunk=False).ratio()
        needed = FUZZY_SAME_CONTEXT if same else FUZZY_OTHER_CONTEXT
        if score >= needed and (score + (0.5 if same else 0)) > best_score:
            best, best_score = c, score + (0.5 if same else 0)
    return best


def update(campaign: Campaign, locales_dir: Path, locale: str, check: bool = False) -> bool:
    """Merge the locale's .po with the campaign's current units. True if it changed."""
    path = po_path(locales_dir, locale, campaign.name)
    if not path.exists():
        return False
    old = load_po(path)
    pot = build_pot(campaign)
    pot_file = pot_path(locales_dir, campaign.name)
    if pot_file.exists():
        pot.metadata["POT-Creation-Date"] = load_po(pot_file).metadata.get(
            "POT-Creation-Date", "")
    return write_catalog(path, merge(old, pot), dry_run=check, stamp_header=None)


# --- compile ---------------------------------------------------------------------------------

@dataclass
class Problem:
    file: str
    line: int | None
    message_id: str
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text}" if self.line else f"{self.file}: {self.text}"


def placeholder_problem(msgid: str, msgstr: str) -> str | None:
    """Why a translation's ``{placeholders}`` cannot stand for its source's, or None."""
    try:
        list(string.Formatter().parse(msgstr))
    except ValueError:
        return "the translation has an unbalanced '{' or '}'; write literal braces as {{ }}"
    want, have = placeholders(msgid), placeholders(msgstr)
    if want == have:
        return None
    parts = []
    if want - have:
        parts.append("missing " + ", ".join(f"{{{n}}}" for n in sorted(want - have)))
    if have - want:
        parts.append("unknown " + ", ".join(f"{{{n}}}" for n in sorted(have - want)))
    return (f"placeholders differ from the source ({'; '.join(parts)}); "
            "copy the {names} from the source unchanged")


def compile_po(path: Path, out: Path, check: bool = False) -> tuple[bool, list[Problem]]:
    """Write the .mo of a .po: fuzzy and empty entries left out.

    A translation whose placeholders differ from its source is refused: the .mo is not
    written, and each such entry is returned as a problem.
    """
    po = load_po(path)
    problems = []
    for e in po:
        if e.obsolete or e.fuzzy or not e.msgstr:
            continue
        why = placeholder_problem(e.msgid, e.msgstr)
        if why:
            problems.append(Problem(str(path), msgstr_line(po, e), message_id_of(e.msgctxt), why))
    if problems:
        return False, problems
    data = po.to_binary()
    if check:
        return (not out.exists() or out.read_bytes() != data), []
    return write_if_changed(out, data), []


# --- status ----------------------------------------------------------------------------------

@dataclass
class UnitState:
    unit: Unit
    state: str                  # translated | fuzzy | untranslated | missing
    msgstr: str = ""
    line: int | None = None


@dataclass
class LocaleStatus:
    campaign: str
    locale: str
    path: Path
    exists: bool
    units: list[UnitState] = field(default_factory=list)
    obsolete: int = 0

    def count(self, state: str) -> int:
        return sum(1 for u in self.units if u.state == state)

    @property
    def words_to_translate(self) -> int:
        return sum(len(u.unit.msgid.split()) for u in self.units if u.state != "translated")

    def message_reasons(self, campaign: Campaign) -> dict[str, str | None]:
        """For each message id in source order, None if fully translated, else why not.

        Translation is not all of readiness: :func:`pipeline.checks.readiness` adds the
        checks' errors.
        """
        reasons: dict[str, str | None] = {}
        for m in campaign.messages:
            mine = [u for u in self.units if u.unit.message_id == m.id]
            reasons[m.id] = _reason(mine, self.exists)
        return reasons

    def translation(self, message_id: str,
                    variables: dict[str, str]) -> tuple[str, list[str]]:
        """The translated title and paragraphs of a ready message, variables filled in."""
        mine = [u for u in self.units if u.unit.message_id == message_id]
        title = next(u.msgstr for u in mine if u.unit.is_title)
        return (fill(title, variables),
                [fill(u.msgstr, variables) for u in mine if not u.unit.is_title])


def _reason(units: list[UnitState], exists: bool) -> str | None:
    if not exists:
        return "no catalog for this locale (run broadcast init LOCALE)"
    problems = []
    for state, label in (("untranslated", "untranslated"), ("fuzzy", "fuzzy"),
                         ("missing", "not in the catalog yet (run broadcast update)")):
        n = sum(1 for u in units if u.state == state)
        if n:
            problems.append(f"{n} {'unit' if n == 1 else 'units'} {label}")
    return "; ".join(problems) or None


def locale_status(campaign: Campaign, locales_dir: Path, locale: str) -> LocaleStatus:
    path = po_path(locales_dir, locale, campaign.name)
    units = units_of(campaign)
    if not path.exists():
        return LocaleStatus(campaign.name, locale, path, False,
                            [UnitState(u, "untranslated") for u in units])
    po = load_po(path)
    entries = {(e.msgctxt, e.msgid): e for e in po if not e.obsolete}
    states = []
    for u in units:
        e = entries.get(u.key)
        if e is None:
            states.append(UnitState(u, "missing"))
        elif not e.msgstr:
            states.append(UnitState(u, "untranslated", line=msgstr_line(po, e)))
        elif e.fuzzy:
            states.append(UnitState(u, "fuzzy", e.msgstr, msgstr_line(po, e)))
        else:
            states.append(UnitState(u, "translated", e.msgstr, msgstr_line(po, e)))
    return LocaleStatus(campaign.name, locale, path, True, states,
                        obsolete=sum(1 for e in po if e.obsolete))
