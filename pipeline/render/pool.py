"""Who runs a render's jobs: a local process pool, a Dask cluster, or this process.

Workers are forked where that is safe (they inherit the parent's imports) and spawned
elsewhere (:func:`start_method`); each ends when the command that started it dies. A
worker gives freed heap back to the system after a job (:func:`trim_memory`).
"""

from __future__ import annotations

import functools
import gc
import os
import sys
import time

from ..errors import PipelineError

__all__ = ["Cluster", "Now", "ORPHAN_POLL_S", "TRIM_FREE", "Workers", "glibc", "open_pool",
           "start_method", "trim_memory", "worker_count"]

class Cluster:
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


def worker_count(workers: int) -> int:
    """Local workers for ``workers`` (0 or less: one per core)."""
    return workers if workers and workers > 0 else (os.cpu_count() or 1)


def _pool(workers: int, scheduler: str | None = None):
    if scheduler:
        return Cluster(scheduler)
    count = worker_count(workers)
    if count <= 1:
        return None
    # Imported here: a build that forks no worker does without them (about 10 ms).
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    return ProcessPoolExecutor(max_workers=count,
                               mp_context=multiprocessing.get_context(start_method()),
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
    project's plans are made (:func:`workflow.build`), forked workers share the
    parent's imports and nothing else, so their memory does not grow with the project.
    None for one worker.

    The parent's objects are frozen out of the garbage collector while it forks: a
    worker's collections then never walk them, which would touch (and copy) every page
    that holds them."""
    pool = _pool(workers, scheduler)
    if pool is not None and not isinstance(pool, Cluster):
        gc.freeze()
        try:
            pool.submit(int).result()   # the pool forks (or spawns) all its workers now
        finally:
            gc.unfreeze()
    return pool


TRIM_FREE = 32 << 20             # free heap a worker keeps before giving it back


def trim_memory() -> None:
    """After a job, give the heap's free pages back to the system (glibc's malloc_trim)
    if more than ``TRIM_FREE`` bytes of it are free. glibc keeps freed audio arrays in its
    heap, so otherwise a worker's resident memory would grow with the number and mix of
    messages it has mastered, not with the one it is mastering; trimming after every job
    would cost the page faults of mapping that memory again."""
    libc = glibc()
    if libc is not None and libc.mallinfo2().fordblks > TRIM_FREE:
        libc.malloc_trim(0)


@functools.lru_cache(maxsize=1)
def glibc():
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


def start_method() -> str:
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


class Now:
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


class Workers:
    """A render's workers, owned by one ``with`` block: opened early (:meth:`start`: a
    cold build forks them before it reads the catalogs), or when the scheduler first has
    two jobs to run side by side (:meth:`get`), and shut down when the block ends, whatever
    happens in it. Nothing else shuts them down; :meth:`release` lets them go early when
    the render finds fewer than two jobs (one runs in process).

    ``count``: local workers (0: one per core); ``scheduler``: a Dask scheduler's address.
    """

    def __init__(self, count: int = 0, scheduler: str | None = None):
        self.count, self.scheduler = count, scheduler
        self._pool = None
        self._opened = False

    def start(self) -> None:
        """Open the pool now (none for one local worker)."""
        if not self._opened:
            self._pool = open_pool(self.count, self.scheduler)
            self._opened = True

    @property
    def started(self) -> bool:
        return self._opened

    def get(self):
        """The pool, opened if it is not yet; None for one local worker."""
        self.start()
        return self._pool

    @property
    def parallel(self) -> int:
        """How many jobs run side by side in the open local pool (1 without one)."""
        return worker_count(self.count) if self._pool is not None and not self.scheduler \
            else 1

    def release(self) -> None:
        """Shut the pool down (it may be opened again)."""
        if self._pool is not None:
            self._pool.shutdown()
        self._pool, self._opened = None, False

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        self.release()
