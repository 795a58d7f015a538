"""The command that looks at the machine: doctor."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import PipelineError
from ..project import Project, open_project
from .console import Console

__all__ = ["cmd_doctor"]


def cmd_doctor(args, con: Console) -> int:
    """What this machine has and lacks for the project at --project (or for any project,
    outside one), with the command that installs each missing part."""
    from ..doctor import diagnose
    project: Project | None = None
    note = ""
    try:
        project = open_project(Path(args.project))
    except PipelineError as exc:
        note = f"no project read ({exc}): the machine only"
    checks = diagnose(project)
    if args.json:
        con.out(json.dumps({"project": None if project is None else str(project.root),
                            "checks": [c.to_dict() for c in checks]},
                           ensure_ascii=False, indent=2))
    else:
        if note:
            con.out(note)
        width = max(len(c.part) for c in checks)
        for c in checks:
            con.out(f"{'ok' if c.ok else 'missing':<7}  {c.part:<{width}}  {c.detail}"
                    + (f"\n{'':<7}  {'':<{width}}  install: {c.fix}" if c.fix else ""))
    return 1 if any(c.needed and not c.ok for c in checks) else 0
