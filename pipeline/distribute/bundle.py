"""Bundles: one deterministic zip per output folder, its verification, and USB/SD media.

A bundle holds exactly what its folder's ``SHA256SUMS`` lists, plus that file. Nothing
from a bundle is trusted before it is verified: member names are checked against the
profile's pattern (no absolute paths, no ``..``, no links: no zip slip), every member
against ``SHA256SUMS`` and the manifest, and the signature, when there is one.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import time
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BundleError, SignatureError
from ..fsutil import Checked, replace_durably, sha256_bytes, sha256_file, temp_beside
from ..layout import INDEX_PAGE, MANIFEST, PLAYLIST, SUMS
from ..render.manifest import Manifest, ManifestError
from . import signing

__all__ = ["AUDIO_SUFFIXES", "bundle_top", "check_member_name", "CHUNK", "copy_stored", "FAT_EPOCH", "FIXED_NAMES",
           "make_bundle", "MAX_KEPT", "MAX_MEMBER", "MAX_MEMBERS", "MAX_RATIO", "MAX_TOTAL",
           "MEMBER_RE", "read_sums", "require_verified", "signature_of", "TOP_RE",
           "top_folder", "Verified", "verify_bundle"]

FIXED_NAMES = {SUMS, MANIFEST, PLAYLIST, INDEX_PAGE}
CHUNK = 1 << 20
MEMBER_RE = re.compile(r"\A(programs/)?[0-9A-Za-z_-]{1,80}\.(wav|mp3|txt)\Z")
TOP_RE = re.compile(r"\A[0-9A-Za-z_-]{1,120}\Z")     # the one folder a bundle unzips into
FAT_EPOCH = 315532800               # 1980-01-01 00:00 UTC, the oldest time FAT can hold


def _zip_time() -> tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    stamp = max(int(epoch), FAT_EPOCH) if epoch and epoch.isdigit() else FAT_EPOCH
    return time.gmtime(stamp)[:6]


def read_sums(data: bytes, source: str) -> dict[str, str]:
    """A SHA256SUMS file's lines: name → SHA-256 (hex); a malformed line is a BundleError
    naming ``source`` and the line."""
    sums = {}
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError("SHA256SUMS is not UTF-8 text", source,
                          fix="rebuild the bundle with broadcast bundle") from None
    for number, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        match = re.fullmatch(r"([0-9a-f]{64})  (.+)", line)
        if not match:
            raise BundleError(f"SHA256SUMS line {number} is malformed", source,
                              fix="rebuild the bundle with broadcast bundle")
        sums[match.group(2)] = match.group(1)
    return sums


AUDIO_SUFFIXES = (".wav", ".mp3")
signature_of = signing.signature_of


def top_folder(folder: Path) -> str:
    """The folder a bundle's members lie in: ``CAMPAIGN-LOCALE-PROFILE``, from the output
    folder's manifest (so the zip's bytes do not depend on its file name). Unzipping a
    bundle makes that one folder, never a scatter of files where it is unzipped."""
    try:
        manifest = Manifest.from_json((folder / MANIFEST).read_bytes())
        name = f"{manifest.campaign}-{manifest.locale}-{manifest.profile.get('name')}"
    except (OSError, ManifestError):
        name = ""                   # no manifest: SHA256SUMS, checked below, will say so
    return name if TOP_RE.match(name) else "bundle"


def make_bundle(folder: Path, out: Path, checked: Mapping[str, Checked] | None = None) -> bool:
    """Zip an output folder deterministically: sorted members, fixed times and modes, in
    one folder (:func:`top_folder`).

    Each member is read once, streamed into the zip while its SHA-256 is checked against
    SHA256SUMS, except an audio file whose digests ``checked`` holds, as SHA256SUMS lists
    it, and that kept the size, time and inode they were checked at: the kernel copies it
    without it being read here (:func:`copy_stored`; the same bytes). A zip that already
    holds this SHA256SUMS and members of these names and sizes, written as we write them,
    is left as it is (False).
    """
    folder = Path(folder)
    sums_path = folder / SUMS
    if not sums_path.exists():
        raise BundleError("no SHA256SUMS in the output folder", folder,
                          fix="render first (broadcast render or broadcast build)")
    sums_data = sums_path.read_bytes()
    sums = read_sums(sums_data, str(sums_path))
    names = sorted(set(sums) | {SUMS})
    stamp = _zip_time()
    sizes: dict[str, int] = {}
    for name in names:
        path = folder / name
        if path.is_symlink() or not path.is_file():
            raise BundleError(f"'{name}' listed in SHA256SUMS is missing or not a plain file",
                              folder, fix="render again (broadcast render) before bundling")
        sizes[name] = path.stat().st_size
    top = top_folder(folder) + "/"
    if _same_zip(out, top, sizes, sums_data, stamp):
        # The same zip would be written, if the folder still holds what SHA256SUMS says:
        # a file edited in place (output files are links into the render cache) is not.
        _check_folder(folder, sums, checked or {})
        return False                # writing again would give the same bytes
    tmp = temp_beside(out)
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            for name in names:      # streamed: a member is never held whole
                info = zipfile.ZipInfo(top + name, stamp)
                info.compress_type = _compression(name)
                info.create_system = 3
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                info.file_size = sizes[name]
                known = (checked or {}).get(name)
                if (known is not None and info.compress_type == zipfile.ZIP_STORED
                        and info.file_size * 1.05 <= zipfile.ZIP64_LIMIT
                        and known.sha256 == sums.get(name) and known.holds(folder / name)):
                    copy_stored(zf, info, folder / name, known.crc32)
                    continue
                digest = hashlib.sha256()
                with open(folder / name, "rb") as src, \
                        zf.open(info, "w", force_zip64=False) as dest:
                    while chunk := src.read(CHUNK):
                        digest.update(chunk)
                        dest.write(chunk)
                if name != SUMS and digest.hexdigest() != sums[name]:
                    raise BundleError(f"'{name}' differs from SHA256SUMS: the folder is "
                                      "inconsistent", folder,
                                      fix="render again (broadcast render) before bundling")
        # The old zip's signature goes first: a kill between the two steps leaves an
        # unsigned bundle (said so), never a signature that no longer matches its zip.
        signature_of(out).unlink(missing_ok=True)
        replace_durably(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


def _check_folder(folder: Path, sums: dict[str, str], checked: Mapping[str, Checked]) -> None:
    """Every file SHA256SUMS lists holds its digest (a file whose render checked it and
    that kept its size, time and inode is taken as checked)."""
    for name, digest in sums.items():
        path = folder / name
        known = checked.get(name)
        if known is not None and known.sha256 == digest and known.holds(path):
            continue
        if sha256_file(path) != digest:
            raise BundleError(f"'{name}' differs from SHA256SUMS: the folder is inconsistent",
                              folder, fix="render again (broadcast render) before bundling")


def copy_stored(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, crc: int) -> None:
    """Append to ``zf`` a stored member whose CRC-32 is known: the local header exactly as
    ``ZipFile.open(info, "w")`` leaves it once written, then the file's bytes, copied by
    the kernel. (ZipFile has no public way to add bytes it does not read; a test holds
    this to the streamed member, byte for byte.)"""
    info.CRC, info.compress_size, info.flag_bits = crc, info.file_size, 0
    fp = zf.fp
    assert fp is not None
    fp.seek(zf.start_dir)
    info.header_offset = fp.tell()
    zf._writecheck(info)        # type: ignore[attr-defined]
    zf._didModify = True        # type: ignore[attr-defined]
    fp.write(info.FileHeader(False))
    fp.flush()
    at = fp.tell()
    with open(path, "rb") as src:
        _copy_range(src.fileno(), fp.fileno(), info.file_size, at, path)
    fp.seek(at + info.file_size)
    zf.start_dir = fp.tell()    # type: ignore[attr-defined]
    zf.filelist.append(info)
    zf.NameToInfo[info.filename] = info


def _copy_range(src: int, dest: int, count: int, at: int, path: Path) -> None:
    """``count`` bytes from the start of ``src`` to ``dest`` at ``at``: copy_file_range,
    or reads and writes where the system has none or it cannot join these files."""
    done = 0
    try:
        while done < count:
            n = os.copy_file_range(src, dest, count - done, done, at + done)
            if n == 0:
                break
            done += n
    except (AttributeError, OSError):
        while done < count:
            chunk = os.pread(src, min(CHUNK, count - done), done)
            if not chunk:
                break
            done += os.pwrite(dest, chunk, at + done)
    if done != count:
        raise BundleError("a file changed while it was bundled", path,
                          fix="bundle again once nothing else writes the output folder")


def _same_zip(path: Path, top: str, sizes: dict[str, int], sums_data: bytes, stamp) -> bool:
    """True if the zip at ``path`` already holds these members, as we write them, and this
    SHA256SUMS (which the members were checked against when it was written)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            if not ([i.filename for i in infos] == [top + n for n in sizes] and
                    all(i.date_time == stamp and i.file_size == sizes[i.filename[len(top):]]
                        and i.compress_type == _compression(i.filename) for i in infos)):
                return False
            return zf.read(top + SUMS) == sums_data
    except (OSError, zipfile.BadZipFile, KeyError, zlib.error):
        return False


