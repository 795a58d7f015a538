"""Output folders: audio in play order, transcripts, playlist, manifest, checksums, page."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..audio.profiles import Profile
from ..content.sources import Program
from ..fsutil import sha256_bytes, write_if_changed
from ..layout import (
    INDEX_PAGE,
    MANIFEST,
    OUTPUT_EXTENSIONS,
    PLAYLIST,
    SUMS,
    Layout,
    message_file,
    program_file,
    transcript_of,
)
from .manifest import Manifest, ManifestFile, Skip
from .pages import index_html

if TYPE_CHECKING:
    from .execute import Rendered
    from .plan import LocalePlan, MessageJob


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


def write_folder(folder: Path, layout: Layout, profile: Profile, lp: "LocalePlan",
                 messages: list[tuple["MessageJob", "Rendered"]],
                 programs: list[tuple[Program, "Rendered"]],
                 program_skips: dict[str, str]) -> FolderResult:
    """Write the output folder: audio, playlist, manifest, checksums; drop stale files."""
    result = FolderResult(lp.campaign.name, lp.locale, profile.name, folder,
                          skipped=dict(lp.skipped), programs_skipped=dict(program_skips))
    width = max(2, len(str(len(messages))))
    wanted: dict[str, bytes] = {}
    entries = []
    playlist = ["#EXTM3U"]
    for index, (job, rendered) in enumerate(messages, 1):
        name = message_file(index, width, job.message_id, profile.ext)
        data = layout.final_cache(rendered.key, profile.ext).read_bytes()
        wanted[name] = data
        entries.append(_entry(name, "message", job.message_id, job.title, job.text, data,
                              rendered, job.voicing.made_by(), job.source_text))
        playlist += [f"#EXTINF:{int(round(rendered.measured.duration))},{job.title}", name]
        wanted[transcript_of(name)] = f"{job.title}\n\n{job.text}\n".encode("utf-8")
        result.seconds += rendered.measured.duration
    for program, rendered in programs:
        name = program_file(program.id, profile.ext)
        data = layout.final_cache(rendered.key, profile.ext).read_bytes()
        wanted[name] = data
        entries.append(_entry(name, "program", program.id, program.title,
                              " | ".join(program.items), data, rendered,
                              {"items": list(program.items), "gap_seconds": program.gap_seconds},
                              ""))
        result.seconds += rendered.measured.duration
    manifest = Manifest(lp.campaign.name, lp.locale, dataclasses.asdict(profile), entries,
                        [Skip(k, v) for k, v in lp.skipped.items()],
                        [Skip(k, v) for k, v in program_skips.items()])
    wanted[PLAYLIST] = ("\n".join(playlist) + "\n").encode("utf-8")
    wanted[INDEX_PAGE] = index_html(manifest).encode("utf-8")
    wanted[MANIFEST] = manifest.to_json()
    sums = "".join(f"{sha256_bytes(data)}  {name}\n" for name, data in sorted(wanted.items()))
    wanted[SUMS] = sums.encode("utf-8")
    for name, data in wanted.items():
        write_if_changed(folder / name, data)
    _remove_stale(folder, set(wanted))
    result.files = len(messages) + len(programs)
    return result


def _entry(name, kind, ident, title, text, data, rendered, made_by, source_text) -> ManifestFile:
    m = rendered.measured
    return ManifestFile(name, kind, ident, title, text, m.duration, m.lufs, m.true_peak,
                        sha256_bytes(data), len(data), made_by, source_text)


def _remove_stale(folder: Path, keep: set[str]) -> None:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in keep and path.suffix in OUTPUT_EXTENSIONS:
            path.unlink()
