"""Atomic, change-only file writes; whole folders swapped at once; strict UTF-8 reading;
hashing."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .errors import PipelineError

__all__ = ["atomic_write", "BOM", "Checked", "digests_of_file", "inside", "read_utf8",
           "recover_folders", "relative", "remove_temp_files", "replace_durably",
           "sha256_bytes", "sha256_file", "staging_of", "swap_folder", "temp_beside",
           "TEMP_RE", "write_if_changed"]

BOM = b"\xef\xbb\xbf"


def temp_beside(path: Path) -> Path:
    """A new empty temp file in ``path``'s folder (named so that tidying finds it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp)


def replace_durably(tmp: Path, path: Path) -> None:
    """Put the finished temp file ``tmp`` in the place of ``path``: fsync, rename."""
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    _fsync_dir(Path(path).parent)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder, fsync, rename.

    A crash leaves either the old file or the new one, never half of either.
    """
    tmp = temp_beside(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        replace_durably(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


TEMP_RE = re.compile(r"\A\..+\.[A-Za-z0-9_]{8}\.tmp\Z")     # what atomic_write leaves
STAGING, RETIRED = ".staging", ".old"


def remove_temp_files(folder: Path, recursive: bool = True) -> list[Path]:
    """Delete the temp files of writes that a killed process never finished."""
    found = [p for p in (Path(folder).rglob(".*.tmp") if recursive else Path(folder).glob(".*.tmp"))
             if TEMP_RE.match(p.name) and p.is_file() and not p.is_symlink()]
    for path in found:
        path.unlink(missing_ok=True)
    return found


def swap_folder(staging: Path, folder: Path) -> None:
    """Put ``staging`` in the place of ``folder``, so that readers see the old folder or
    the new one, never a mix. A crash between the two renames leaves ``.<name>.old``,
    which :func:`recover_folders` puts back in order."""
    retired = folder.with_name(f".{folder.name}{RETIRED}")
    if retired.exists():
        shutil.rmtree(retired)
    if folder.exists():
        os.replace(folder, retired)
    os.replace(staging, folder)
    _fsync_dir(folder.parent)
    if retired.exists():
        shutil.rmtree(retired)


def staging_of(folder: Path) -> Path:
    return folder.with_name(f".{folder.name}{STAGING}")


def recover_folders(root: Path, pattern: str = "*/*/") -> None:
    """After a crash: a half-built staging folder is dropped; a retired folder whose
    replacement never arrived comes back, and one that was replaced is deleted.
    ``pattern`` says where below ``root`` the swapped folders live."""
    for path in sorted(Path(root).glob(f"{pattern}.*{STAGING}")):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
    for path in sorted(Path(root).glob(f"{pattern}.*{RETIRED}")):
        if not path.is_dir() or path.is_symlink():
            continue
        live = path.with_name(path.name[1:-len(RETIRED)])
        if live.exists():
            shutil.rmtree(path)
        else:
            os.replace(path, live)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write atomically unless ``path`` already holds exactly ``data``. True if written."""
    path = Path(path)
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    atomic_write(path, data)
    return True


def relative(path: Path, root: Path) -> str:
    """``path`` as the user knows it: relative to the project root when inside it."""
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(path)


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``, links followed, lies within ``root``."""
    try:
        Path(path).resolve().relative_to(Path(root).resolve())
    except ValueError:
        return False
    return True


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _blocks(path: Path):
    with open(path, "rb") as fh:
        yield from iter(lambda: fh.read(1 << 20), b"")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    for block in _blocks(path):
        h.update(block)
    return h.hexdigest()


def digests_of_file(path: Path) -> tuple[str, int]:
    """A file's SHA-256 (hex) and CRC-32, in one read."""
    h, crc = hashlib.sha256(), 0
    for block in _blocks(path):
        h.update(block)
        crc = zlib.crc32(block, crc)
    return h.hexdigest(), crc


@dataclass(frozen=True)
class Checked:
    """What a file held when it had this size, modification time and inode: its SHA-256
    and CRC-32. A file that kept all three is taken to hold them still (the render cache's
    rule), so a bundle can copy it without reading it."""

    size: int
    mtime_ns: int
    ino: int
    sha256: str
    crc32: int

    def holds(self, path: Path) -> bool:
        """Whether ``path`` (not a link) kept this size, modification time and inode."""
        try:
            st = os.lstat(path)
        except OSError:
            return False
        return (st.st_size, st.st_mtime_ns, st.st_ino) == (self.size, self.mtime_ns, self.ino)


def read_utf8(path: Path, error: type[PipelineError], allow_bom: bool = False) -> str:
    """The text of ``path``; an unreadable file, a byte-order mark (unless allowed) or a
    byte that is not UTF-8 is ``error`` naming the file, the line and the fix."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror}", path,
                    fix="check the path and its permissions") from None
    if raw.startswith(BOM) and not allow_bom:
        raise error("starts with a byte-order mark (BOM)", path, 1,
                    fix="save the file as UTF-8 without BOM")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise error("not valid UTF-8", path, line, fix="save the file as UTF-8") from None