def _compression(name: str) -> int:
    """Audio is stored as it is (deflate gains a few per cent on it at the cost of most of
    the bundling time); text is deflated."""
    return zipfile.ZIP_STORED if name.endswith(AUDIO_SUFFIXES) else zipfile.ZIP_DEFLATED


# --- verification ------------------------------------------------------------------------------

def bundle_top(names: list[str]) -> str:
    """The folder a bundle's members lie in (``NAME/``, where its SHA256SUMS lies), or ""
    for a bundle made before bundles had one."""
    if SUMS in names:
        return ""
    tops = [n[:-len(SUMS)] for n in names if n.endswith("/" + SUMS)
            and TOP_RE.match(n[:-len(SUMS) - 1])]
    if len(tops) == 1:
        return tops[0]
    first = names[0].split("/", 1)[0] if names else ""
    return first + "/" if TOP_RE.match(first) and first != "programs" else ""


def check_member_name(info: zipfile.ZipInfo, bundle: str, top: str = "") -> None:
    """Refuse a member that could land outside the destination or is not ours (``top``:
    the bundle's folder, which every member's name starts with)."""
    full = info.filename
    name = full[len(top):]
    mode = info.external_attr >> 16
    problem = None
    if full.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", full):
        problem = "has an absolute path"
    elif "\\" in full or ".." in full.split("/"):
        problem = "has a '..' or a backslash in its path"
    elif stat.S_ISLNK(mode):
        problem = "is a symbolic link"
    elif not full.startswith(top):
        problem = f"lies outside the bundle's folder '{top}'"
    elif name.endswith("/") or not name:
        if name not in ("programs/", ""):
            problem = "is an unexpected folder"
    elif name not in FIXED_NAMES and not MEMBER_RE.match(name):
        problem = "has a name outside the allowed pattern [0-9A-Za-z_-].ext"
    if problem:
        raise BundleError(f"member '{info.filename}' {problem}; refusing the bundle", bundle,
                          fix="do not use this bundle; rebuild it with broadcast bundle")


