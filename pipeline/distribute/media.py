"""Sticks and SD cards: a verified bundle's audio copied to a mounted stick, or written
into a FAT32 disk image, in play order."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import BundleError, MediaError
from ..fsutil import sha256_bytes, sha256_file
from .bundle import FAT_EPOCH, Verified

NEUTRAL_LABEL = "NO NAME"           # what an unlabelled stick shows
MAX_IMAGE = 32 * 1024 ** 3          # the largest FAT32 volume common systems make


def play_order(verified: Verified, with_programs: bool = False) -> list[tuple[str, bytes]]:
    """(name on the stick, data) in play order: messages, then programs if asked."""
    if verified.manifest is None:
        raise BundleError("the bundle has no manifest", verified.bundle,
                          fix="rebuild the bundle with broadcast bundle")
    files = [(e.file, verified.members[e.file]) for e in verified.manifest.messages]
    if with_programs:
        width = len(files[0][0].split("-")[0]) if files else 2
        for i, e in enumerate(verified.manifest.programs, len(files) + 1):
            ext = e.file.rsplit(".", 1)[1]
            files.append((f"{i:0{width}d}-program-{e.id}.{ext}", verified.members[e.file]))
    seen: dict[str, str] = {}
    for name, _ in files:
        if not re.fullmatch(r"[0-9A-Za-z_-]+\.[a-z0-9]+", name):
            raise BundleError(f"'{name}' is not a safe name for a stick", verified.bundle,
                              fix="rebuild the bundle")
        if name.casefold() in seen:
            raise BundleError(f"'{seen[name.casefold()]}' and '{name}' differ only by case: "
                              "a FAT stick cannot hold both", verified.bundle,
                              fix="rebuild the bundle with broadcast bundle")
        seen[name.casefold()] = name
    return files


def copy_to_stick(verified: Verified, dest: Path, overwrite: bool = False,
                  with_programs: bool = False) -> list[str]:
    """Copy the audio to a mounted stick one file at a time, in play order, with fsync,
    then read every file back and compare."""
    dest = Path(dest)
    if not dest.is_dir():
        raise BundleError("the destination is not a folder (is the stick mounted?)", dest,
                          fix="give the mount point of the stick")
    files = play_order(verified, with_programs)
    clashes = [n for n, _ in files if (dest / n).exists()]
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
            with open(dest / name, "wb") as fh:
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
    if not match:
        raise BundleError(f"size '{text}' is not understood", "--size",
                          fix="write e.g. 64M, 512M or 2G")
    unit = (match.group(2) or "M")[0].upper()
    size = int(match.group(1)) * {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}[unit]
    if size > MAX_IMAGE:
        raise BundleError(f"size '{text}' is more than a FAT32 stick image should be", "--size",
                          fix=f"give at most {MAX_IMAGE // 1024 ** 3}G (or leave --size out: "
                              "the image is sized to its audio)")
    return size


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BundleError(f"'{name}' is not installed", None,
                          fix="install dosfstools and mtools (apt-get install dosfstools mtools)")
    return found


def write_image(verified: Verified, image: Path, size: int | None = None,
                reproducible: bool = False, label: str = NEUTRAL_LABEL,
                with_programs: bool = False) -> list[str]:
    """A FAT32 disk image with the audio in play order, fixed times and a neutral label.

    The volume serial number is random, unless ``reproducible``: then it is derived from
    the bundle's contents, so the same bundle gives the same image.
    """
    files = play_order(verified, with_programs)
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
    image.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TZ="UTC", SOURCE_DATE_EPOCH=str(FAT_EPOCH), MTOOLS_SKIP_CHECK="1")
    with tempfile.TemporaryDirectory(dir=image.parent, prefix=".image-") as tmp:
        tmp_image = Path(tmp) / "image.img"
        _run([_tool("mkfs.fat"), "-C", "-F", "32", "-n", label, "--invariant",
                        str(tmp_image), str(size // 1024)], env, image)
        serial = (bytes.fromhex(sha256_bytes(b"".join(d for _, d in files))[:8])
                  if reproducible else os.urandom(4))
        _set_serial(tmp_image, serial)
        staged = Path(tmp) / "files"
        staged.mkdir()
        for name, data in files:
            path = staged / name
            path.write_bytes(data)
            os.utime(path, (FAT_EPOCH, FAT_EPOCH))
            _run([_tool("mcopy"), "-m", "-i", str(tmp_image), str(path),
                            f"::/{name}"], env, image)
        back = Path(tmp) / "back"
        back.mkdir()
        for name, data in files:
            _run([_tool("mcopy"), "-i", str(tmp_image), f"::/{name}",
                            str(back / name)], env, image)
            if sha256_file(back / name) != sha256_bytes(data):
                raise BundleError(f"'{name}' differs from the bundle inside the image", image,
                                  fix="report this; the image was not written")
        with open(tmp_image, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_image, image)
    return [n for n, _ in files]


def _run(args: list[str], env: dict, image: Path) -> None:
    """Run a dosfstools/mtools command; its failure is one line naming the image."""
    try:
        subprocess.run(args, env=env, check=True, capture_output=True)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode("utf-8", "replace").strip().split("\n")[-1]
        raise MediaError(f"{Path(args[0]).name} failed: {detail or exc}", image,
                         fix="check the free space and permissions where the image goes"
                         ) from None
    except OSError as exc:
        raise MediaError(f"cannot run {Path(args[0]).name}: {exc.strerror or exc}", image,
                         fix="install dosfstools and mtools") from None


def _set_serial(image: Path, serial: bytes) -> None:
    """Write the FAT32 volume ID into the boot sector and its backup (sector 6)."""
    with open(image, "r+b") as fh:
        for sector in (0, 6):
            fh.seek(sector * 512 + 0x52)
            if fh.read(8) != b"FAT32   ":
                raise BundleError("unexpected boot sector", image,
                                  fix="check the installed dosfstools")
            fh.seek(sector * 512 + 0x43)
            fh.write(serial)
