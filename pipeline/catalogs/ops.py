"""Catalog operations: ``.pot`` from sources (extract), ``.po`` per locale (init, update
with msgmerge semantics), ``.mo`` (compile).

Catalogs are handled with polib, which keeps everything a translation tool writes. Files
are written atomically and only when their content changes, so an update with nothing new
changes no byte.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polib
from babel.messages.plurals import get_plural

from ..content.extract import message_id_of, units_of
from ..content.locales import parse_locale
from ..content.placeholders import placeholder_problem
from ..content.sources import Campaign
from ..fsutil import write_if_changed
from ..layout import Layout
from .pofile import load_po, msgstr_line, now_header, write_catalog

__all__ = ["build_pot", "compile_po", "extract", "FUZZY_OTHER_CONTEXT", "FUZZY_SAME_CONTEXT",
           "init", "Memory", "merge", "new_po", "Problem", "statistics", "Statistics", "update"]

FUZZY_SAME_CONTEXT = 0.5        # similarity needed to carry a translation as fuzzy
FUZZY_OTHER_CONTEXT = 0.85      # ... from a unit of another message (a renamed id)


# --- extract ------------------------------------------------------------------------------

def build_pot(campaign: Campaign) -> polib.POFile:
    pot = polib.POFile()
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


def extract(campaign: Campaign, layout: Layout, dry_run: bool = False) -> bool:
    """Write ``locales/<campaign>.pot``. True if it changed (or, with check, would)."""
    path = layout.pot(campaign.name)
    pot = build_pot(campaign)
    if path.exists():
        old = load_po(path)
        pot.metadata["POT-Creation-Date"] = old.metadata.get("POT-Creation-Date", "")
    return write_catalog(path, pot, dry_run=dry_run)


# --- init ----------------------------------------------------------------------------------

def new_po(pot: polib.POFile, locale: str, campaign: Campaign) -> polib.POFile:
    loc = parse_locale(locale)
    nplurals, expr = get_plural(locale)
    po = polib.POFile()
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


def init(campaign: Campaign, layout: Layout, locale: str, memory: Memory = ()) -> bool:
    """Create the locale's .po from the campaign's units, with fuzzy suggestions from the
    translation ``memory`` (see :func:`merge`). False if it already exists."""
    parse_locale(locale)
    path = layout.po(locale, campaign.name)
    if path.exists():
        return False
    pot = build_pot(campaign)
    pot_file = layout.pot(campaign.name)
    stamp = now_header()
    pot.metadata["POT-Creation-Date"] = (load_po(pot_file).metadata.get("POT-Creation-Date")
                                         if pot_file.exists() else stamp)
    po = new_po(pot, locale, campaign)
    if memory:
        po = merge(po, pot, memory=memory)
    po.metadata["PO-Revision-Date"] = stamp
    write_catalog(path, po, stamp_header=None)
    return True


# --- update (msgmerge semantics) ------------------------------------------------------------

Memory = Sequence[tuple[str, polib.POFile]]     # (where it comes from, a catalog)


def merge(old: polib.POFile, pot: polib.POFile, fuzzy_matching: bool = True,
          keep_obsolete: bool = True, memory: Memory = ()) -> polib.POFile:
    """Merge a translator's catalog with a new template, never losing a translation.

    Exact (context, source) matches keep their translation and state. A changed source
    takes the most similar old translation (same message first) marked fuzzy, with the old
    source as ``#|`` previous msgid (not with ``fuzzy_matching=False``, msgmerge's
    ``--no-fuzzy-matching``: it stays untranslated). What matches nothing becomes obsolete
    (``#~``), or, with ``keep_obsolete=False`` (pybabel's ``--ignore-obsolete``), is
    dropped.

    A unit that nothing in ``old`` matches takes, from the translation ``memory`` (the
    same locale's other catalogs, a compendium), the confirmed translation of the same
    source, or else of the most similar one, as a *fuzzy* suggestion with its origin in a
    translator comment (as ``msgmerge --compendium``, but never as a ready translation):
    a translator confirms it, and until then the gate keeps it out.
    """
    new = polib.POFile()
    new.header = old.header
    new.metadata = dict(old.metadata)
    for kept in ("raw_metadata", "blank_header"):     # the header as written (pofile)
        setattr(new, kept, getattr(old, kept, None))
    new.metadata["POT-Creation-Date"] = pot.metadata.get("POT-Creation-Date", "")
    # Active entries first, so that an obsolete twin never shadows a live translation.
    by_key: dict[tuple, polib.POEntry] = {}
    for e in sorted(old, key=lambda e: e.obsolete):
        by_key.setdefault((e.msgctxt, e.msgid), e)
    used: set[int] = set()
    pending: list[tuple[polib.POEntry, polib.POEntry]] = []
    unfilled: list[tuple[polib.POEntry, polib.POEntry]] = []     # kept, but untranslated
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
            elif not _translated(src):
                unfilled.append((t, entry))
        else:
            pending.append((t, entry))
        new.append(entry)
    remembered = [(origin, e) for origin, po in memory for e in po
                  if not e.obsolete and not e.fuzzy and e.msgstr]
    for t, entry in unfilled if fuzzy_matching else []:
        _suggest(t, entry, remembered)
    for t, entry in pending if fuzzy_matching else []:
        src = _closest(t, [e for e in old if id(e) not in used and e.msgstr])
        if src is None:
            _suggest(t, entry, remembered)
            continue
        used.add(id(src))
        entry.msgstr = src.msgstr
        entry.tcomment = src.tcomment
        entry.flags.append("fuzzy")
        entry.previous_msgid = src.previous_msgid if src.fuzzy and src.previous_msgid else src.msgid
        if src.msgctxt != t.msgctxt:
            entry.previous_msgctxt = src.msgctxt
    for e in old if keep_obsolete else []:
        if id(e) in used or not _translated(e):
            continue
        # Kept whole, plural forms included: msgmerge never loses a translation.
        gone = polib.POEntry(msgctxt=e.msgctxt, msgid=e.msgid, msgstr=e.msgstr,
                             msgid_plural=e.msgid_plural, msgstr_plural=dict(e.msgstr_plural),
                             tcomment=e.tcomment, flags=list(e.flags), obsolete=True,
                             previous_msgid=e.previous_msgid, previous_msgctxt=e.previous_msgctxt)
        new.append(gone)
    return new


def _suggest(target: polib.POEntry, entry: polib.POEntry,
             remembered: list[tuple[str, polib.POEntry]]) -> None:
    """Fill ``entry`` from the memory: the same source first, else the closest; fuzzy."""
    title = (target.msgctxt or "").endswith("|title")
    same = [(o, e) for o, e in remembered if e.msgid == target.msgid
            and (e.msgctxt or "").endswith("|title") == title]
    if same:
        origin, src = same[0]
    else:
        near = _closest(target, [e for _, e in remembered])
        if near is None:
            return
        origin = next(o for o, e in remembered if e is near)
        src = near
        entry.previous_msgid = src.msgid
    entry.msgstr = src.msgstr
    entry.flags.append("fuzzy")
    entry.tcomment = f"suggested from {origin}"


def _translated(entry: polib.POEntry) -> bool:
    return bool(entry.msgstr or any(entry.msgstr_plural.values()))


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


def update(campaign: Campaign, layout: Layout, locale: str, dry_run: bool = False,
           fuzzy_matching: bool = True, keep_obsolete: bool = True,
           memory: Memory = ()) -> bool:
    """Merge the locale's .po with the campaign's current units (see :func:`merge`). True
    if it changed."""
    path = layout.po(locale, campaign.name)
    if not path.exists():
        return False
    old = load_po(path)
    pot = build_pot(campaign)
    pot_file = layout.pot(campaign.name)
    if pot_file.exists():
        pot.metadata["POT-Creation-Date"] = load_po(pot_file).metadata.get(
            "POT-Creation-Date", "")
    # A translator's tool may save the file while this runs: write only over what was read.
    return write_catalog(path, merge(old, pot, fuzzy_matching, keep_obsolete, memory),
                         dry_run=dry_run, stamp_header=None, read_as=old.source_bytes)


# --- compile ---------------------------------------------------------------------------------

@dataclass
class Problem:
    file: str
    line: int | None
    message_id: str
    text: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.text}" if self.line else f"{self.file}: {self.text}"


@dataclass(frozen=True)
class Statistics:
    """What a catalog holds, as msgfmt --statistics counts it: a fuzzy entry is fuzzy,
    not translated (it is left out of the .mo)."""

    translated: int
    fuzzy: int
    untranslated: int

    def __str__(self) -> str:
        def n(count: int, one: str, many: str) -> str:
            return f"{count} {one if count == 1 else many}"
        parts = [n(self.translated, "translated message", "translated messages")]
        if self.fuzzy:                  # (msgfmt leaves out a count of none)
            parts.append(n(self.fuzzy, "fuzzy translation", "fuzzy translations"))
        if self.untranslated:
            parts.append(n(self.untranslated, "untranslated message", "untranslated messages"))
        return ", ".join(parts) + "."


def statistics(path: Path) -> Statistics:
    po = load_po(path)
    live = [e for e in po if not e.obsolete]
    fuzzy = sum(1 for e in live if e.fuzzy)
    translated = sum(1 for e in live if not e.fuzzy and _translated(e))
    return Statistics(translated, fuzzy, len(live) - fuzzy - translated)


def compile_po(path: Path, out: Path, dry_run: bool = False) -> tuple[bool, list[Problem]]:
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
    if dry_run:
        return (not out.exists() or out.read_bytes() != data), []
    return write_if_changed(out, data), []


