"""Where a command's lines go: one small object per command, the only printer."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..project import Project
    from ..render.execute import Progress
    from ..workflow import Written

__all__ = ["Console", "fit", "LABEL_WIDTH"]


LABEL_WIDTH = 32


def fit(text: str, width: int) -> str:
    """``text`` in exactly ``width`` characters: padded, or cut at a word (or a '/')
    with an ellipsis, never mid-word unless one word is longer than the width."""
    if len(text) <= width:
        return text.ljust(width)
    room = text[:width - 1]
    cut = max(room.rfind(" "), room.rfind("/"))
    return ((room[:cut] if cut > width // 2 else room) + "…").ljust(width)


class Console:
    """Results go to stdout; errors and warnings to stderr, after ``broadcast:``.

    What a build says with :meth:`say` and :meth:`warn` is kept in :attr:`replay`: a
    rebuild with nothing changed prints it again from the build stamp
    (:mod:`pipeline.stamp`)."""

    def __init__(self, quiet: bool = False) -> None:
        self.replay: list[tuple[str, str]] = []
        self.quiet = quiet              # results and progress unsaid: warnings and errors only

    def out(self, text: str = "") -> None:
        if not self.quiet:
            print(text, flush=True)

    def data(self, value: object) -> None:
        """A result for scripts, as JSON, said however quiet."""
        import json
        print(json.dumps(value, ensure_ascii=False, indent=2), flush=True)

    def err(self, text: str) -> None:
        """One line per problem, each named as broadcast's (several for a compiler-like
        report of every mistake in the sources)."""
        for line in text.split("\n"):
            print(f"broadcast: {line}", file=sys.stderr, flush=True)

    def say(self, text: str) -> None:
        """A line that a rebuild with nothing changed prints again."""
        self.replay.append(("out", text))
        self.out(text)

    def warn(self, text: str) -> None:
        """A warning that a rebuild with nothing changed gives again."""
        self.replay.append(("err", f"broadcast: warning: {text}"))
        self.err(f"warning: {text}")

    def wrote(self, project: "Project", written: "Iterable[Written]", yes: str,
              no: str) -> None:
        """A line per file: ``yes`` if it changed, ``no`` if it was left as it was."""
        for w in written:
            self.out(f"{yes if w.changed else no} {project.rel(w.path)}")

    def progress(self, label: str) -> "Progress":
        """A progress bar (tqdm) on a terminal; a line per quarter otherwise."""
        state: dict = {}

        def step(done: int, total: int, what: str) -> None:
            if self.quiet:
                return
            if sys.stderr.isatty():
                from tqdm import tqdm
                bar = state.get("bar")
                if bar is None:
                    # A fixed width: the bar does not jump as the labels change.
                    bar = state["bar"] = tqdm(total=total, desc=label, unit="file",
                                              leave=True, file=sys.stderr, ncols=100,
                                              dynamic_ncols=False)
                bar.set_postfix_str(fit(what, LABEL_WIDTH), refresh=False)
                bar.update(done - bar.n)
                if done >= total:
                    bar.close()
            else:
                quarter = 4 * done // max(total, 1)
                if quarter != state.get("quarter"):
                    state["quarter"] = quarter
                    print(f"{label}: {done}/{total} files", file=sys.stderr, flush=True)
        return step
