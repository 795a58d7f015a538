"""Pruning the render cache: what no output folder uses and no current message would.

The cache is content-addressed and never overwritten, so every edit leaves the files of
the old text behind (a message in each profile, the programs that held it, an MP3
program's gating blocks at each offset). ``broadcast prune`` deletes them:

- ``final/``: a rendered file, with its meta, its mastered PCM and its gating blocks
  (``<key>.*``), is kept if an output folder on disk holds it (its SHA-256 is in that
  folder's ``SHA256SUMS``), and deleted otherwise; so is a file with no readable meta,
  which the cache would never take.
- ``speech/``: a paragraph's synthesis is kept if a message of the current catalogs is
  voiced with it, whether or not it is rendered yet.
- What the speech judge heard (``transcripts/``), the build stamp and the lock are kept.

Nothing that a folder links is deleted, so the next build after a prune renders nothing
again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..layout import Layout

__all__ = ["prune_cache", "Pruned"]


@dataclass
class Pruned:
    files: int = 0              # deleted (or, with dry_run, to delete)
    size: int = 0               # bytes
    kept_files: int = 0
    kept_size: int = 0


def prune_cache(layout: Layout, live_digests: set[str], speech_keys: set[str],
                dry_run: bool = False) -> Pruned:
    """Delete what the render cache holds for no output folder (``live_digests``: the
    SHA-256 of every audio file the folders on disk hold) and no current message
    (``speech_keys``: the speech-cache keys their voicings use)."""
    result = Pruned()
    final = layout.cache_dir / "final"
    live_keys = set()
    for meta in sorted(final.glob("*.json")) if final.is_dir() else []:
        try:
            if json.loads(meta.read_text(encoding="utf-8")).get("sha256") in live_digests:
                live_keys.add(meta.stem)
        except (OSError, ValueError, AttributeError):
            pass                # unreadable: the cache would make the file again anyway
    for path in _files(final):
        _keep_or_delete(path, path.name.split(".", 1)[0] in live_keys, dry_run, result)
    for path in _files(layout.cache_dir / "speech"):
        _keep_or_delete(path, path.stem in speech_keys, dry_run, result)
    return result


def _files(folder: Path) -> list[Path]:
    """The cache's own files in ``folder`` (not the temp files of a write in progress,
    which the lock's holder tidies)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.is_symlink() and not p.name.startswith("."))


def _keep_or_delete(path: Path, keep: bool, dry_run: bool, result: Pruned) -> None:
    size = path.stat().st_size
    if keep:
        result.kept_files += 1
        result.kept_size += size
        return
    if not dry_run:
        path.unlink(missing_ok=True)
    result.files += 1
    result.size += size
