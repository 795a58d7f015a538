"""The ``broadcast`` command's entry: a build with nothing to do is answered from its stamp
(:mod:`.stamp`) before the command line and the audio stack are even imported."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    from .stamp import answer
    code = answer(sys.argv[1:] if argv is None else argv)
    if code is not None:
        return code
    # numpy's OpenBLAS starts a thread per core as it is imported, which costs every
    # process about 60 ms of CPU; nothing here multiplies matrices. (Set it to override.)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from .cli import main as run
    return run(argv)