MAX_MEMBER = 1024 ** 3          # one hour of 48 kHz WAV is about 350 MB
MAX_TOTAL = 4 * 1024 ** 3
MAX_RATIO = 200                 # speech deflates to 70-95 %; a bomb to 0.1 %


def _check_sizes(infos: list[zipfile.ZipInfo], bundle: str) -> None:
    """Refuse what would expand beyond reason before reading any of it (a zip bomb)."""
    total = 0
    for info in infos:
        if info.is_dir() and info.file_size:
            raise BundleError(f"folder entry '{info.filename}' carries data; refusing the "
                              "bundle", bundle, fix="do not use this bundle")
        total += info.file_size
        bomb = info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1)
        if info.file_size > MAX_MEMBER or bomb:
            raise BundleError(f"member '{info.filename}' would expand to "
                              f"{info.file_size // 1024 ** 2} MiB from {info.compress_size // 1024} "
                              "KiB; refusing the bundle", bundle,
                              fix="do not use this bundle; fetch it again from its source")
    if total > MAX_TOTAL:
        raise BundleError(f"the members would expand to {total // 1024 ** 2} MiB; refusing the "
                          "bundle", bundle, fix="do not use this bundle")


MAX_MEMBERS = 10_000            # a folder of 2,000 messages with transcripts is 4,000
MAX_KEPT = 16 * 1024 ** 2       # the largest text member held in memory (all others stream)


@dataclass
class Verified:
    """What verification found. Members are streamed, never all held: ``digests`` has every
    member's SHA-256, ``texts`` the small text members (SHA256SUMS, the manifest, the
    playlist, the page, transcripts); :meth:`read` reads one member again."""

    bundle: Path
    digests: dict[str, str]
    manifest: Manifest | None
    texts: dict[str, bytes] = field(default_factory=dict)
    trusted_comment: str | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    top: str = ""       # the folder the members lie in ("NAME/"); names here are within it

    @property
    def ok(self) -> bool:
        return not self.problems

    def read(self, name: str) -> bytes:
        """One member's bytes, checked again against the digest verification found (the
        file could have been replaced since)."""
        if name in self.texts:
            return self.texts[name]
        with zipfile.ZipFile(self.bundle) as zf:
            data = zf.read(self.top + name)
        if sha256_bytes(data) != self.digests.get(name):
            raise BundleError(f"member '{name}' changed since it was verified", self.bundle,
                              fix="verify the bundle again")
        return data


