"""The commands for native reviewers: approve, reject."""

from __future__ import annotations

from .. import workflow
from ..content.locales import parse_locale
from ..project import Project
from .console import Console

__all__ = ["cmd_approve", "cmd_reject", "cmd_review"]


def _decide(project: Project, args, con: Console, decision: str) -> int:
    parse_locale(args.review_locale, f"broadcast {args.command}")
    path, review = workflow.decide(project, args.review_locale, args.message, decision,
                                   args.reviewer, args.comment or "", args.replace)
    con.out(f"{review}: {project.rel(path)}")
    return 0


def cmd_approve(project: Project, args, con: Console) -> int:
    return _decide(project, args, con, "approved")


def cmd_reject(project: Project, args, con: Console) -> int:
    return _decide(project, args, con, "rejected")


def cmd_review(project: Project, args, con: Console) -> int:
    """Serve the review page until interrupted (each decision takes the project's lock;
    the page's own time holds none)."""
    import uvicorn

    from ..serve import app
    origin = f"http://{args.host}:{args.port}"
    served = app(project.root, args.reviewer, origin, args.profile or "radio",
                 args.locale)
    con.out(f"reviewing as {args.reviewer}: open {origin}/ (Ctrl-C to stop)")
    uvicorn.run(served, host=args.host, port=args.port, log_level="warning")
    return 0
