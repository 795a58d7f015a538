"""Output folders: audio in play order, transcripts, playlist, manifest, checksums, page."""

from __future__ import annotations

import dataclasses
import filecmp
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..audio.profiles import Profile
from ..content.sources import Program
from ..fsutil import Checked, sha256_bytes, staging_of, swap_folder
from ..layout import (
    INDEX_PAGE,
    MANIFEST,
    PLAYLIST,
    SUMS,
    Layout,
    message_file,
    program_name,
    transcript_of,
)
from .manifest import Manifest, ManifestError, ManifestFile, Skip
from .pages import index_html

if TYPE_CHECKING:
    from .cache import Rendered
    from .plan import LocalePlan, MessageJob

__all__ = ["commit_folder", "folder_files", "FolderResult", "foreign", "listed", "made_here",
           "withdraw", "Withdrawn", "write_folder"]


@dataclass
class FolderResult:
    campaign: str
    locale: str
    profile: str
    folder: Path
    files: int = 0
    seconds: float = 0.0
    skipped: dict[str, str] = field(default_factory=dict)
    programs_skipped: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    kept: bool = False          # left as it was, because a render of its locale failed
    # The audio files' digests, as checked in the render cache, which they are linked from.
    checked: dict[str, Checked] = field(default_factory=dict)


def write_folder(folder: Path, layout: Layout, profile: Profile, lp: "LocalePlan",
                 messages: list[tuple["MessageJob", "Rendered"]],
                 programs: list[tuple[Program, "Rendered"]],
                 program_skips: dict[str, str]) -> FolderResult:
    """Write the output folder: audio, transcripts, playlist, manifest, checksums, page."""
    result = FolderResult(lp.campaign.name, lp.locale, profile.name, folder,
                          skipped=dict(lp.skipped), programs_skipped=dict(program_skips))
    width = max(2, len(str(len(messages))))
    audio: dict[str, Path] = {}         # file name → the cached file (never read whole)
    entries = []
    for index, (job, rendered) in enumerate(messages, 1):
        name = message_file(index, width, job.message_id, profile.ext)
        audio[name] = layout.final_cache(rendered.key, profile.ext)
        result.checked[name] = rendered.checked
        entries.append(dataclasses.replace(
            _entry(name, "message", job.message_id, job.title, job.text, rendered,
                   job.voicing.made_by(), job.source_text),
            spoken="\n\n".join(job.voicing.texts), approved=job.approved))
        result.seconds += rendered.measured.duration
    for program, rendered in programs:
        name = program_name(program.id, profile.ext)
        audio[name] = layout.final_cache(rendered.key, profile.ext)
        result.checked[name] = rendered.checked
        entries.append(_entry(name, "program", program.id, program.title,
                              " | ".join(program.items), rendered,
                              {"items": list(program.items), "gap_seconds": program.gap_seconds},
                              ""))
        result.seconds += rendered.measured.duration
    manifest = Manifest(lp.campaign.name, lp.locale, dataclasses.asdict(profile), entries,
                        [Skip(k, v) for k, v in lp.skipped.items()],
                        [Skip(k, v) for k, v in program_skips.items()])
    commit_folder(folder, folder_files(manifest, audio))
    result.files = len(messages) + len(programs)
    return result


def folder_files(manifest: Manifest, audio: dict[str, Path]) -> dict[str, bytes | Path]:
    """Everything an output folder holds, from its manifest and its audio files (whose
    hashes the manifest holds: they are not read here)."""
    wanted: dict[str, bytes | Path] = dict(audio)
    digests = {entry.file: entry.sha256 for entry in manifest.files}
    playlist = ["#EXTM3U"]
    for entry in manifest.messages:
        playlist += [f"#EXTINF:{int(round(entry.duration))},{entry.title}", entry.file]
        wanted[transcript_of(entry.file)] = f"{entry.title}\n\n{entry.text}\n".encode("utf-8")
    wanted[PLAYLIST] = ("\n".join(playlist) + "\n").encode("utf-8")
    wanted[INDEX_PAGE] = index_html(manifest).encode("utf-8")
    wanted[MANIFEST] = manifest.to_json()
    sums = "".join(f"{digests[name] if isinstance(data, Path) else sha256_bytes(data)}  {name}\n"
                   for name, data in sorted(wanted.items()))
    wanted[SUMS] = sums.encode("utf-8")
    return wanted


def listed(folder: Path) -> set[str]:
    """The files the pipeline wrote into an output folder: those its ``SHA256SUMS`` lists,
    and that file itself (empty if there is none: then nothing in it is the pipeline's)."""
    try:
        text = (folder / SUMS).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return set()
    return {line.split("  ", 1)[1] for line in text.splitlines() if "  " in line} | {SUMS}


def foreign(folder: Path) -> list[str]:
    """Files in an output folder that the pipeline did not write (a jingle, notes): left."""
    mine = listed(folder)
    return [name for name in _files(folder) if name not in mine]


