"""The render cache (``audio_out/.cache/final``): rendered files by content key, each
verified before use.

A rendered message or program is kept under a key that hashes everything that changes
its bytes (:func:`cache_key`, :func:`message_key`); its meta file records the key it was
made for, what it measures, and its size, SHA-256, CRC-32 and stat. An entry whose meta
names another key, or whose file moved without keeping its bytes, is made again. An MP3
program's gating blocks are cached beside each file, sealed with key and offset.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import dsp
from ..audio.finish import encoder_id
from ..audio.profiles import Profile
from ..audio.program import PieceBlocks, decoded_blocks
from ..audio.tags import Label
from ..fsutil import Checked, atomic_write, digests_of_file, replace_durably, sha256_bytes
from ..layout import Layout
from ..voice.speech import PARAGRAPH_PAUSE_S
from .plan import MessageJob

__all__ = ["PROCESSING_VERSION", "Rendered", "blocks_path", "cache_key", "cached",
           "cached_blocks", "hit", "label_of", "master_path", "message_key"]

PROCESSING_VERSION = "8"        # bump when audio processing or what it measures changes


@dataclass(frozen=True)
class Rendered:
    key: str                            # the cache key: final/<key>.<ext> holds the file
    measured: dsp.Measured
    # That file's size, SHA-256 and CRC-32, with the stat they were checked at when it was
    # taken or made (a bundle copies it by them).
    checked: Checked
    cer: float | None = None            # the speech judge's character error rate

    @property
    def sha256(self) -> str:
        return self.checked.sha256

    @property
    def size(self) -> int:
        return self.checked.size


def cache_key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False,
                                     default=str).encode("utf-8")).hexdigest()


def cached(layout: Layout, key: str, profile: Profile, make) -> tuple[Rendered, int]:
    """The rendered file under ``key``, made only if the cache does not hold it whole, and
    how many encodings that took.

    The meta file records the file's size, SHA-256 and CRC-32, and its modification time
    and inode when written: a file that kept all of them is taken as it is, one that did
    not is hashed again, so a truncated or altered cache entry is detected and made again.
    ``make`` returns the encoded bytes, or the path of a temporary file it streamed them
    into (a program).
    """
    found = hit(layout, key, profile)
    if found:
        return found, 0
    out = layout.final_cache(key, profile.ext)
    data, measured, encodings = make()
    if isinstance(data, Path):
        digest, crc = digests_of_file(data)
        replace_durably(data, out)
    else:
        digest, crc = sha256_bytes(data), zlib.crc32(data)
        atomic_write(out, data)
    return Rendered(key, measured, _write_meta(layout.final_cache(key, "json"), key, measured,
                                               digest, crc, out)), encodings


def hit(layout: Layout, key: str, profile: Profile) -> Rendered | None:
    """The cache's whole file under ``key``, or None."""
    out = layout.final_cache(key, profile.ext)
    meta = layout.final_cache(key, "json")
    try:
        info = json.loads(meta.read_text())
        if info.pop("key", None) != key:
            return None             # another key's entry copied here, or one from before keys
        size, digest, written = info.pop("size"), info.pop("sha256"), info.pop("stat", None)
        crc = info.pop("crc32", None)
        measured = dsp.Measured.from_json(info)
        if isinstance(written, list) and len(written) == 2 and isinstance(crc, int):
            recorded = Checked(size, written[0], written[1], digest, crc)
            if recorded.holds(out):
                return Rendered(key, measured, recorded)
        if out.stat().st_size == size:
            # The same bytes, moved or copied (or recorded before CRC-32s were): remember
            # them as they are now.
            now_digest, crc = digests_of_file(out)
            if now_digest == digest:
                return Rendered(key, measured, _write_meta(meta, key, measured, digest, crc,
                                                           out))
    except (ValueError, TypeError, KeyError, OSError):
        pass
    return None


def _write_meta(meta: Path, key: str, measured: dsp.Measured, digest: str, crc: int,
                out: Path) -> Checked:
    """Record what the cache file ``out`` measures and holds, with its stat now, and the
    key it was made for (an entry copied under another key is not taken)."""
    st = out.stat()
    atomic_write(meta, json.dumps({**measured.to_json(), "key": key, "size": st.st_size,
                                   "sha256": digest, "crc32": crc,
                                   "stat": [st.st_mtime_ns, st.st_ino]}).encode())
    return Checked(st.st_size, st.st_mtime_ns, st.st_ino, digest, crc)


def message_key(job: MessageJob, profile: Profile) -> str:
    return cache_key("message", PROCESSING_VERSION, job.voicing.speech_keys(), PARAGRAPH_PAUSE_S,
                dataclasses.asdict(profile), encoder_id(profile),
                label_of(job.campaign, job.locale, job.message_id, job.title).key(profile))


def label_of(campaign: str, locale: str, item: str, title: str) -> Label:
    """What a station's playout is told a message or program file is (:mod:`..audio.tags`)."""
    return Label(title, campaign, f"{campaign}/{locale}/{item}")


def master_path(layout: Layout, key: str, profile: Profile) -> Path:
    """The mastered PCM of a message: the file itself for WAV profiles, a WAV beside the
    MP3 otherwise (programs are built from it)."""
    return layout.final_cache(key, "wav" if profile.format == "wav" else "master.wav")


def blocks_path(layout: Layout, key: str, offset: int) -> Path:
    return layout.final_cache(key, f"at{offset}.blocks")


def cached_blocks(layout: Layout, keys: list[str], files: list[Path],
                   profile: Profile) -> PieceBlocks:
    """:func:`decoded_blocks` of a program's files, cached beside each file by its key and
    offset (with their SHA-256, so that a damaged entry is made again): a program whose
    first messages are unchanged does not decode them again."""
    def at(i: int, offset: int) -> tuple[int, np.ndarray | None]:
        path = blocks_path(layout, keys[i], offset)
        try:
            data = path.read_bytes()
            if (len(data) >= 40 and len(data) % 8 == 0
                    and _sealed(keys[i], offset, data[32:]) == data[:32]):
                return (int.from_bytes(data[32:40], "little"),
                        np.frombuffer(data[40:], dtype="<f8"))
        except OSError:
            pass
        length, blocks = decoded_blocks(files[i], offset, profile.sample_rate)
        if blocks is not None:
            payload = length.to_bytes(8, "little") + blocks.astype("<f8").tobytes()
            atomic_write(path, _sealed(keys[i], offset, payload) + payload)
        return length, blocks
    return at


def _sealed(key: str, offset: int, payload: bytes) -> bytes:
    """The digest binding gating blocks to the file and offset they were decoded at."""
    return hashlib.sha256(f"{key}@{offset}\0".encode("ascii") + payload).digest()
