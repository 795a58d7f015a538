"""Every path and file name of a content project, in one place.

Names that become paths (locale codes, profile names, campaign and message ids) are
validated identifiers: a name can never climb out of its folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .names import CACHE_DIR, CONFIG_NAME, OUT_DIR

__all__ = ["INDEX_PAGE", "Layout", "LOCALE_RE", "MANIFEST", "message_file", "PLAYLIST",
           "PROFILE_RE", "program_name", "PROGRAMS", "PUBLIC_KEY", "SECRET_KEY", "SUMS",
           "transcript_of"]

LOCALE_RE = re.compile(r"\A[a-z]{2,3}(_[A-Z][a-z]{3})?(_[A-Z]{2}|_\d{3})?\Z")
PROFILE_RE = re.compile(r"\A[a-z][a-z0-9_-]{0,31}\Z")

# Files of an output folder besides the audio.
MANIFEST = "manifest.json"
PLAYLIST = "playlist.m3u8"
SUMS = "SHA256SUMS"
INDEX_PAGE = "index.html"
PROGRAMS = "programs"
PUBLIC_KEY = "broadcast.pub"     # broadcast keygen's key pair, in keys/
SECRET_KEY = "broadcast.key"


def message_file(index: int, width: int, message_id: str, ext: str) -> str:
    """``NN-<id>.<ext>``: the play order is the name order."""
    return f"{index:0{width}d}-{message_id}.{ext}"


def transcript_of(audio_name: str) -> str:
    return audio_name.rsplit(".", 1)[0] + ".txt"


def program_name(program_id: str, ext: str) -> str:
    return f"{PROGRAMS}/{program_id}.{ext}"


@dataclass(frozen=True)
class Layout:
    """The folders and files of the project rooted at ``root``."""

    root: Path

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def messages_dir(self) -> Path:
        return self.root / "messages"

    @property
    def locales_dir(self) -> Path:
        return self.root / "locales"

    @property
    def out_dir(self) -> Path:
        return self.root / OUT_DIR

    @property
    def cache_dir(self) -> Path:
        return self.out_dir / CACHE_DIR

    @property
    def lock_file(self) -> Path:
        """The project's lock (an OS file lock on this file; the file itself stays)."""
        return self.root / ".broadcast.lock"

    @property
    def lock_holder(self) -> Path:
        """The pid of the command holding the lock, while it holds it."""
        return self.root / ".broadcast.pid"

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def public_key(self) -> Path:
        return self.keys_dir / PUBLIC_KEY

    def campaign_files(self) -> list[Path]:
        return sorted(self.messages_dir.glob("*.yaml"))

    def pot(self, campaign: str) -> Path:
        return self.locales_dir / f"{campaign}.pot"

    def po(self, locale: str, campaign: str) -> Path:
        return self.locales_dir / locale / "LC_MESSAGES" / f"{campaign}.po"

    def mo(self, locale: str, campaign: str) -> Path:
        return self.po(locale, campaign).with_suffix(".mo")

    def glossary(self, locale: str) -> Path:
        return self.locales_dir / locale / "glossary.tsv"

    def lexicon(self, locale: str) -> Path:
        return self.locales_dir / locale / "lexicon.tsv"

    def recordings_dir(self, locale: str) -> Path:
        return self.locales_dir / locale / "recordings"

    def review_record(self, locale: str, campaign: str, message_id: str) -> Path:
        """A reviewer's decision on one message in one locale: a file of its own, so that
        reviewers of different messages and locales never touch the same file."""
        return self.locales_dir / locale / "reviews" / campaign / f"{message_id}.toml"

    def catalog_locales(self) -> list[str]:
        """Locales that have a catalog folder."""
        if not self.locales_dir.is_dir():
            return []
        return sorted(p.name for p in self.locales_dir.iterdir()
                      if LOCALE_RE.match(p.name) and (p / "LC_MESSAGES").is_dir())

    def output_folder(self, campaign: str, locale: str, profile: str) -> Path:
        return self.out_dir / campaign / locale / profile

    def bundle(self, campaign: str, locale: str, profile: str) -> Path:
        return self.out_dir / "bundles" / f"{campaign}-{locale}-{profile}.zip"

    @property
    def report_page(self) -> Path:
        return self.out_dir / "report.html"

    def speech_cache(self, key: str) -> Path:
        return self.cache_dir / "speech" / f"{key}.wav"

    def speech_seal(self, key: str) -> Path:
        """The digest binding ``speech_cache(key)`` to its key (checked before each use)."""
        return self.cache_dir / "speech" / f"{key}.sha256"

    @property
    def transcript_cache(self) -> Path:
        """What the speech judge heard, by audio file hash."""
        return self.cache_dir / "transcripts"

    def final_cache(self, key: str, ext: str) -> Path:
        return self.cache_dir / "final" / f"{key}.{ext}"
