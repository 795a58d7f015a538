"""The commands for native reviewers: approve, reject."""

from __future__ import annotations

from .. import workflow
from ..content.locales import parse_locale
from ..project import Project
from .console import Console

__all__ = ["cmd_approve", "cmd_reject"]


def _decide(project: Project, args, con: Console, decision: str) -> int:
    parse_locale(args.review_locale, f"broadcast {args.command}")
    path, record = workflow.decide(project, args.review_locale, args.message, decision,
                                   args.reviewer, args.comment or "", args.replace)
    con.out(f"{record.decision} by {record.reviewer}: {project.rel(path)}")
    return 0


def cmd_approve(project: Project, args, con: Console) -> int:
    return _decide(project, args, con, "approved")


def cmd_reject(project: Project, args, con: Console) -> int:
    return _decide(project, args, con, "rejected")
