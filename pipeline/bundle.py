"""Bundles: one deterministic zip per output folder, its verification, and USB/SD media.

A bundle holds exactly what its folder's ``SHA256SUMS`` lists, plus that file. Nothing
from a bundle is trusted before it is verified: member names are checked against the
profile's pattern (no absolute paths, no ``..``, no links: no zip slip), every member
against ``SHA256SUMS`` and the manifest, and the signature, when there is one.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from . import signing
from .errors import PipelineError
from .fsutil import sha256_bytes, sha256_file, write_if_changed

FIXED_NAMES = {"SHA256SUMS", "manifest.json", "playlist.m3u8", "index.html"}
MEMBER_RE = re.compile(r"^(programs/)?[0-9A-Za-z_-]{1,80}\.(wav|mp3|txt)$")
FAT_EPOCH = 315532800               # 1980-01-01 00:00 UTC, the oldest time FAT can hold
NEUTRAL_LABEL = "NO NAME"           # what an unlabelled stick shows


class BundleError(PipelineError):
    """A bundle is unsafe, incomplete, altered or unsigned where a signature is needed."""

    exit_code = 1


def bundle_path(out_dir: Path, campaign: str, locale: str, profile: str) -> Path:
    return Path(out_dir) / "bundles" / f"{campaign}-{locale}-{profile}.zip"


def _zip_time() -> tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    stamp = max(int(epoch), FAT_EPOCH) if epoch and epoch.isdigit() else FAT_EPOCH
    return time.gmtime(stamp)[:6]


def _sums(data: bytes, source: str) -> dict[str, str]:
    sums = {}
    for number, line in enumerate(data.decode("utf-8").split("\n"), 1):
        if not line:
            continue
        match = re.match(r"^([0-9a-f]{64})  (.+)$", line)
        if not match:
            raise BundleError(f"SHA256SUMS line {number} is malformed", source,
                              fix="rebuild the bundle with broadcast bundle")
        sums[match.group(2)] = match.group(1)
    return sums


def make_bundle(folder: Path, out: Path) -> bool:
    """Zip an output folder deterministically: sorted members, fixed times and modes."""
    folder = Path(folder)
    sums_path = folder / "SHA256SUMS"
    if not sums_path.exists():
        raise BundleError("no SHA256SUMS in the output folder", folder,
                          fix="render first (broadcast render or broadcast build)")
    names = sorted(set(_sums(sums_path.read_bytes(), str(sums_path))) | {"SHA256SUMS"})
    stamp = _zip_time()
    contents = {name: (folder / name).read_bytes() for name in names}
    if _same_zip(out, contents, stamp):
        return False                # compressing again would give the same bytes
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in names:
            info = zipfile.ZipInfo(name, stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, contents[name], compresslevel=6)
    return write_if_changed(out, buf.getvalue())


def _same_zip(path: Path, contents: dict[str, bytes], stamp) -> bool:
    """True if the zip at ``path`` already holds exactly these members, as we write them."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (OSError, zipfile.BadZipFile):
        return False
    return ([i.filename for i in infos] == list(contents) and
            all(i.date_time == stamp and i.CRC == zlib.crc32(contents[i.filename]) and
                i.file_size == len(contents[i.filename]) and
                i.compress_type == zipfile.ZIP_DEFLATED for i in infos))


# --- verification ------------------------------------------------------------------------------

def check_member_name(info: zipfile.ZipInfo, bundle: str) -> None:
    """Refuse a member that could land outside the destination or is not ours."""
    name = info.filename
    mode = info.external_attr >> 16
    problem = None
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        problem = "has an absolute path"
    elif "\\" in name or ".." in name.split("/"):
        problem = "has a '..' or a backslash in its path"
    elif stat.S_ISLNK(mode):
        problem = "is a symbolic link"
    elif name.endswith("/"):
        if name != "programs/":
            problem = "is an unexpected folder"
    elif name not in FIXED_NAMES and not MEMBER_RE.match(name):
        problem = "has a name outside the allowed pattern [0-9A-Za-z_-].ext"
    if problem:
        raise BundleError(f"member '{name}' {problem}; refusing the bundle", bundle,
                          fix="do not use this bundle; rebuild it with broadcast bundle")


