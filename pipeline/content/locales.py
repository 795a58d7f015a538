"""Locale codes: Babel's (``ko_KP``, ``ru``, ``uk``, ``en``), validated before use."""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

from ..errors import CatalogError
from ..layout import LOCALE_RE

__all__ = ["language_of", "parse_locale"]


def language_of(locale: str) -> str:
    """``ko_KP`` → ``ko``."""
    return locale.split("_")[0].lower()


def parse_locale(code: str, source: str = "--locale") -> Locale:
    """Babel's locale for ``code``; an unknown or malformed code is a clear error."""
    if not LOCALE_RE.match(code or ""):
        raise CatalogError(f"'{code}' is not a locale code", source,
                           fix="use a code like ko_KP, ru, uk or en")
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        raise CatalogError(f"unknown locale '{code}'", source,
                           fix="use a code from Babel's CLDR data, like ko_KP, ru, uk "
                               "or en") from None
