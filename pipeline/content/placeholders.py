"""Placeholders: ``{name}`` fields in texts, filled from a campaign's variables."""

from __future__ import annotations

import re
import string

__all__ = ["field_problem", "fill", "placeholder_problem", "placeholders"]


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a Python brace-format string (``{{`` is a literal)."""
    names = set()
    try:
        for _, name, _, _ in string.Formatter().parse(text):
            if name is not None:
                names.add(name)
    except ValueError:
        # An unbalanced brace: report what we can see; checks flag the rest.
        names.update(re.findall(r"\{([^{}]*)\}", text))
    return names


class _Keep(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def fill(text: str, variables: dict[str, str]) -> str:
    """Put a campaign's variables into a (translated) text; ``{{`` stays a brace.

    An unknown ``{name}`` or a stray brace is left as written: the ``placeholders``
    check reports it, and the gate keeps such a message from being rendered.
    """
    try:
        return text.format_map(_Keep(variables))
    except (ValueError, IndexError, AttributeError):
        return text


def field_problem(text: str, where: str) -> tuple[str, str] | None:
    """Why ``text``'s braces are not plain ``{name}`` fields, and the fix; or None.

    A format spec (``{frequency:d}``), a conversion (``{x!r}``), an index or attribute
    (``{0}``, ``{a.b}``) would not be filled and would be spoken as written.
    """
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        return f"{where} has an unbalanced '{{' or '}}'", "write literal braces as {{ }}"
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        shown = "{" + name + (f"!{conversion}" if conversion else "") + \
            (f":{spec}" if spec else "") + "}"
        if spec or conversion:
            return (f"'{shown}' in {where} has a format spec or conversion (it would be "
                    "spoken as written)", f"write '{{{name}}}'")
        if not name.isidentifier():
            return (f"'{shown}' in {where} is not a placeholder name",
                    "write a name like {frequency}")
    return None


def placeholder_problem(msgid: str, msgstr: str) -> str | None:
    """Why a translation's ``{placeholders}`` cannot stand for its source's, or None."""
    problem = field_problem(msgstr, "the translation")
    if problem:
        return "; ".join(problem)
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
