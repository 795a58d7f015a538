"""Render execution: every planned message and program → mastered, encoded audio per profile.

Work runs in a pool of worker processes (``workers``) or in process. Every expensive result
is cached under ``audio_out/.cache`` by a content hash, so a rebuild with nothing changed
does no synthesis and no encoding; the report counts both.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import hashlib
import json
import os
import sys
import time
import wave
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio import dsp
from ..audio.codec import decode, read_wav, wav_bytes
from ..audio.master import (
    PieceBlocks,
    decoded_blocks,
    encoder_id,
    finish,
    mp3_program_offsets,
    program_file,
    program_from_files,
)
from ..audio.profiles import Profile
from ..content.sources import Program
from ..errors import AudioError, PipelineError
from ..fsutil import (
    Checked,
    atomic_write,
    digests_of_file,
    inside,
    replace_durably,
    sha256_bytes,
    sha256_file,
)
from ..layout import Layout
from ..voice import asr
from ..voice.speech import PARAGRAPH_PAUSE_S, SPEECH_RATE, speech
from .outputs import FolderResult, Withdrawn, write_folder
from .plan import LocalePlan, MessageJob

PROCESSING_VERSION = "4"        # bump when audio processing changes its output

Progress = Callable[[int, int, str], None]     # (done, total, what was just done)


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


@dataclass
class Done:
    """What a worker did for one message or program, every profile."""

    rendered: dict[str, Rendered]
    syntheses: int = 0
    encodings: int = 0


def _key(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False,
                                     default=str).encode("utf-8")).hexdigest()


def _cached(layout: Layout, key: str, profile: Profile, make, done: Done) -> Rendered:
    """The rendered file under ``key``, made only if the cache does not hold it whole.

    The meta file records the file's size, SHA-256 and CRC-32, and its modification time
    and inode when written: a file that kept all of them is taken as it is, one that did
    not is hashed again, so a truncated or altered cache entry is detected and made again.
    ``make`` returns the encoded bytes, or the path of a temporary file it streamed them
    into (a program).
    """
    hit = _hit(layout, key, profile)
    if hit:
        return hit
    out = layout.final_cache(key, profile.ext)
    data, measured, encodings = make()
    done.encodings += encodings
    if isinstance(data, Path):
        digest, crc = digests_of_file(data)
        replace_durably(data, out)
    else:
        digest, crc = sha256_bytes(data), zlib.crc32(data)
        atomic_write(out, data)
    return Rendered(key, measured, _write_meta(layout.final_cache(key, "json"), key, measured,
                                               digest, crc, out))


def _hit(layout: Layout, key: str, profile: Profile) -> Rendered | None:
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


def cached_message(job: MessageJob, profiles: list[Profile], layout: Layout) -> Done | None:
    """A message whose every profile's file the cache holds whole (and that needs no
    hearing): taken without running anything."""
    if job.speech_check:
        return None
    done = Done({})
    for profile in profiles:
        hit = _hit(layout, message_key(job, profile), profile)
        if hit is None:
            return None
        done.rendered[profile.name] = hit
    return done


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
    return _key("message", PROCESSING_VERSION, job.voicing.keys(), PARAGRAPH_PAUSE_S,
                dataclasses.asdict(profile), encoder_id(profile),
                job.title if profile.title_tag else "")


def _master_path(layout: Layout, key: str, profile: Profile) -> Path:
    """The mastered PCM of a message: the file itself for WAV profiles, a WAV beside the
    MP3 otherwise (programs are built from it)."""
    return layout.final_cache(key, "wav" if profile.format == "wav" else "master.wav")


def render_message(job: MessageJob, profiles: list[Profile], layout: Layout) -> Done:
    """One message in one locale, every profile (runs in a worker process)."""
    done = Done({})
    raw: list[dsp.Audio] = []
    for profile in profiles:
        key = message_key(job, profile)

        def make(profile=profile, key=key):
            if not raw:
                audio, done.syntheses = speech(job.voicing, layout)
                raw.append(audio)
            mastered = dsp.process(raw[0], profile)
            if profile.format != "wav":
                atomic_write(_master_path(layout, key, profile), wav_bytes(mastered))
            return finish(mastered, profile, job.title)
        done.rendered[profile.name] = _cached(layout, key, profile, make, done)
    if job.speech_check:
        # What the listener gets, heard by the judge: every profile's file.
        said = " ".join(job.voicing.texts) or job.text
        for profile in profiles:
            rendered = done.rendered[profile.name]
            heard = asr.transcribe(layout.final_cache(rendered.key, profile.ext), job.locale,
                                   layout.transcript_cache)
            done.rendered[profile.name] = dataclasses.replace(
                rendered, cer=asr.cer(said, heard, job.locale))
    _trim_memory()
    return done


def render_program(program: Program, jobs: list[MessageJob], profile: Profile,
                   layout: Layout, messages: list[Rendered]) -> Done:
    """A program in one profile: its messages in order with gaps, intro and outro.

    Made of the messages' finished files (``messages``, rendered in this profile, in
    order), which already meet the profile: their PCM or their MP3 frames copied, silence
    between, measured, not mastered again. Only a program with an intro or outro, or one
    that misses the target, is composed from the mastered audio piece by piece, streamed,
    with one fixed gain applied to every piece.
    """
    extras = {}
    for name in ("intro", "outro"):
        path = getattr(program, name)
        if path:
            full = layout.root / path
            if not full.is_file():
                raise AudioError(f"program '{program.id}' {name} file not found", full,
                                 fix="add the file or remove the entry")
            if not inside(full, layout.root):
                raise AudioError(f"program '{program.id}' {name} is a link that leads out of "
                                 "the project", full, fix="copy the file itself into the project")
            extras[name] = sha256_file(full)
    key = _key("program", PROCESSING_VERSION, [j.voicing.keys() for j in jobs],
               program.gap_seconds, extras, PARAGRAPH_PAUSE_S, dataclasses.asdict(profile),
               encoder_id(profile), program.title if profile.title_tag else "")
    done = Done({})

    def make():
        title = program.title if profile.title_tag else None
        near = layout.final_cache(key, profile.ext)
        files = [layout.final_cache(m.key, profile.ext) for m in messages]
        if not extras and all(f.is_file() for f in files):
            made = program_from_files(
                files, [m.measured for m in messages], program.gap_seconds, profile, title,
                near, _cached_blocks(layout, [m.key for m in messages], files, profile))
            if made:
                return (*made, 0)
        pieces = _program_pieces(program, jobs, profile, layout, done)
        return program_file(pieces, program.gap_seconds, profile, title, near)
    done.rendered[profile.name] = _cached(layout, key, profile, make, done)
    _trim_memory()
    return done


def _blocks_path(layout: Layout, key: str, offset: int) -> Path:
    return layout.final_cache(key, f"at{offset}.blocks")


def _cached_blocks(layout: Layout, keys: list[str], files: list[Path],
                   profile: Profile) -> PieceBlocks:
    """:func:`decoded_blocks` of a program's files, cached beside each file by its key and
    offset (with their SHA-256, so that a damaged entry is made again): a program whose
    first messages are unchanged does not decode them again."""
    def at(i: int, offset: int) -> tuple[int, np.ndarray | None]:
        path = _blocks_path(layout, keys[i], offset)
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


def _block_shares(program: Program, messages: list[Rendered], profile: Profile,
                  layout: Layout, workers: int) -> list[list[tuple[str, int]]]:
    """An MP3 program's files to decode where they lie in it (their key and offset; those
    not cached yet), in up to ``workers`` shares of about equal length in program order,
    for workers to decode side by side before the program's job: the one long job
    otherwise left last. None (an empty list) for a program made another way or a single
    share."""
    samples = [m.measured.samples for m in messages if m.measured.samples is not None]
    if (profile.format != "mp3" or program.intro or program.outro or workers < 2
            or len(samples) < len(messages)):
        return []
    offsets = mp3_program_offsets(samples, program.gap_seconds, profile)
    todo: dict[tuple[str, int], int] = {}
    for m, offset, n in zip(messages, offsets, samples, strict=True):
        if not _blocks_path(layout, m.key, offset).exists():
            todo[(m.key, offset)] = n
    count = min(workers, len(todo))
    if count < 2:
        return []
    shares: list[list[tuple[str, int]]] = [[]]
    total, done = sum(todo.values()), 0
    for item, n in todo.items():
        if done >= total * len(shares) / count and len(shares) < count:
            shares.append([])
        shares[-1].append(item)
        done += n
    return shares


def render_blocks(layout: Layout, share: list[tuple[str, int]], profile: Profile) -> Done:
    """A share of an MP3 program's decoding (:func:`_block_shares`), into the cache."""
    for key, offset in share:
        _cached_blocks(layout, [key], [layout.final_cache(key, profile.ext)], profile)(0, offset)
    _trim_memory()
    return Done({})


