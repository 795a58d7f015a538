"""Writing .po/.pot text in GNU gettext's canonical form.

``msgcat``, ``msgmerge``, Poedit and Weblate (translate-toolkit) all write what GNU
gettext's ``write-po.c`` writes, so a translator's save followed by ``broadcast update``
must change no byte, and the other way round. That form, as this module writes it:

- a string that fits on its keyword's line stays there; otherwise the keyword line holds
  ``""`` and the string follows on lines of at most 79 columns, each ``\\n`` ending a line;
- inside a line, the break goes at the last Unicode line-break opportunity (UAX #14) that
  fits, never inside an escape sequence, and not just before a final ``\\n``; wide
  characters (Hangul) count two columns. Like gettext, this asks libunistring for the
  opportunities (through ctypes; it is on every Debian and Ubuntu system, as apt needs
  it). Where it is missing, breaks go after spaces only: the same files for most text,
  not for every line gettext would break elsewhere (between Hangul syllables, after '/');
- comments are written as they were read, never re-wrapped; references are wrapped
  between file names; obsolete entries carry ``#~`` before every line.

polib keeps the data model; this module only turns it into text.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import unicodedata

import polib

__all__ = ["dumps", "entry_lines", "field", "WIDTH"]

WIDTH = 79                      # GNU gettext's default page width

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r",
            "\a": "\\a", "\b": "\\b", "\f": "\\f", "\v": "\\v"}
UNDEFINED, PROHIBITED, POSSIBLE = 0, 1, 2       # libunistring's UC_BREAK_* values


@functools.cache
def _unistring():
    """libunistring's ``ulc_width_linebreaks``, or None where the library is missing.

    Its usual names are tried first: ``find_library`` runs ``ldconfig -p`` on Linux."""
    def names():
        yield from ("libunistring.so.5", "libunistring.so.2")
        yield ctypes.util.find_library("unistring")
    for name in filter(None, names()):
        try:
            function = ctypes.CDLL(name).ulc_width_linebreaks
            break
        except (OSError, AttributeError):
            continue
    else:
        return None
    function.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                         ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p]
    function.restype = ctypes.c_int
    return function


def _columns(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _breaks(portion: bytes, overrides: bytes, width: int, startcol: int) -> bytes:
    """Per byte of ``portion``: POSSIBLE where a line break goes (as libunistring decides)."""
    function = _unistring()
    if function is not None:
        out = ctypes.create_string_buffer(len(portion))
        function(portion, len(portion), width, startcol, 0, overrides, b"UTF-8", out)
        return out.raw
    # Without libunistring: break after a space, at the last one that fits.
    result = bytearray(len(portion))
    column, last_space, index = startcol, None, 0
    text = portion.decode("utf-8")
    starts = []
    for char in text:
        starts.append(index)
        index += len(char.encode("utf-8"))
    for position, char in enumerate(text):
        if position and text[position - 1] == " " and overrides[starts[position]] != PROHIBITED \
                and char != " ":
            last_space = position
        column += _columns(char)
        if column > width and last_space is not None:
            result[starts[last_space]] = POSSIBLE
            column = sum(_columns(c) for c in text[last_space:position + 1])
            last_space = None
    return bytes(result)


def _portions(text: str) -> list[str]:
    """The string cut after each newline, as gettext prints it."""
    parts = text.split("\n")
    pieces = [part + "\n" for part in parts[:-1]]
    if parts[-1] or not pieces:
        pieces.append(parts[-1])
    return pieces


def _escaped(portion: str) -> tuple[bytes, bytes]:
    """The portion escaped, and per byte: may a break go before it?"""
    data, overrides = bytearray(), bytearray()
    for char in portion:
        if char in _ESCAPES:
            data += _ESCAPES[char].encode()
            overrides += bytes([UNDEFINED, PROHIBITED])
        else:
            encoded = char.encode("utf-8")
            data += encoded
            overrides += bytes([UNDEFINED]) + bytes([PROHIBITED]) * (len(encoded) - 1)
    if portion.endswith("\n"):
        overrides[-2] = PROHIBITED          # never break just before a final \n
    return bytes(data), bytes(overrides)


def field(keyword: str, text: str, prefix: str = "") -> list[str]:
    """``keyword "text"`` as GNU gettext's write-po.c wraps it, each line after ``prefix``."""
    startcol_after_break = len(prefix) + 1
    width = WIDTH - 1 - startcol_after_break
    lines: list[str] = []
    first = True
    current = f"{prefix}{keyword} \""
    portions = _portions(text)
    for number, portion in enumerate(portions):
        data, overrides = _escaped(portion)
        more = number < len(portions) - 1
        while True:
            startcol = len(prefix) + (len(keyword) + 1 if first else 0) + 1 - startcol_after_break
            breaks = _breaks(data, overrides, width, startcol) if data else b""
            if first and data and (more or startcol > width or POSSIBLE in breaks):
                lines.append(f'{prefix}{keyword} ""')
                first = False
                current = f'{prefix}"'
                continue
            break
        first = False
        start = 0
        for index, kind in enumerate(breaks):
            if kind == POSSIBLE and index > start:
                lines.append(current + data[start:index].decode("utf-8") + '"')
                current = f'{prefix}"'
                start = index
        lines.append(current + data[start:].decode("utf-8") + '"')
        current = f'{prefix}"'
    return lines


def _references(entry: polib.POEntry) -> list[str]:
    names = [f"{path}:{line}" if line else path for path, line in entry.occurrences]
    out: list[str] = []
    current = "#:"
    for name in names:
        if current != "#:" and len(current) + 1 + len(name) > WIDTH:
            out.append(current)
            current = "#:"
        current += " " + name
    if current != "#:":
        out.append(current)
    return out


def _comment_lines(mark: str, text: str) -> list[str]:
    return [f"{mark} {line}" if line else mark for line in text.split("\n")]


def entry_lines(entry: polib.POEntry) -> list[str]:
    """One entry, comments first, as GNU gettext orders them."""
    lines: list[str] = []
    if entry.tcomment:
        lines += _comment_lines("#", entry.tcomment)
    if entry.comment:
        lines += _comment_lines("#.", entry.comment)
    if entry.occurrences and not entry.obsolete:
        lines += _references(entry)
    if entry.flags:
        lines.append("#, " + ", ".join(entry.flags))
    previous = "#~| " if entry.obsolete else "#| "
    for keyword in ("msgctxt", "msgid", "msgid_plural"):
        value = getattr(entry, f"previous_{keyword}", None)
        if value is not None:
            lines += field(keyword, value, previous)
    prefix = "#~ " if entry.obsolete else ""
    if entry.msgctxt is not None:
        lines += field("msgctxt", entry.msgctxt, prefix)
    lines += field("msgid", entry.msgid, prefix)
    if entry.msgid_plural:
        lines += field("msgid_plural", entry.msgid_plural, prefix)
    if entry.msgstr_plural:
        for index in sorted(entry.msgstr_plural, key=int):
            lines += field(f"msgstr[{index}]", entry.msgstr_plural[index], prefix)
    else:
        lines += field("msgstr", entry.msgstr, prefix)
    return lines


def dumps(po: polib.POFile) -> str:
    """The whole catalog: header, live entries in order, then obsolete ones."""
    header = po.metadata_as_entry()
    header.tcomment = po.header
    blocks = [entry_lines(header)]
    blocks += [entry_lines(e) for e in po if not e.obsolete]
    blocks += [entry_lines(e) for e in po if e.obsolete]
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"
