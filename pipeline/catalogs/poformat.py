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
  between file names; obsolete entries carry ``#~`` before every line;
- an entry flagged ``no-wrap`` is not wrapped (only cut after each ``\\n``);
- the header's lines are written as read (order, spacing) where their value is
  unchanged; a changed value is written in place, a new field after the others.

polib keeps the data model; this module only turns it into text.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import unicodedata

import polib

__all__ = ["dumps", "entry_lines", "field", "header_values", "WIDTH"]

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


def _escaped(portion: str, offset: int = 0, held: int = 0) -> tuple[bytes, bytes]:
    """The portion escaped, and per byte: may a break go before it? ``offset``: the
    portion's first byte in the whole string; no break goes before bytes 1 to ``held``
    of the whole string (see :func:`_brace_held`)."""
    data, overrides = bytearray(), bytearray()
    for char in portion:
        first = PROHIBITED if 1 <= offset <= held else UNDEFINED
        encoded = char.encode("utf-8")
        offset += len(encoded)
        if char in _ESCAPES:
            data += _ESCAPES[char].encode()
            overrides += bytes([first, PROHIBITED])
        else:
            data += encoded
            overrides += bytes([first]) + bytes([PROHIBITED]) * (len(encoded) - 1)
    if portion.endswith("\n"):
        overrides[-2] = PROHIBITED          # never break just before a final \n
    return bytes(data), bytes(overrides)


def _brace_directive(raw: bytes, start: int, toplevel: bool,
                     marks: dict[int, str]) -> int | None:
    """One ``{…}`` of a python-brace-format string parsed as gettext 0.21's
    format-python-brace.c parses it: the end, or None at an error. Like it, ``marks``
    records the directive's end and errors counted from the directive's own start."""
    def at(index: int) -> int:
        return raw[index] if index < len(raw) else 0

    def name(index: int) -> int:          # a field name, or its start if there is none
        if chr(at(index)).isascii() and (chr(at(index)).isalpha() or at(index) == ord("_")):
            index += 1
            while chr(at(index)).isascii() and (chr(at(index)).isalnum() or at(index) == ord("_")):
                index += 1
        return index

    def number(index: int) -> int:
        while chr(at(index)).isascii() and chr(at(index)).isdigit():
            index += 1
        return index

    def error(index: int) -> int | None:
        marks[index - start] = "error"        # an error where an end is: the error counts
        return None

    i = start + 1
    if at(i) == ord("{"):
        return i + 1                      # an escaped '{'
    end = name(i)
    if end == i:
        end = number(i)
    if end == i:
        return error(i)
    i = end
    while at(i) in (ord("."), ord("[")):
        bracket = at(i) == ord("[")
        i += 1
        end = name(i)
        if bracket and end == i:
            end = number(i)
        if end == i:
            return error(i)
        i = end
        if bracket:
            if at(i) != ord("]"):
                return error(i)
            i += 1
    if at(i) == ord(":"):
        if not toplevel:
            return error(i)
        i += 1
        if at(i) == ord("{"):
            nested = _brace_directive(raw, i, False, marks)
            if nested is None:
                return None
            i = nested
        else:
            if at(i) == 0:
                return error(i)
            if chr(at(i + 1)) in "<>=^":
                i += 2
            elif chr(at(i)) in "<>=^":
                i += 1
            i += chr(at(i)) in "+- "
            i += at(i) == ord("#")
            i += at(i) == ord("0")
            i = number(i)
            if at(i) == ord(".") and chr(at(i + 1)).isdigit():
                i = number(i + 1)
            i += chr(at(i)) in "bcdoxXneEfFgG%" and at(i) != 0
    if at(i) != ord("}"):
        return error(i)
    if toplevel:
        marks.setdefault(i - start, "end")
    return i + 1


def _brace_held(text: str, flags: list[str]) -> int:
    """Where gettext 0.21 forbids line breaks in a python-brace-format string.

    Its parser records each directive's bounds counted from the directive's own start,
    not the string's, so write-po.c takes bytes 0 to n of the *string* for a directive
    and breaks nowhere before bytes 1 to n: n + 1 is the length of the shortest valid
    directive (unless an error is recorded nearer). Only where python-brace is the
    entry's first format (gettext tries c, objc and python before it). The number n,
    or 0."""
    if not {"python-brace-format", "possible-python-brace-format"} & set(flags) or \
            {"c-format", "objc-format", "python-format", "possible-c-format",
             "possible-objc-format", "possible-python-format"} & set(flags):
        return 0
    raw = text.encode("utf-8")
    marks: dict[int, str] = {}
    valid = False
    i = 0
    while i < len(raw):
        if raw[i] == ord("{"):
            end = _brace_directive(raw, i, True, marks)
            if end is None:
                break
            valid = valid or raw[i + 1:i + 2] != b"{"
            i = end
        else:
            i += 1
    if not valid or not marks:
        return 0
    first = min(marks)
    return first if marks[first] == "end" else 0