def _program_pieces(program: Program, jobs: list[MessageJob], profile: Profile,
                    layout: Layout, done: Done) -> list[Callable[[], dsp.Audio]]:
    """Loaders of the program's pieces, mastered (lead-in and lead-out included): one
    piece is in memory at a time."""
    def message(job: MessageJob) -> dsp.Audio:
        path = _master_path(layout, message_key(job, profile), profile)
        try:
            audio = read_wav(path)
        except (OSError, EOFError, wave.Error):     # gone from the cache: master it again
            raw, syntheses = speech(job.voicing, layout)
            done.syntheses += syntheses
            audio = dsp.process(raw, profile)
        return audio

    def extra(name: str) -> dsp.Audio:
        decoded = decode(layout.root / str(getattr(program, name)), SPEECH_RATE)
        return dsp.process(decoded, profile)

    loaders: list[Callable[[], dsp.Audio]] = [functools.partial(message, j) for j in jobs]
    if program.intro:
        loaders.insert(0, functools.partial(extra, "intro"))
    if program.outro:
        loaders.append(functools.partial(extra, "outro"))
    return loaders


@dataclass
class RenderReport:
    folders: list[FolderResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    syntheses: int = 0
    encodings: int = 0
    withdrawn: list[Withdrawn] = field(default_factory=list)    # before rendering

    @property
    def rendered(self) -> int:
        return sum(f.files for f in self.folders)


class _Cluster:
    """A Dask distributed cluster behind the pool's interface (``submit``, ``shutdown``).

    The workers run the same functions on the same picklable jobs; they must see the
    project folder at the same path (one machine, or a shared file system) and have this
    package installed.
    """

    def __init__(self, address: str):
        try:
            from distributed import Client
        except ImportError:
            raise PipelineError("a cluster build needs Dask", "--scheduler",
                                fix="pip install -e '.[cluster]'") from None
        try:
            self._client = Client(address, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise PipelineError(f"no Dask scheduler answers at {address} ({exc})",
                                "--scheduler", fix="start one with 'dask scheduler' and "
                                "workers with 'dask worker ADDRESS', or drop --scheduler"
                                ) from None

    def submit(self, fn, *args):
        return self._client.submit(fn, *args, pure=False)

    def shutdown(self) -> None:
        self._client.close()


def _worker_count(workers: int) -> int:
    """Local workers for ``workers`` (0 or less: one per core)."""
    return workers if workers and workers > 0 else (os.cpu_count() or 1)


def _pool(workers: int, scheduler: str | None = None):
    if scheduler:
        return _Cluster(scheduler)
    count = _worker_count(workers)
    if count <= 1:
        return None
    # Imported here: a build that forks no worker does without them (about 10 ms).
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    return ProcessPoolExecutor(max_workers=count,
                               mp_context=multiprocessing.get_context(_start_method()),
                               initializer=_end_with_parent, initargs=(os.getpid(),))


ORPHAN_POLL_S = 0.5


def _end_with_parent(parent: int) -> None:
    """In a worker: end it when the command that started it is gone (killed with SIGKILL,
    it cannot shut its pool down), instead of waiting for work forever: a thread watches
    the parent's pid. (Linux's PR_SET_PDEATHSIG is not used: it fires when the *thread*
    that forked the worker ends, which need not be the command's end.)"""
    import threading
    if os.getppid() != parent:      # the parent died before this line
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(ORPHAN_POLL_S)
        os._exit(1)
    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def open_pool(workers: int, scheduler: str | None = None):
    """The pool a render will run in, its workers started now. Started before the
    project's plans are made (:func:`workflow.start_workers`), forked workers share the
    parent's imports and nothing else, so their memory does not grow with the project.
    None for one worker.

    The parent's objects are frozen out of the garbage collector while it forks: a
    worker's collections then never walk them, which would touch (and copy) every page
    that holds them."""
    pool = _pool(workers, scheduler)
    if pool is not None and not isinstance(pool, _Cluster):
        gc.freeze()
        try:
            pool.submit(int).result()   # the pool forks (or spawns) all its workers now
        finally:
            gc.unfreeze()
    return pool


TRIM_FREE = 32 << 20             # free heap a worker keeps before giving it back


def _trim_memory() -> None:
    """After a job, give the heap's free pages back to the system (glibc's malloc_trim)
    if more than ``TRIM_FREE`` bytes of it are free. glibc keeps freed audio arrays in its
    heap, so otherwise a worker's resident memory would grow with the number and mix of
    messages it has mastered, not with the one it is mastering; trimming after every job
    would cost the page faults of mapping that memory again."""
    libc = _glibc()
    if libc is not None and libc.mallinfo2().fordblks > TRIM_FREE:
        libc.malloc_trim(0)


@functools.lru_cache(maxsize=1)
def _glibc():
    """glibc, with mallinfo2 declared; None elsewhere (or before glibc 2.33)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]
    try:
        libc = ctypes.CDLL(None)
        libc.mallinfo2.restype = MallInfo2
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


THREAD_POOLS = ("ctranslate2", "onnxruntime", "faster_whisper", "torch", "distributed")


def _start_method() -> str:
    """fork where it is safe, spawn elsewhere.

    A forked worker starts with the parent's modules already imported (numpy, the codecs,
    the engines' Python side), which a spawned one pays about half a second for. It is
    safe when the parent runs no other Python thread (no lock can be held by a thread the
    child would not have) and has loaded no library that keeps a thread pool of its own
    (a recognizer, a neural voice, Dask; OpenBLAS's, which numpy starts, re-creates itself
    in a forked child). The pool forks all its workers at the first submit, before it
    starts a thread of its own. A command's process plans and does not synthesize, so it
    forks; a process that has already run models (a test session, a program calling this
    twice) spawns.
    """
    import threading
    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        return "spawn"
    return "spawn" if any(name in sys.modules for name in THREAD_POOLS) else "fork"


class _Now:
    """A finished call that looks like a future (when running without a pool)."""

    def __init__(self, fn, *args):
        try:
            self._value, self._error = fn(*args), None
        except PipelineError as exc:
            self._value, self._error = None, exc

    def result(self):
        if self._error:
            raise self._error
        return self._value


def execute(layout: Layout, plans: list[LocalePlan], profiles: list[Profile],
            workers: int = 0, strict: bool = False,
            progress: Progress | None = None, scheduler: str | None = None,
            pool=None) -> RenderReport:
    """Render everything the plans call for and write the output folders: in a local
    process pool, or on the Dask cluster whose scheduler is at ``scheduler``; ``pool``:
    one opened already (:func:`open_pool`), which this shuts down."""
    report = RenderReport()
    # The longest messages first, so that the last to finish are short ones.
    tasks = sorted(((lp, job) for lp in plans for job in lp.jobs),
                   key=lambda task: -len(task[1].text))
    program_tasks = []
    program_skips: dict[tuple[str, str], dict[str, str]] = {}
    for lp in plans:
        skips = program_skips.setdefault((lp.campaign.name, lp.locale), {})
        for program in lp.campaign.programs:
            missing = [m for m in program.items if lp.job(m) is None]
            if missing:
                skips[program.id] = ("not ready in this locale: " +
                                     ", ".join(dict.fromkeys(missing)))
            else:
                program_tasks.append((lp, program))
    total, finished = len(tasks) + len(program_tasks) * len(profiles), 0

    failed: set[tuple[str, str]] = set()       # (campaign, locale) with a failed render

    def collect(key, label: str, future, results: dict) -> None:
        nonlocal finished
        try:
            done = future.result()
        except PipelineError as exc:
            report.errors.append(f"{label}: {exc}")
            failed.add(key[:2])
        else:
            results[key] = done.rendered
            report.syntheses += done.syntheses
            report.encodings += done.encodings
        finished += 1
        if progress:
            progress(finished, total, label)

    # Messages the cache holds are taken here; the pool (started here, or already by
    # open_pool) is used only if at least two are to be rendered: one, as after an edit,
    # costs less here than sent to a worker.
    taken = {id(job): done for _, job in tasks
             if (done := cached_message(job, profiles, layout)) is not None}
    to_render = len(tasks) - len(taken)
    if pool is None and (scheduler or to_render >= 2):
        pool = open_pool(workers, scheduler)
    elif pool is not None and not scheduler and to_render < 2:
        pool.shutdown()
        pool = None
    message_results: dict[tuple[str, str, str], dict[str, Rendered]] = {}
    program_results: dict[tuple[str, str, str], dict[str, Rendered]] = {}
    try:
        def run(fn, *args):
            return pool.submit(fn, *args) if pool else _Now(fn, *args)

        def message(job: MessageJob):
            done = taken.get(id(job))
            return _Now(lambda: done) if done else run(render_message, job, profiles, layout)
        futures = [((lp.campaign.name, lp.locale, job.message_id),
                    f"message '{job.message_id}' in {job.locale}", message(job))
                   for lp, job in tasks]
        gathered: set[tuple[str, str, str]] = set()
        waiting = [(lp, program, [j for j in (lp.job(m) for m in program.items)
                                  if j is not None]) for lp, program in program_tasks]
        pfutures = []

        def start_programs() -> None:
            """Programs whose messages are all done start now, while others render."""
            for item in list(waiting):
                lp, program, in_order = item
                keys = [(lp.campaign.name, lp.locale, j.message_id) for j in in_order]
                if not all(k in gathered for k in keys):
                    continue
                waiting.remove(item)
                if not all(k in message_results for k in keys):
                    program_skips[(lp.campaign.name, lp.locale)][program.id] = \
                        "a message of the program failed to render"
                    continue
                for profile in profiles:    # one job per profile: a long program in parallel
                    messages = [message_results[k][profile.name] for k in keys]
                    make = functools.partial(run, render_program, program, in_order, profile,
                                             layout, messages)
                    # An MP3 program's decoding is shared out first, if there is a pool.
                    shares = _block_shares(program, messages, profile, layout,
                                           _worker_count(workers) if pool and not scheduler
                                           else 1)
                    before = [run(render_blocks, layout, share, profile) for share in shares]
                    pfutures.append(((lp.campaign.name, lp.locale, program.id, profile.name),
                                     f"program '{program.id}' in {lp.locale} ({profile.name})",
                                     before, make, None if before else make()))
        for key, label, future in futures:
            collect(key, label, future, message_results)
            gathered.add(key)
            start_programs()
        per_profile: dict[tuple[str, str, str, str], dict[str, Rendered]] = {}
        for pkey, label, before, make, future in pfutures:
            for share in before:
                try:
                    share.result()
                except PipelineError:
                    pass        # the program's job decodes what is missing, or says why not
            collect(pkey, label, make() if future is None else future, per_profile)
        for pkey, rendered in per_profile.items():
            program_results.setdefault(pkey[:3], {}).update(rendered)
    finally:
        if pool:
            pool.shutdown()
    for lp in plans:
        skips = program_skips[(lp.campaign.name, lp.locale)]
        for profile in profiles:
            if (lp.campaign.name, lp.locale) in failed:
                # A failed render never replaces good output: the folder stays as it was.
                report.folders.append(FolderResult(
                    lp.campaign.name, lp.locale, profile.name,
                    layout.output_folder(lp.campaign.name, lp.locale, profile.name),
                    skipped=dict(lp.skipped), programs_skipped=dict(skips), kept=True))
                continue
            report.folders.append(_folder(layout, lp, profile, message_results,
                                          program_results, skips, strict, report.errors))
    return report


def _folder(layout: Layout, lp: LocalePlan, profile: Profile, message_results: dict,
            program_results: dict, skips: dict[str, str], strict: bool,
            errors: list[str]) -> FolderResult:
    name = lp.campaign.name
    msgs = [(job, message_results[(name, lp.locale, job.message_id)][profile.name])
            for job in lp.jobs if (name, lp.locale, job.message_id) in message_results]
    progs, notes = [], []
    for program in lp.campaign.programs:
        got = program_results.get((name, lp.locale, program.id))
        if not got:
            continue
        rendered = got[profile.name]
        if program.max_seconds and rendered.measured.duration > program.max_seconds:
            text = (f"program '{program.id}' in {lp.locale} ({profile.name}) lasts "
                    f"{rendered.measured.duration:.0f} s, over its max_seconds "
                    f"{program.max_seconds:.0f}")
            if strict:
                errors.append(text + "; shorten it or raise max_seconds")
                skips.setdefault(program.id, "longer than max_seconds (--strict)")
                continue
            notes.append(text)
        progs.append((program, rendered))
    folder = layout.output_folder(name, lp.locale, profile.name)
    if not msgs and not folder.exists():
        result = FolderResult(name, lp.locale, profile.name, folder,
                              skipped=dict(lp.skipped), programs_skipped=dict(skips))
    else:
        result = write_folder(folder, layout, profile, lp, msgs, progs, skips)
    result.warnings += notes
    return result
