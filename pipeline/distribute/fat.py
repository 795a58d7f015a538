"""A FAT32 volume written in Python, for ``usb --image``: no system tools needed.

The layout follows Microsoft's FAT specification (fatgen103) for a volume without a
partition table, as ``mkfs.fat -C`` makes it: 32 reserved sectors (the boot sector at 0,
its FSInfo at 1, their backups at 6 and 7), two FATs, and the data area. The writer
places the root directory first and then each file in one contiguous run of clusters,
in the order given, so a player that plays in directory order or in cluster order plays
the same order. Every name is a short (8.3) name, lower case recorded as Windows NT
records it (no long-name entries); every time is ``mtime``. With ``partitioned``, the
volume lies in the one partition of an MBR partition table, from 1 MiB on, as sticks and
SD cards come from the factory (and as some players insist on). :func:`read_files` reads
such a volume back, by its boot sector and FAT chains, to check what was written.
"""

from __future__ import annotations

import os
import re
import struct
import sys
import time
from array import array
from pathlib import Path
from typing import BinaryIO

__all__ = ["FatLayout", "find_volume", "layout", "PARTITION_START", "read_files",
           "write_volume"]

SECTOR = 512
RESERVED = 32                   # reserved sectors, as mkfs.fat and Windows make FAT32
FATS = 2
MIN_CLUSTERS = 65525            # fewer, and a reader takes the volume for FAT16
END = 0x0FFFFFFF                # end of a cluster chain
PARTITION_START = 2048          # sectors before the partition: 1 MiB, as factories align
FAT32_LBA = 0x0C                # the partition type of FAT32 addressed by LBA
OEM = b"MSWIN4.1"               # the OEM name fatgen103 recommends, for old drivers
_U32 = next(code for code in "IL" if array(code).itemsize == 4)     # a FAT entry
_SHORT = re.compile(r"([0-9a-z_-]{1,8}|[0-9A-Z_-]{1,8})(?:\.([0-9a-z]{1,3}|[0-9A-Z]{1,3}))?")


