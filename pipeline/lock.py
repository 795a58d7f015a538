"""One writer at a time, and a clean start after a killed one.

Every command that writes into a project holds the project's lock (filelock: an OS file
lock, released by the kernel when its holder dies, so a lock left by a killed process is
never in the way). The lock belongs to the project: ``.broadcast.lock`` in its root (and
``.broadcast.pid``, naming the holder, while it is held), so two commands are kept apart
whatever their temp folders, and no other user's lock file can stand in the way.
A second writer stops with the holder's pid, or waits for it with ``--wait``. Once the
lock is held, what a killed writer left is put in order: its temp files are removed, and
an output folder it was swapping is completed or rolled back (``fsutil.swap_folder``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import PipelineError
from .fsutil import recover_folders, remove_temp_files
from .layout import Layout

__all__ = ["LockedError", "project_lock", "tidy"]


class LockedError(PipelineError):
    """Another broadcast command is writing into the same project."""

    exit_code = 1


def _holder(path: Path) -> str:
    try:
        pid = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        pid = ""
    return "another broadcast command is running" + (f" (pid {pid})" if pid.isdigit() else "")


@contextmanager
def project_lock(layout: Layout, wait: bool = False,
                 waiting: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the project's lock; then tidy what a killed writer left behind."""
    path = layout.lock_holder
    lock = FileLock(str(layout.lock_file), is_singleton=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not wait:
            raise LockedError(_holder(path), layout.root,
                              fix="wait for it to finish, or run this command with --wait") from None
        if waiting:
            waiting(_holder(path) + "; waiting for it to finish")
        lock.acquire()
    try:
        path.write_text(f"{os.getpid()}\n", encoding="ascii")
        tidy(layout)
        yield
    finally:
        try:
            path.unlink()
        except OSError:
            pass
        lock.release()


def tidy(layout: Layout) -> None:
    """Remove temp files left by a killed writer; finish or undo its folder swaps."""
    for folder in (layout.locales_dir, layout.out_dir, layout.keys_dir, layout.root):
        if folder.is_dir():
            remove_temp_files(folder, recursive=folder != layout.root)
    if layout.out_dir.is_dir():
        recover_folders(layout.out_dir)