def field(keyword: str, text: str, prefix: str = "", wrap: bool = True,
          flags: list[str] | None = None) -> list[str]:
    """``keyword "text"`` as GNU gettext's write-po.c wraps it, each line after ``prefix``
    (``wrap=False``: as it writes an entry flagged ``no-wrap``; ``flags``: the entry's,
    for its format directives)."""
    held = _brace_held(text, flags or [])
    offset = 0
    startcol_after_break = len(prefix) + 1
    width = WIDTH - 1 - startcol_after_break
    lines: list[str] = []
    first = True
    current = f"{prefix}{keyword} \""
    portions = _portions(text)
    for number, portion in enumerate(portions):
        data, overrides = _escaped(portion, offset, held)
        offset += len(portion.encode("utf-8"))
        more = number < len(portions) - 1
        while True:
            startcol = len(prefix) + (len(keyword) + 1 if first else 0) + 1 - startcol_after_break
            breaks = (_breaks(data, overrides, width, startcol) if wrap else
                      bytes(len(data))) if data else b""
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
    wrap = "no-wrap" not in entry.flags
    previous = "#~| " if entry.obsolete else "#| "
    for keyword in ("msgctxt", "msgid", "msgid_plural"):
        value = getattr(entry, f"previous_{keyword}", None)
        if value is not None:
            lines += field(keyword, value, previous, wrap, entry.flags)
    prefix = "#~ " if entry.obsolete else ""
    if entry.msgctxt is not None:
        lines += field("msgctxt", entry.msgctxt, prefix, wrap, entry.flags)
    lines += field("msgid", entry.msgid, prefix, wrap, entry.flags)
    if entry.msgid_plural:
        lines += field("msgid_plural", entry.msgid_plural, prefix, wrap, entry.flags)
    if entry.msgstr_plural:
        for index in sorted(entry.msgstr_plural, key=int):
            lines += field(f"msgstr[{index}]", entry.msgstr_plural[index], prefix, wrap,
                           entry.flags)
    else:
        lines += field("msgstr", entry.msgstr, prefix, wrap, entry.flags)
    return lines


def _header_fields(raw: str) -> list[tuple[str | None, list[str]]]:
    """The header msgstr's lines, grouped per field as polib reads them: a line without a
    colon continues the field before it."""
    groups: list[tuple[str | None, list[str]]] = []
    for line in raw.splitlines():
        key, colon, _ = line.partition(":")
        if colon:
            groups.append((key, [line]))
        elif groups:
            groups[-1][1].append(line)
        else:
            groups.append((None, [line]))
    return groups


def _value(lines: list[str]) -> str:
    return "\n".join([lines[0].partition(":")[2].strip()] + [line.strip() for line in lines[1:]])


def header_values(raw: str) -> dict[str, str]:
    """The header's fields as polib gives them (``POFile.metadata``)."""
    return {key: _value(lines) for key, lines in _header_fields(raw) if key is not None}


def _header_msgstr(po: polib.POFile) -> str:
    """The header as read (``raw_metadata``, kept by the reader) with polib's changes to it:
    each field unchanged as written, a changed one in place, new ones after, in polib's
    order; without what was read, as polib writes it."""
    raw = getattr(po, "raw_metadata", None)
    if raw is None:
        return po.metadata_as_entry().msgstr
    out: list[str] = []
    written: set[str] = set()
    for key, lines in _header_fields(raw):
        if key is None:
            out += lines
        elif key in po.metadata and key not in written:
            written.add(key)
            out += lines if po.metadata[key] == _value(lines) else \
                [f"{key}: {line}" if n == 0 else line
                 for n, line in enumerate(po.metadata[key].split("\n"))]
    out += [f"{key}: {value}" for key, value in po.ordered_metadata() if key not in written]
    return "\n".join(out) + ("\n" if raw.endswith("\n") or not raw else "")


def dumps(po: polib.POFile) -> str:
    """The whole catalog: header, live entries in order, then obsolete ones."""
    header = po.metadata_as_entry()
    header.msgstr = _header_msgstr(po)
    header.tcomment = po.header
    blocks = [(["#"] if not po.header and getattr(po, "blank_header", False) else []) +
              entry_lines(header)]
    blocks += [entry_lines(e) for e in po if not e.obsolete]
    blocks += [entry_lines(e) for e in po if e.obsolete]
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"
