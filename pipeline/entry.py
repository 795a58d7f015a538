"""The ``broadcast`` command's entry: a build with nothing to do is answered from its stamp
(:mod:`.stamp`) before the command line and the audio stack are even imported."""

from __future__ import annotations

import os
import sys

__all__ = ["import_nothing_from_here", "main"]


def import_nothing_from_here() -> None:
    """Take the current folder off the import path (``python -m`` puts it first): a
    command run inside a partner's project must never import a module or find a plug-in
    (a ``*.dist-info`` folder) that the project carries. (Where this package itself is
    run from the current folder, that folder's code is already what runs.)"""
    here = os.path.realpath(os.getcwd())
    if here == os.path.dirname(os.path.dirname(os.path.realpath(__file__))):
        return
    sys.path[:] = [entry for entry in sys.path
                   if entry and os.path.realpath(entry) != here]


def main(argv: list[str] | None = None) -> int:
    import_nothing_from_here()
    from .stamp import answer
    code = answer(sys.argv[1:] if argv is None else argv)
    if code is not None:
        return code
    # numpy's OpenBLAS starts a thread per core as it is imported, which costs every
    # process about 60 ms of CPU; nothing here multiplies matrices. (Set it to override.)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from .cli import main as run
    return run(argv)
