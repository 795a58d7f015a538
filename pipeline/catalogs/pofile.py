"""Reading and writing .po/.pot files.

Translators' files are read strictly (a line lint, then polib, then Babel's parser with
``abort_invalid=True``, which finds malformed entries with their line; header, plural and
duplicate checks follow). Files are written atomically, in GNU gettext's canonical form
(``poformat``), only when their content changes, and never over a file that changed
since it was read.
"""

from __future__ import annotations

import copy
import io
import os
import re
import time
from pathlib import Path

import polib
from babel.messages.pofile import PoFileError, read_po

from ..errors import CatalogError
from ..fsutil import atomic_write, read_utf8
from . import poformat

__all__ = ["CatalogChanged", "forget_parsed", "load_po", "msgstr_line", "now_header",
           "parse_po", "write_catalog"]

# What this command has parsed: path → ((size, mtime, inode) when parsed, the catalog).
_parsed: dict[str, tuple[tuple[int, int, int], polib.POFile]] = {}


def forget_parsed() -> None:
    """Start a command with no catalog parsed (see :func:`load_po`)."""
    _parsed.clear()


def load_po(path: Path, shared: bool = False) -> polib.POFile:
    """Read a .po/.pot strictly: any malformed entry, header or plural index is an error.

    A command reads a catalog several times (validation, update, compile, status): it is
    parsed once, and each caller gets its own copy, for as long as the file keeps the
    size, modification time and inode it was parsed at. A caller that only reads
    (``shared``) gets the parsed catalog itself, with no copy: it must not change it."""
    path = Path(path)
    try:
        st = os.stat(path)
        seen: tuple[int, int, int] | None = (st.st_size, st.st_mtime_ns, st.st_ino)
    except OSError:
        seen = None                     # read_utf8 says what is wrong
    where = os.path.abspath(path)
    cached = _parsed.get(where)
    if cached is None or cached[0] != seen:
        po = parse_po(path)
        if seen is None:
            return po
        cached = _parsed[where] = (seen, po)
    return cached[1] if shared else copy.deepcopy(cached[1])


def parse_po(path: Path) -> polib.POFile:
    text = read_utf8(path, CatalogError)
    _lint_lines(text, path)
    # Both parsers stumble on the previous msgid of obsolete entries ('#~| ', written by
    # msgmerge): polib drops it, Babel refuses it. Read as '#| ' (same line count), it
    # lands on its entry, and poformat writes it back with '#~| '.
    readable = re.sub(r"^#~\|", "#|", text, flags=re.M)
    try:
        po = polib.pofile(readable)
    except (IOError, ValueError) as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise CatalogError(f"malformed entry: {exc}", path,
                           int(match.group(1)) if match else None,
                           fix="fix the syntax on this line (msgfmt -c shows more)") from None
    po.source_lines = text.split("\n")
    po.source_bytes = text.encode("utf-8")
    _check_header(po, path, text)
    _as_written(po, text)
    _check_plurals(po, path)
    _check_unique(po, path)
    try:
        read_po(io.StringIO(readable), abort_invalid=True)
    except PoFileError as exc:
        raise CatalogError(f"malformed entry: {_babel_problem(exc)}", path,
                           getattr(exc, "lineno", None),
                           fix="fix the quoting or keyword on this line (msgfmt -c shows more)") from None
    return po


_STRING_LINE = re.compile(
    r'^(#~ ?)?(#\| ?)?((msgctxt|msgid|msgid_plural|msgstr|msgstr\[\d+\])\s+)?'
    r'"((?:[^"\\]|\\.)*)"\s*$')
_KEYWORD_START = re.compile(r'^(#~ ?)?(#\| ?)?(msg\w*|")')