def made_here(folder: Path) -> bool:
    """Whether ``folder`` (campaign/locale/profile under audio_out) is an output folder the
    pipeline made there: its manifest names that campaign, locale and profile. A copy
    (``audio_out/kursk-2024/ru/radio``) or a folder without a manifest is someone else's."""
    try:
        manifest = Manifest.from_json((folder / MANIFEST).read_bytes())
    except (OSError, ManifestError):
        return False
    return (manifest.campaign, manifest.locale, manifest.profile.get("name")) == \
        (folder.parent.parent.name, folder.parent.name, folder.name)


def commit_folder(folder: Path, wanted: dict[str, bytes | Path]) -> bool:
    """Make ``folder`` hold exactly ``wanted`` (plus any file the pipeline did not write
    there, which is never removed), all at once.

    Nothing is written when the folder already holds it. Otherwise the new folder is
    built beside it (unchanged files hard-linked, not copied) and swapped in, so a reader
    or a crash sees the old folder or the new one, never a mix. True if it changed.
    """
    current = _files(folder)
    mine = listed(folder)
    ours = {n for n in current if n in mine}
    same = {n for n, d in wanted.items() if n in current and _same(folder / n, d)}
    if set(wanted) == ours == same:
        return False
    staging = staging_of(folder)
    if staging.exists():
        shutil.rmtree(staging)
    for name in sorted(set(wanted) | (set(current) - ours)):
        dest = staging / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        old = folder / name
        if name in wanted and name not in same:
            data = wanted[name]
            if isinstance(data, Path):      # a cached file: linked, not read
                _link_or_copy(data, dest)
                continue
            with open(dest, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        else:
            try:
                os.link(old, dest)
            except OSError:
                shutil.copy2(old, dest)
    staging.mkdir(parents=True, exist_ok=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    swap_folder(staging, folder)
    return True


def _files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


def _link_or_copy(source: Path, dest: Path) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copyfile(source, dest)
        with open(dest, "rb+") as fh:
            os.fsync(fh.fileno())


def _same(path: Path, data: bytes | Path) -> bool:
    try:
        if isinstance(data, Path):              # linked from the cache: usually the same file
            return os.path.samefile(path, data) or filecmp.cmp(path, data, shallow=False)
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


@dataclass
class Withdrawn:
    """What left an output folder because it is no longer the approved translation; and
    what in it, or the whole folder, the pipeline did not make and so left as it is."""

    folder: Path
    ids: list[str]
    bundles_removed: list[Path]
    left: list[str] = field(default_factory=list)   # names in the folder; [""]: all of it


def withdraw(folder: Path, approved: dict[str, tuple[str, str]],
             programs: dict[str, list[str]]) -> list[str]:
    """Remove from a rendered folder what is no longer the approved translation.

    ``approved`` maps each ready message id to its (title, text) now; ``programs`` each
    program id to its items now. A message whose text or title changed, or that is no
    longer ready, goes, with every program that holds it. A folder the pipeline did not
    make there (:func:`made_here`) is left as it is. Returns the ids that went (the folder
    stays as it was if none).
    """
    if not made_here(folder):
        return []               # not the pipeline's folder (see made_here): left as it is
    manifest = Manifest.from_json((folder / MANIFEST).read_bytes())
    keep = [e for e in manifest.messages if approved.get(e.id) == (e.title, e.text)]
    kept_ids = {e.id for e in keep}
    keep_programs = [e for e in manifest.programs
                     if e.made_by.get("items") == programs.get(e.id)
                     and all(item in kept_ids for item in programs.get(e.id, ["?"]))]
    gone = [e.id for e in manifest.files if e not in keep and e not in keep_programs]
    if not gone:
        return []
    width = max(2, len(str(len(keep))))
    audio: dict[str, Path] = {}
    files = []
    for index, entry in enumerate(keep, 1):
        name = message_file(index, width, entry.id, Path(entry.file).suffix[1:])
        audio[name] = folder / entry.file
        files.append(dataclasses.replace(entry, file=name))
    for entry in keep_programs:
        audio[entry.file] = folder / entry.file
        files.append(entry)
    skipped = list(manifest.skipped) + [Skip(e.id, "withdrawn: no longer the approved "
                                                   "translation") for e in manifest.messages
                                        if e.id not in kept_ids]
    pruned = dataclasses.replace(manifest, files=files, skipped=skipped)
    commit_folder(folder, folder_files(pruned, audio))
    return gone


def _entry(name, kind, ident, title, text, rendered, made_by, source_text) -> ManifestFile:
    m = rendered.measured
    return ManifestFile(name, kind, ident, title, text, m.duration, m.lufs, m.true_peak,
                        rendered.sha256, rendered.size, made_by, source_text,
                        None if rendered.cer is None else round(rendered.cer, 3),
                        loudness_range_lu=m.lra, max_momentary_lufs=m.max_momentary,
                        max_short_term_lufs=m.max_short_term)