@dataclass
class Verified:
    bundle: Path
    members: dict[str, bytes]
    manifest: dict
    trusted_comment: str | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_bundle(path: Path, public: signing.PublicKey | None) -> Verified:
    """Check a bundle. Unsafe member names raise at once; other problems are collected."""
    path = Path(path)
    source = str(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BundleError("no such bundle", source, fix="check the path") from None
    except zipfile.BadZipFile:
        raise BundleError("not a zip file, or a damaged one", source,
                          fix="fetch the bundle again from its source") from None
    result = Verified(path, {}, {})
    with zf:
        infos = zf.infolist()
        for info in infos:
            check_member_name(info, source)
        seen = set()
        for info in infos:
            if info.filename in seen:
                result.problems.append(f"member '{info.filename}' appears twice")
            seen.add(info.filename)
            if info.is_dir():
                continue
            try:
                result.members[info.filename] = zf.read(info)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                result.problems.append(f"member '{info.filename}' is corrupt ({exc})")
    if "SHA256SUMS" not in result.members:
        result.problems.append("member 'SHA256SUMS' is missing")
        sums = {}
    else:
        sums = _sums(result.members["SHA256SUMS"], source)
    present = {n: sha256_bytes(d) for n, d in result.members.items() if n != "SHA256SUMS"}
    missing = {n: h for n, h in sums.items() if n not in present}
    added = {n: h for n, h in present.items() if n not in sums}
    for old, digest in list(missing.items()):
        new = next((n for n, h in added.items() if h == digest), None)
        if new:
            result.problems.append(f"member '{old}' was renamed to '{new}'")
            del missing[old], added[new]
    result.problems += [f"member '{n}' listed in SHA256SUMS is missing" for n in sorted(missing)]
    result.problems += [f"member '{n}' is not listed in SHA256SUMS (added)" for n in sorted(added)]
    for name in sorted(set(sums) & set(present)):
        if sums[name] != present[name]:
            result.problems.append(f"member '{name}' was altered (its sha256 differs from "
                                   "SHA256SUMS)")
    if "manifest.json" in result.members:
        try:
            result.manifest = json.loads(result.members["manifest.json"])
        except ValueError:
            result.problems.append("member 'manifest.json' is not valid JSON")
        ext = result.manifest.get("profile", {}).get("format")
        for entry in result.manifest.get("files", []):
            name = entry.get("file", "")
            if name not in result.members:
                result.problems.append(f"manifest file '{name}' is missing from the bundle")
            elif sha256_bytes(result.members[name]) != entry.get("sha256"):
                result.problems.append(f"member '{name}' differs from its manifest sha256")
            if ext and not name.endswith("." + ext):
                result.problems.append(f"member '{name}' is not a {ext} file as the profile says")
    signature = Path(str(path) + ".minisig")
    if public is not None:
        try:
            result.trusted_comment = signing.verify(path, signature, public)
        except signing.SignatureError as exc:
            result.problems.append(f"signature: {exc.message}")
    elif signature.exists():
        result.problems.append("the bundle is signed but no public key was given to check it")
    else:
        result.notes.append("the bundle is not signed")
    return result


def require_verified(path: Path, public: signing.PublicKey | None) -> Verified:
    result = verify_bundle(path, public)
    if not result.ok:
        raise BundleError(f"verification failed: {result.problems[0]}", path,
                          fix="do not use this bundle; run broadcast verify for every problem")
    return result


# --- USB and SD -----------------------------------------------------------------------------------

def play_order(verified: Verified, with_programs: bool = False) -> list[tuple[str, bytes]]:
    """(name on the stick, data) in play order: messages, then programs if asked."""
    entries = [e for e in verified.manifest.get("files", []) if e["kind"] == "message"]
    files = [(e["file"], verified.members[e["file"]]) for e in entries]
    if with_programs:
        width = len(files[0][0].split("-")[0]) if files else 2
        programs = [e for e in verified.manifest["files"] if e["kind"] == "program"]
        for i, e in enumerate(programs, len(files) + 1):
            ext = e["file"].rsplit(".", 1)[1]
            files.append((f"{i:0{width}d}-program-{e['id']}.{ext}", verified.members[e["file"]]))
    for name, _ in files:
        if not re.match(r"^[0-9A-Za-z_-]+\.[a-z0-9]+$", name):
            raise BundleError(f"'{name}' is not a safe name for a stick", verified.bundle,
                              fix="rebuild the bundle")
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
    return int(match.group(1)) * {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}[unit]


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
        subprocess.run([_tool("mkfs.fat"), "-C", "-F", "32", "-n", label, "--invariant",
                        str(tmp_image), str(size // 1024)], env=env, check=True,
                       capture_output=True)
        serial = (bytes.fromhex(sha256_bytes(b"".join(d for _, d in files))[:8])
                  if reproducible else os.urandom(4))
        _set_serial(tmp_image, serial)
        staged = Path(tmp) / "files"
        staged.mkdir()
        for name, data in files:
            path = staged / name
            path.write_bytes(data)
            os.utime(path, (FAT_EPOCH, FAT_EPOCH))
            subprocess.run([_tool("mcopy"), "-m", "-i", str(tmp_image), str(path),
                            f"::/{name}"], env=env, check=True, capture_output=True)
        back = Path(tmp) / "back"
        back.mkdir()
        for name, data in files:
            subprocess.run([_tool("mcopy"), "-i", str(tmp_image), f"::/{name}",
                            str(back / name)], env=env, check=True, capture_output=True)
            if sha256_file(back / name) != sha256_bytes(data):
                raise BundleError(f"'{name}' differs from the bundle inside the image", image,
                                  fix="report this; the image was not written")
        with open(tmp_image, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_image, image)
    return [n for n, _ in files]


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
