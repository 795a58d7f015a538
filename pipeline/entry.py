"""The ``broadcast`` command's entry: a build with nothing to do is answered from its stamp
(:mod:`.stamp`) before the command line and the audio stack are even imported."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from .stamp import answer
    code = answer(sys.argv[1:] if argv is None else argv)
    if code is not None:
        return code
    from .cli import main as run
    return run(argv)