def _kept(name: str) -> bool:
    return name in FIXED_NAMES or name.endswith(".txt")


def verify_bundle(path: Path, public: signing.PublicKey | None) -> Verified:
    """Check a bundle. Unsafe member names raise at once; other problems are collected.
    Every member is streamed through its hash: memory does not grow with member sizes."""
    path = Path(path)
    source = str(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BundleError("no such bundle", source, fix="check the path") from None
    except (zipfile.BadZipFile, ValueError, EOFError):     # UnicodeDecodeError included
        raise BundleError("not a zip file, or a damaged one", source,
                          fix="fetch the bundle again from its source") from None
    result = Verified(path, {}, None)
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise BundleError(f"the bundle has {len(infos)} members, more than "
                              f"{MAX_MEMBERS}; refusing it", source,
                              fix="do not use this bundle; fetch it again from its source")
        result.top = bundle_top([i.filename for i in infos])
        for info in infos:
            check_member_name(info, source, result.top)
        _check_sizes(infos, source)
        seen = set()
        for info in infos:
            if info.filename in seen:
                result.problems.append(f"member '{info.filename}' appears twice")
            seen.add(info.filename)
            if info.is_dir():
                continue
            _stream_member(zf, info, info.filename[len(result.top):], result)
    texts = result.texts
    if SUMS not in texts:
        result.problems.append("member 'SHA256SUMS' is missing")
        sums = {}
    else:
        sums = read_sums(texts[SUMS], source)
    present = {n: d for n, d in result.digests.items() if n != SUMS}
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
    if MANIFEST not in texts:
        result.problems.append(f"member '{MANIFEST}' is missing")
    else:
        try:
            result.manifest = Manifest.from_json(texts[MANIFEST])
        except ManifestError as exc:
            result.problems.append(f"member '{MANIFEST}' is malformed: {exc}")
    if result.manifest is not None:
        _check_manifest(result.manifest, result)
    _check_signature(path, public, result)
    return result


def _stream_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str,
                   result: Verified) -> None:
    digest = hashlib.sha256()
    kept: list[bytes] | None = [] if _kept(name) else None
    size = 0
    try:
        with zf.open(info) as fh:
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                digest.update(chunk)
                size += len(chunk)
                if kept is not None:
                    if size > MAX_KEPT:
                        raise ValueError(f"a text member of more than {MAX_KEPT >> 20} MiB")
                    kept.append(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError,
            RuntimeError, ValueError) as exc:
        # damaged data, an unknown compression, an encrypted member
        result.problems.append(f"member '{name}' is corrupt ({exc})")
        return
    result.digests[name] = digest.hexdigest()
    if kept is not None:
        result.texts[name] = b"".join(kept)


def _check_manifest(manifest: Manifest, result: Verified) -> None:
    """Every file of the manifest present with its digest and the profile's format, and
    the playlist in the manifest's play order."""
    ext = manifest.profile.get("format")
    for entry in manifest.files:
        name = entry.file
        if name not in result.digests:
            result.problems.append(f"manifest file '{name}' is missing from the bundle")
        elif result.digests[name] != entry.sha256:
            result.problems.append(f"member '{name}' differs from its manifest sha256")
        if ext and not name.endswith("." + str(ext)):
            result.problems.append(f"member '{name}' is not a {ext} file as the profile says")
    playlist = result.texts.get(PLAYLIST)
    if playlist is not None:
        played = [line for line in playlist.decode("utf-8", "replace").split("\n")
                  if line and not line.startswith("#")]
        if played != [entry.file for entry in manifest.messages]:
            result.problems.append(f"member '{PLAYLIST}' does not play the manifest's files in "
                                   "its order")


def _check_signature(path: Path, public: signing.PublicKey | None, result: Verified) -> None:
    signature = signature_of(path)
    if public is not None:
        try:
            result.trusted_comment = signing.verify(path, signature, public)
        except SignatureError as exc:
            result.problems.append(f"signature: {exc.message}")
    elif signature.exists():
        result.problems.append("the bundle is signed but no public key was given to check it")
    else:
        result.notes.append("the bundle is not signed")


def require_verified(path: Path, public: signing.PublicKey | None) -> Verified:
    result = verify_bundle(path, public)
    if not result.ok:
        raise BundleError(f"verification failed: {result.problems[0]}", path,
                          fix="do not use this bundle; run broadcast verify for every problem")
    return result