# What str.splitlines() takes for a line break besides LF (and CRLF's CR).
_OTHER_BREAKS = frozenset("\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def _lint_lines(text: str, path: Path) -> None:
    """Find what both parsers let through: unterminated strings, stray quotes, bad keywords,
    and line breaks other than LF (polib splits lines as ``str.splitlines`` does, at
    U+2028 or a form feed too, and then drops characters around them)."""
    for number, line in enumerate(text.split("\n"), 1):
        breaks = [c for c in line.rstrip("\r") if c in _OTHER_BREAKS]
        if breaks:
            column = line.index(breaks[0]) + 1
            raise CatalogError(f"a line break U+{ord(breaks[0]):04X} inside a line, at column "
                               f"{column}", path, number,
                               fix="remove it; write a line break in a string as \\n")
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#") and not _KEYWORD_START.match(stripped):
            continue
        if _STRING_LINE.match(stripped):
            continue
        if _KEYWORD_START.match(stripped):
            found = re.match(r'^(?:#~ ?)?(?:#\| ?)?(\S*)', stripped)
            keyword = found.group(1) if found else ""
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
    return polib.unescape("".join(parts))


def _as_written(po: polib.POFile, text: str) -> None:
    """Keep what polib reads loosely as the file has it, so that writing it back changes
    no byte: polib strips every comment line (trailing spaces go), drops an empty ``#.``
    line and rewrites the header's values (spacing, order). gettext keeps a comment as
    written after its mark and one space, and the header as written."""
    lines = [line.removesuffix("\r") for line in po.source_lines]

    def comments(start: int) -> tuple[str, str]:
        translator, extracted = [], []
        for at in range(start, len(lines)):     # an entry's lines only, not a copy of all
            line = lines[at]
            if line.startswith("#."):
                extracted.append(line[2:].removeprefix(" "))
            elif line.startswith(("#:", "#,")):
                continue
            elif line.startswith("#") and not line.startswith(("#|", "#~")):
                translator.append(line[1:].removeprefix(" "))
            else:
                break
        return "\n".join(translator), "\n".join(extracted)

    def same(ours: str, polibs: str) -> bool:      # equal but for what polib strips
        return [x.strip() for x in ours.split("\n") if x.strip()] == \
            [x.strip() for x in polibs.split("\n") if x.strip()]

    for entry in po:
        if entry.linenum:
            translator, extracted = comments(entry.linenum - 1)
            if same(translator, entry.tcomment) and same(extracted, entry.comment):
                entry.tcomment, entry.comment = translator, extracted
    header = comments(0)[0]
    if po.header and same(header, po.header):
        po.header = header
    elif not po.header and lines[0] == "#":
        po.blank_header = True      # a lone '#': no text, but a line polib cannot hold
    raw = _raw_header(text)
    if raw and poformat.header_values(raw) == po.metadata:
        po.raw_metadata = raw


def _nplurals(plural_forms: str) -> int | None:
    match = re.match(r"^\s*nplurals\s*=\s*(\d+)\s*;\s*plural\s*=\s*([^;]+);?\s*$", plural_forms)
    if not match or int(match.group(1)) < 1:
        return None
    return int(match.group(1))


def _check_unique(po: polib.POFile, path: Path) -> None:
    """One live entry per (context, source): with two, tools disagree on which counts."""
    seen: dict[tuple, int] = {}
    for entry in po:
        if entry.obsolete:
            continue
        key = (entry.msgctxt, entry.msgid)
        if key in seen:
            what = f"context '{entry.msgctxt}'" if entry.msgctxt is not None else "no context"
            raise CatalogError(f"a second entry with {what} and the same msgid (the first is "
                               f"on line {seen[key]})", path, entry.linenum,
                               fix="keep one of the two entries")
        seen[key] = entry.linenum


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

def now_header() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    stamp = int(epoch) if epoch and epoch.isdigit() else int(time.time())
    return time.strftime("%Y-%m-%d %H:%M+0000", time.gmtime(stamp))


def _render(po: polib.POFile) -> bytes:
    return poformat.dumps(po).encode("utf-8")


def _masked(data: bytes) -> bytes:
    """The file with its date headers blanked: two files equal here differ only in dates."""
    return re.sub(rb'^"(POT-Creation-Date|PO-Revision-Date): [^"\\]*\\n"$', rb'"\1: \\n"',
                  data, flags=re.M)


def write_catalog(path: Path, po: polib.POFile, dry_run: bool = False,
                  stamp_header: str | None = "POT-Creation-Date",
                  read_as: bytes | None = None) -> bool:
    """Write ``po`` if its content changed beyond the date headers. True if (to be) written.

    ``stamp_header`` is set to now when content changed; when only dates would change,
    the old file stays as it is, byte for byte. ``read_as``: the bytes ``po`` was made
    from; if the file no longer holds them (saved meanwhile by someone else), nothing is
    written and the error names the file.
    """
    path = Path(path)
    old = path.read_bytes() if path.exists() else None
    if read_as is not None and old != read_as:
        raise _changed(path)
    new = _render(po)
    if old is not None and _masked(old) == _masked(new):
        return False
    if stamp_header:
        po.metadata[stamp_header] = now_header()
        new = _render(po)
    if dry_run:
        return True
    if read_as is not None and (path.read_bytes() if path.exists() else None) != read_as:
        raise _changed(path)            # checked again just before the rename
    atomic_write(path, new)             # differs from ``old``: its masked form did
    return True


class CatalogChanged(CatalogError):
    """A catalog was saved by someone else while a command merged it: not bad input, a
    race that a second run settles."""

    exit_code = 1


def _changed(path: Path) -> CatalogChanged:
    return CatalogChanged("changed on disk while broadcast was merging it; nothing was "
                          "written to it", path,
                          fix="run broadcast update again (the translator's save is kept)")
