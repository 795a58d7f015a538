"""Sticks and SD cards: a verified bundle's audio copied to a mounted stick, or written
into a FAT32 disk image (:mod:`.fat`, no system tools), in play order."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from ..audio.codec import mp3_frames
from ..audio.tags import bare_wav
from ..errors import BundleError, MediaError
from ..fsutil import sha256_bytes, sha256_file
from ..layout import transcript_of
from . import fat
from .bundle import FAT_EPOCH, Verified

__all__ = ["copy_to_stick", "is_our_image", "MAX_IMAGE", "NEUTRAL_LABEL", "parse_size",
           "play_order", "strip_id3", "write_image"]

NEUTRAL_LABEL = "NO NAME"           # what an unlabelled stick shows
MAX_IMAGE = 32 * 1024 ** 3          # the largest FAT32 volume common systems make


def play_order(verified: Verified, with_programs: bool = False,
               with_transcripts: bool = False) -> list[tuple[str, bytes]]:
    """(name on the stick, data) in play order: messages, then programs if asked.

    Names on a stick say nothing about what they carry: a zero-padded index only
    (``01.mp3``, ``02.mp3`` …), never a message id or title. MP3s lose any ID3 tag, WAVs
    every chunk but ``fmt`` and ``data``.
    Transcripts (``01.txt`` beside ``01.mp3``) only with ``with_transcripts``.
    """
    if verified.manifest is None:
        raise BundleError("the bundle has no manifest", verified.bundle,
                          fix="rebuild the bundle with broadcast bundle")
    entries = list(verified.manifest.messages)
    if with_programs:
        entries += verified.manifest.programs
    width = max(2, len(str(len(entries))))
    files = []
    for index, entry in enumerate(entries, 1):
        ext = entry.file.rsplit(".", 1)[-1].lower()
        if ext not in ("mp3", "wav"):
            raise BundleError(f"'{entry.file}' is not audio", verified.bundle,
                              fix="rebuild the bundle")
        data = verified.read(entry.file)
        files.append((f"{index:0{width}d}.{ext}", _bare(entry.file, data, verified.bundle)))
        if with_transcripts and entry.kind == "message":
            text = verified.texts.get(transcript_of(entry.file))
            if text is not None:
                files.append((f"{index:0{width}d}.txt", text))
    return files


def strip_id3(data: bytes) -> bytes:
    """MP3 audio without a leading ID3v2 tag (a title a player would show)."""
    return mp3_frames(data)


def _bare(name: str, data: bytes, bundle: Path) -> bytes:
    """What a stick carries of a bundle's file: an MP3's frames; a WAV's ``fmt`` and
    ``data`` chunks (no ``bext``, ``LIST`` or ``id3 ``: a radio bundle's tags)."""
    if name.lower().endswith(".mp3"):
        return strip_id3(data)
    try:
        return bare_wav(data)
    except ValueError as exc:
        raise BundleError(f"'{name}' is not a WAV file: {exc}", bundle,
                          fix="rebuild the bundle") from None


def copy_to_stick(verified: Verified, dest: Path, overwrite: bool = False,
                  with_programs: bool = False, with_transcripts: bool = False) -> list[str]:
    """Copy the audio to a mounted stick one file at a time, in play order, with fsync,
    then read every file back and compare."""
    dest = Path(dest)
    if not dest.is_dir():
        raise BundleError("the destination is not a folder (is the stick mounted?)", dest,
                          fix="give the mount point of the stick")
    files = play_order(verified, with_programs, with_transcripts)
    links = [n for n, _ in files if (dest / n).is_symlink()]
    if links:       # a link (dangling or not) would be followed out of the stick
        raise BundleError(f"'{links[0]}' on the stick is a link", dest,
                          fix="remove it (nothing is written through a link)")
    clashes = [n for n, _ in files if os.path.lexists(dest / n)]
    if clashes and not overwrite:
        raise BundleError(f"'{clashes[0]}' already exists on the stick", dest,
                          fix="use an empty stick, or pass --overwrite")
    need = sum(len(d) for _, d in files) + 1024 * 1024
    free = shutil.disk_usage(dest).free
    if free < need:
        raise BundleError(f"not enough free space: {need // 1024 // 1024 + 1} MiB needed, "
                          f"{free // 1024 // 1024} MiB free", dest,
                          fix="use a larger stick, or free space on it")
    try:
        for name, data in files:
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
            with os.fdopen(os.open(dest / name, flags, 0o644), "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            fd = os.open(dest, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    except OSError as exc:
        raise MediaError(f"cannot write to the stick: {exc.strerror or exc}", dest,
                         fix="check that the stick is writable and has room") from None
    for name, data in files:
        if sha256_file(dest / name) != sha256_bytes(data):
            raise BundleError(f"'{name}' differs from the bundle after copying", dest,
                              fix="the stick may be failing: try another one")
    return [n for n, _ in files]


def parse_size(text: str) -> int:
    match = re.fullmatch(r"(\d+)\s*([KMG]i?B?)?", text.strip(), re.IGNORECASE)
    if not match or not int(match.group(1)):
        raise BundleError(f"size '{text}' is not understood", "--size",
                          fix="write e.g. 64M, 512M or 2G")
    unit = (match.group(2) or "M")[0].upper()
    size = int(match.group(1)) * {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}[unit]
    if size > MAX_IMAGE:
        raise BundleError(f"size '{text}' is more than a FAT32 stick image should be", "--size",
                          fix=f"give at most {MAX_IMAGE // 1024 ** 3}G (or leave --size out: "
                              "the image is sized to its audio)")
    return size


def is_our_image(path: Path) -> bool:
    """Whether ``path`` holds a FAT32 image as :func:`write_image` makes them (or made
    them with dosfstools), which ``usb --image`` may replace."""
    try:
        with open(path, "rb") as fh:
            found = fat.find_volume(fh)
    except OSError:
        return False
    return found is not None and found[1][3:11] in (fat.OEM, b"mkfs.fat")


def _remove_orphans(folder: Path) -> None:
    """Remove the work folders (``.image-PID-…``) of image writes whose process is gone
    (killed): each holds a whole image."""
    for work in folder.glob(".image-*"):
        match = re.fullmatch(r"\.image-(\d+)-.*", work.name)
        if not match or not work.is_dir() or work.is_symlink():
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(work, ignore_errors=True)
        except (PermissionError, OverflowError):
            pass


def write_image(verified: Verified, image: Path, size: int | None = None,
                reproducible: bool = False, label: str = NEUTRAL_LABEL,
                with_programs: bool = False, with_transcripts: bool = False,
                overwrite: bool = False, partitioned: bool = False) -> list[str]:
    """A FAT32 disk image with the audio in play order, fixed times and a neutral label;
    with ``partitioned``, the volume is the one partition of an MBR (:mod:`.fat`).
    An existing file is replaced only if it is such an image, or with ``overwrite``.

    The volume serial number is random, unless ``reproducible``: then it is derived from
    the bundle's contents, so the same bundle gives the same image.
    """
    files = play_order(verified, with_programs, with_transcripts)
    content = sum(len(d) for _, d in files)
    minimum = 40 * 1024 * 1024
    size = size or max(64 * 1024 * 1024, int(content * 1.1) + 8 * 1024 * 1024)
    if size < max(minimum, content + 4 * 1024 * 1024):
        raise BundleError(f"{size // 1024 // 1024} MiB is too small for FAT32 and "
                          f"{content // 1024 // 1024 + 1} MiB of audio", image,
                          fix="give a larger --size, e.g. 64M")
    if not re.fullmatch(r"[A-Z0-9 _-]{1,11}", label):
        raise BundleError(f"volume label '{label}' is not allowed", image,
                          fix="use up to 11 capitals, digits, spaces, '-' or '_'")
    image = Path(image)
    if (os.path.lexists(image) and not overwrite
            and (image.is_symlink() or not image.is_file() or not is_our_image(image))):
        raise BundleError("a file that is not a stick image made here is in the way", image,
                          fix="give another file name, or pass --overwrite to replace it")
    image.parent.mkdir(parents=True, exist_ok=True)
    _remove_orphans(image.parent)
    serial = (bytes.fromhex(sha256_bytes(b"".join(d for _, d in files))[:8])
              if reproducible else os.urandom(4))
    with tempfile.TemporaryDirectory(dir=image.parent, prefix=f".image-{os.getpid()}-") as tmp:
        tmp_image = Path(tmp) / "image.img"
        try:
            fat.write_volume(tmp_image, size, files, label, serial, FAT_EPOCH,
                             volume_label=label != NEUTRAL_LABEL, partitioned=partitioned)
            back = fat.read_files(tmp_image)
        except OSError as exc:
            raise MediaError(f"cannot write the image: {exc.strerror or exc}", image,
                             fix="check the free space and permissions where the image goes"
                             ) from None
        except ValueError as exc:
            raise BundleError(f"the image cannot be made: {exc}", image,
                              fix="give a larger --size, e.g. 64M") from None
        if back != list(files):
            raise BundleError("the files read back from the image differ from the bundle",
                              image, fix="report this; the image was not written")
        os.replace(tmp_image, image)
    return [n for n, _ in files]
