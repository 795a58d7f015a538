"""Command line: ``broadcast SUBCOMMAND``, one subcommand per stage.

Only this package prints and turns errors into exit codes: 0 success, 1 the work failed
(checks failed, nothing rendered, an internal error), 2 bad usage or bad input. Every
error is one line; ``--debug`` shows the traceback of an internal error. Each command
parses its arguments, calls a use case of :mod:`pipeline.workflow`, and prints what it
returns through one :class:`~.console.Console`.
"""

from __future__ import annotations

import gc
import os
import sys
import traceback
from concurrent.futures import BrokenExecutor
from pathlib import Path

from ..catalogs.pofile import forget_parsed
from ..errors import PipelineError, os_error
from ..layout import Layout
from ..lock import project_lock
from ..project import open_project
from .catalog import cmd_check, cmd_status
from .console import Console
from .files import cmd_keygen, cmd_usb, cmd_verify
from .machine import cmd_doctor
from .parser import build_parser
from .review import cmd_review
from .studio import cmd_listen, cmd_say

__all__ = ["build_parser", "Console", "FILE_COMMANDS", "GC_THRESHOLDS", "main", "READ_ONLY"]


# Not on a project (doctor reads one if there is one).
FILE_COMMANDS = (cmd_verify, cmd_keygen, cmd_usb, cmd_doctor)
# write nothing in the project (review takes the lock for each decision it writes)
READ_ONLY = (cmd_status, cmd_check, cmd_say, cmd_listen, cmd_review)


def _writes(args) -> bool:
    if getattr(args, "audio", False):
        return True                     # check --audio keeps what it heard in the cache
    return args.func not in READ_ONLY and not getattr(args, "check", False)


# A command builds large, long-lived structures (catalog entries, units, findings): with
# the default thresholds the collector walks them again and again as they grow (a fifth of
# `status` on 20,000 messages). Collections every 50,000 allocations keep it linear.
GC_THRESHOLDS = (50_000, 20, 20)


def main(argv: list[str] | None = None) -> int:
    gc.set_threshold(*GC_THRESHOLDS)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    forget_parsed()                     # a command parses each catalog once, for itself
    # build --json and --quiet say only what they say (the JSON; warnings and errors).
    con = Console(quiet=args.command == "build" and (args.quiet or args.json))
    try:
        if args.func in FILE_COMMANDS:
            return args.func(args, con)

        def run() -> int:
            project = open_project(Path(args.project), getattr(args, "campaign", None),
                                   getattr(args, "locale", None))
            return args.func(project, args, con)
        root = Path(args.project)
        if not _writes(args) or not Layout(root).messages_dir.is_dir():
            return run()            # (without a project, open_project says what is wrong)
        # The lock first: what a writer reads, it reads with no other writer running.
        with project_lock(Layout(root), args.wait, con.err):
            return run()
    except PipelineError as exc:
        con.err(str(exc))
        return exc.exit_code
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours.
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        con.err("interrupted; files already written are complete")
        return 130
    except BrokenExecutor:          # a worker process died (the thread pools here cannot break)
        con.err("a render worker died (killed, or out of memory?); files already written are "
                "complete: run the command again, with fewer workers (--jobs 1) if it recurs")
        return 1
    except OSError as exc:
        if args.debug:
            traceback.print_exc()
        con.err(str(os_error(exc, None, "complete the command")))
        return 1
    except Exception as exc:  # noqa: BLE001 - the boundary: one line, never a traceback
        if args.debug:
            traceback.print_exc()
            return 1
        con.err(f"internal error: {type(exc).__name__}: {exc}; run with --debug for details")
        return 1
