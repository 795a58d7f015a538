"""The build stamp: a rebuild with nothing changed answers without doing the work.

After a build succeeds, it records what it was asked (the selection of campaigns, locales
and profiles), the state of every file it read or wrote, and the lines a rebuild would
print again (skips, warnings, the summary table). The next ``broadcast build`` with the
same request first compares that state with the files as they are: if not one file was
added, removed or touched (size, modification and change times, inode), nor the pipeline's
own code or installed packages, the outputs are already what a build would write, and it
says so without importing the audio stack. Anything else — an input edited, an output
deleted or replaced, a cache entry unlinked, another selection, ``--sign`` — runs the
whole build, which first removes the stamp.

The test is by file state, as make's and git's are: a file changed and then given back its
old size and times is not seen. Such tampering is what ``broadcast verify`` is for; a
touch of any input (``touch broadcast.toml``) forces the whole build.

Only the standard library (and the names of :mod:`.names`) is imported here: this runs
before anything else, and a rebuild with nothing to do costs little more than Python's own
start.
"""

from __future__ import annotations

import json
import os
import sys

from . import __version__
from .names import CACHE_DIR, CONFIG_NAME, OUT_DIR

__all__ = ["answer", "forget", "FORMAT", "NEUTRAL", "record", "RECORDED", "request",
           "snapshot", "STAMP_NAME", "stamp_path"]

STAMP_NAME = "build-stamp.json"
FORMAT = 1
# build's options that do not change what it writes, and those that the stamp records
NEUTRAL = {"--jobs": True, "--scheduler": True, "--wait": False, "--debug": False}
RECORDED = {"--campaign": True, "--locale": True, "--profile": True, "--strict": False}


def stamp_path(root: str) -> str:
    return os.path.join(root, OUT_DIR, CACHE_DIR, STAMP_NAME)


def request(argv: list[str]) -> tuple[str, dict] | None:
    """(project root, what the build is asked) for a ``build`` whose every option is
    understood here; None for anything else (the full command line parser decides)."""
    if not argv or argv[0] != "build":
        return None
    root = "."
    asked: dict[str, list] = {name: [] for name in RECORDED}
    items = iter(argv[1:])
    for item in items:
        name, has_value, value = item.partition("=")
        if name == "--project":
            root = value if has_value else next(items, "")
        elif name in NEUTRAL:
            if NEUTRAL[name] and not has_value:
                next(items, None)
        elif name in RECORDED:
            asked[name].append((value if has_value else next(items, ""))
                               if RECORDED[name] else True)
        else:
            return None                 # --sign, --help, a typo: the full command decides
    return root, asked


def _state(root: str, skip: tuple[str, ...] = ()) -> dict[str, list[int]]:
    """Every regular file under ``root`` but hidden ones, ``__pycache__`` and the folders
    ``skip``: relative path → [size, modified, changed (ns), inode]."""
    out: dict[str, list[int]] = {}
    todo = [os.path.abspath(root)]
    while todo:
        folder = todo.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") or entry.name == "__pycache__" or entry.path in skip:
                continue
            if entry.is_dir(follow_symlinks=False):
                todo.append(entry.path)
            else:
                try:                    # a link: the file it leads to
                    st = entry.stat()
                    state = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
                except OSError:
                    state = [-1, -1, -1, -1]
                out[os.path.relpath(entry.path, root)] = state
    return out


def _environment() -> dict:
    """The pipeline's own code and the folders packages are installed in: a new version
    of either (an upgrade, an edit of an editable install) runs the whole build."""
    folders = {}
    for entry in sys.path:
        if "-packages" in entry:        # site-packages, dist-packages: not the working folder
            try:
                folders[entry] = os.stat(entry).st_mtime_ns
            except OSError:
                continue
    return {"python": sys.version, "version": __version__, "folders": folders,
            "code": _state(os.path.dirname(os.path.realpath(__file__)))}


def snapshot(root: str) -> dict:
    out = os.path.join(os.path.abspath(root), OUT_DIR)
    return {"inputs": _state(root, (out,)), "outputs": _state(out),
            "environment": _environment()}


def forget(root: str) -> None:
    """Before a build writes anything: the stamp no longer holds."""
    try:
        os.unlink(stamp_path(root))
    except FileNotFoundError:
        pass


def record(root: str, asked: dict, replay: list[tuple[str, str]]) -> None:
    """After a successful build: what it was asked, the state it left, what to say again."""
    data = {"format": FORMAT, "asked": asked, "replay": replay, **snapshot(root)}
    path = stamp_path(root)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, sort_keys=True)
    os.replace(tmp, path)


def answer(argv: list[str]) -> int | None:
    """Exit code of a build that has nothing to do (its lines printed again), or None if
    the build must run."""
    asked = request(argv)
    if asked is None:
        return None
    root, what = os.path.abspath(asked[0]), asked[1]
    if not os.path.isfile(os.path.join(root, CONFIG_NAME)):
        return None
    try:
        with open(stamp_path(root), encoding="utf-8") as fh:
            stamp = json.load(fh)
    except (OSError, ValueError):
        return None
    if (not isinstance(stamp, dict) or stamp.get("format") != FORMAT
            or stamp.get("asked") != what):
        return None
    now = snapshot(root)
    if any(stamp.get(part) != now[part] for part in now):
        return None
    for stream, line in stamp.get("replay", []):
        print(line, file=sys.stderr if stream == "err" else sys.stdout, flush=True)
    print("0 syntheses, 0 encodings", flush=True)
    print("nothing changed since the last build: every output is up to date", flush=True)
    return 0
