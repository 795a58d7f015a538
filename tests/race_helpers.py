"""Run the broadcast CLI in this process with one fault injected, for the reliability tests.

``python tests/race_helpers.py FAULT ARGS…`` runs ``broadcast ARGS…`` after arranging:

- ``editor-save``: right after update reads a .po, a translator's tool saves that file
  (a new translator comment), as if the save landed while the merge ran;
- ``hold-lock SECONDS``: instead of running a command, hold the project's lock (as a
  running build would) for SECONDS, printing "locked" once it is held.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import polib

from pipeline import cli
from pipeline.catalogs import ops, pofile
from pipeline.layout import Layout
from pipeline.lock import project_lock


def editor_save() -> None:
    real = pofile.load_po

    def load_then_save(path):
        po = real(path)
        if Path(path).suffix == ".po":
            edited = polib.pofile(str(path))
            edited[0].tcomment = "saved by the translator during the update"
            edited.save(str(path))
        return po
    ops.load_po = load_then_save


if __name__ == "__main__":
    fault, rest = sys.argv[1], sys.argv[2:]
    if fault == "hold-lock":
        seconds, root = float(rest[0]), Path(rest[1])
        with project_lock(Layout(root)):
            print("locked", flush=True)
            time.sleep(seconds)
        sys.exit(0)
    if fault == "editor-save":
        editor_save()
    sys.exit(cli.main(rest))