class FatLayout:
    """Where everything goes in a FAT32 volume of ``size`` bytes (fatgen103, section 3.5)."""

    def __init__(self, size: int):
        self.sectors = size // SECTOR
        # Microsoft's cluster sizes for FAT32, by volume size (fatgen103, table 2).
        self.per_cluster = next((n for limit, n in ((532480, 1), (16777216, 8),
                                                    (33554432, 16), (67108864, 32))
                                 if self.sectors <= limit), 64)
        half = (256 * self.per_cluster + FATS) // 2
        self.fat_sectors = (self.sectors - RESERVED + half - 1) // half
        self.data_start = RESERVED + FATS * self.fat_sectors
        self.clusters = (self.sectors - self.data_start) // self.per_cluster
        self.cluster_bytes = self.per_cluster * SECTOR

    def offset(self, cluster: int) -> int:
        """The byte where cluster ``cluster`` (2 or more) starts."""
        return (self.data_start + (cluster - 2) * self.per_cluster) * SECTOR

    def clusters_for(self, length: int) -> int:
        return -(-length // self.cluster_bytes)


def layout(size: int) -> FatLayout:
    """The layout of a ``size``-byte volume; ValueError if FAT32 cannot have that size."""
    fat = FatLayout(size)
    if fat.clusters < MIN_CLUSTERS or fat.clusters + 2 > fat.fat_sectors * SECTOR // 4:
        raise ValueError(f"{size} bytes is too small for FAT32")
    return fat


def _short_name(name: str) -> tuple[bytes, int]:
    """The 11-byte short name and the NT case byte (0x08 base, 0x10 extension lower)."""
    match = _SHORT.fullmatch(name)
    if not match:
        raise ValueError(f"'{name}' is not a short (8.3) name")
    base, ext = match.group(1), match.group(2) or ""
    case = (0x08 if base != base.upper() else 0) | (0x10 if ext != ext.upper() else 0)
    return base.upper().ljust(8).encode() + ext.upper().ljust(3).encode(), case


def _dos_time(mtime: int) -> tuple[int, int]:
    """FAT's (date, time) of a POSIX time, in UTC (FAT holds no zone)."""
    t = time.gmtime(max(mtime, 315532800))
    return ((t.tm_year - 1980) << 9 | t.tm_mon << 5 | t.tm_mday,
            t.tm_hour << 11 | t.tm_min << 5 | t.tm_sec // 2)


def _entry(name: bytes, attr: int, case: int, cluster: int, length: int,
           mtime: int) -> bytes:
    date, clock = _dos_time(mtime)
    return struct.pack("<11sBBBHHHHHHHI", name, attr, case, 0, clock, date, date,
                       cluster >> 16, clock, date, cluster & 0xFFFF, length)


def _boot_sector(fat: FatLayout, label: str, serial: bytes, hidden: int) -> bytes:
    boot = bytearray(SECTOR)
    struct.pack_into("<3s8sHBHBHHBHHHII", boot, 0, b"\xeb\x58\x90", OEM, SECTOR,
                     fat.per_cluster, RESERVED, FATS, 0, 0, 0xF8, 0, 63, 255, hidden,
                     fat.sectors)
    struct.pack_into("<IHHIHH12xBxB4s11s8s", boot, 36, fat.fat_sectors, 0, 0, 2, 1, 6,
                     0x80, 0x29, serial, label.ljust(11).encode(), b"FAT32   ")
    boot[510:512] = b"\x55\xaa"
    return bytes(boot)


def _mbr(sectors: int) -> bytes:
    """A master boot record with one FAT32 (LBA) partition of ``sectors`` from
    :data:`PARTITION_START` on; its CHS fields say "beyond CHS", as for any large disk."""
    mbr = bytearray(SECTOR)
    struct.pack_into("<B3sB3sII", mbr, 446, 0x00, b"\xfe\xff\xff", FAT32_LBA, b"\xfe\xff\xff",
                     PARTITION_START, sectors)
    mbr[510:512] = b"\x55\xaa"
    return bytes(mbr)


def _fsinfo(free: int, next_free: int) -> bytes:
    info = bytearray(SECTOR)
    struct.pack_into("<I", info, 0, 0x41615252)
    struct.pack_into("<III", info, 484, 0x61417272, free, next_free)
    struct.pack_into("<I", info, 508, 0xAA550000)
    return bytes(info)


def write_volume(path: Path, size: int, files: list[tuple[str, bytes]], label: str,
                 serial: bytes, mtime: int, volume_label: bool = True,
                 partitioned: bool = False) -> None:
    """Write a disk image of ``size`` bytes to ``path``: a FAT32 volume holding ``files``
    (short names) in their order, alone or (``partitioned``) in the one partition of an
    MBR. ``label`` goes in the boot sector, and in the root directory too with
    ``volume_label``. The file is sparse where nothing is written."""
    start = PARTITION_START * SECTOR if partitioned else 0
    fat = layout(size - start)
    names = [_short_name(name) for name, _ in files]
    if len({n for n, _ in names}) != len(names):
        raise ValueError("two files have the same short name")
    label_entry = [_entry(label.ljust(11).encode(), 0x08, 0, 0, 0, mtime)] if volume_label else []
    root_length = (len(label_entry) + len(files) + 1) * 32       # one free entry ends it
    table = array(_U32, bytes(fat.fat_sectors * SECTOR))
    table[0], table[1] = 0x0FFFFFF8, END
    entries, placed, cluster = list(label_entry), [], 2

    def chain(length: int) -> int:
        nonlocal cluster
        count = fat.clusters_for(length)
        if not count:
            return 0
        if cluster + count > fat.clusters + 2:
            raise ValueError("the files do not fit in the volume")
        first, cluster = cluster, cluster + count
        table[first:cluster - 1] = array(_U32, range(first + 1, cluster))
        table[cluster - 1] = END
        return first

    root = chain(root_length)
    for (name, case), (_, data) in zip(names, files, strict=True):
        first = chain(len(data))
        entries.append(_entry(name, 0x20, case, first, len(data), mtime))
        placed.append((first, data))
    if sys.byteorder == "big":
        table.byteswap()
    boot = _boot_sector(fat, label, serial, start // SECTOR)
    info = _fsinfo(fat.clusters + 2 - cluster, cluster)
    with open(path, "wb") as fh:
        fh.truncate(start + fat.sectors * SECTOR)
        if partitioned:
            fh.write(_mbr(fat.sectors))
        for sector, data in ((0, boot), (1, info), (6, boot), (7, info)):
            fh.seek(start + sector * SECTOR)
            fh.write(data)
        for copy in range(FATS):
            fh.seek(start + (RESERVED + copy * fat.fat_sectors) * SECTOR)
            fh.write(table.tobytes())
        fh.seek(start + fat.offset(root))
        fh.write(b"".join(entries))
        for first, data in placed:
            if first:
                fh.seek(start + fat.offset(first))
                fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _volume_start(head: bytes) -> int | None:
    """Where the FAT32 volume of a disk image starts (its first 512 bytes): 0 for a volume
    alone, the first partition's start for an MBR whose first partition is FAT32; None
    for anything else."""
    if len(head) < SECTOR or head[510:512] != b"\x55\xaa":
        return None
    if head[82:90] == b"FAT32   ":
        return 0
    kind, first = head[446 + 4], struct.unpack_from("<I", head, 446 + 8)[0]
    return first * SECTOR if kind in (0x0B, FAT32_LBA) and first else None


def find_volume(fh: BinaryIO) -> tuple[int, bytes] | None:
    """Where the FAT32 volume of an open disk image starts (alone, or in an MBR's first
    partition), and its boot sector; None if the image holds no such volume."""
    start = _volume_start(fh.read(SECTOR))
    if start is None:
        return None
    fh.seek(start)
    boot = fh.read(SECTOR)
    if len(boot) < SECTOR or boot[510:512] != b"\x55\xaa" or boot[82:90] != b"FAT32   ":
        return None
    return start, boot


def read_files(path: Path) -> list[tuple[str, bytes]]:
    """The files of a FAT32 volume's root directory (alone, or in an MBR's first
    partition), in directory order, each read by its FAT chain: how a player reads the
    volume. ValueError if it is not such a volume."""
    with open(path, "rb") as fh:
        found = find_volume(fh)
        if found is None:
            raise ValueError("not a FAT32 volume")
        start, boot = found
        sector, per_cluster, reserved, fats = struct.unpack_from("<HBHB", boot, 11)
        fat_sectors, root = struct.unpack_from("<I", boot, 36)[0], \
            struct.unpack_from("<I", boot, 44)[0]
        fh.seek(start + reserved * sector)
        table = array(_U32, fh.read(fat_sectors * sector))
        if sys.byteorder == "big":
            table.byteswap()
        data_start = start // sector + reserved + fats * fat_sectors

        def read_chain(first: int, length: int | None = None) -> bytes:
            out, cluster, seen = bytearray(), first, set()
            while 2 <= cluster < 0x0FFFFFF8 and cluster not in seen:
                if cluster >= len(table):
                    raise ValueError(f"cluster {cluster} is outside the FAT")
                seen.add(cluster)
                fh.seek((data_start + (cluster - 2) * per_cluster) * sector)
                out += fh.read(per_cluster * sector)
                cluster = table[cluster] & 0x0FFFFFFF
            return bytes(out if length is None else out[:length])

        directory, files = read_chain(root), []
        for at in range(0, len(directory), 32):
            entry = directory[at:at + 32]
            if entry[0] == 0:
                break
            if entry[0] == 0xE5 or entry[11] & 0x08:        # deleted, label or long name
                continue
            base, ext = entry[:8].decode().rstrip(), entry[8:11].decode().rstrip()
            base = base.lower() if entry[12] & 0x08 else base
            ext = ext.lower() if entry[12] & 0x10 else ext
            high, low = struct.unpack_from("<H", entry, 20)[0], struct.unpack_from("<H", entry, 26)[0]
            length = struct.unpack_from("<I", entry, 28)[0]
            files.append((base + ("." + ext if ext else ""), read_chain(high << 16 | low, length)))
    return files
