"""The commands that make output: render, build, bundle, prune."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from .. import stamp, workflow
from ..project import Project
from ..values import counted
from .console import Console
from .files import passphrase

if TYPE_CHECKING:
    from ..distribute.signing import SecretKey
    from ..render.execute import RenderReport
    from ..render.plan import LocalePlan

__all__ = ["cmd_build", "cmd_bundle", "cmd_prune", "cmd_render", "print_compiled"]


def print_compiled(con: Console, project: Project, result: workflow.Compiled) -> None:
    con.wrote(project, result.written, "compiled", "unchanged")
    for po, found in result.refused.items():
        con.out(f"refused {project.rel(po)}: {len(found)} "
                f"{'entry' if len(found) == 1 else 'entries'} with wrong placeholders")


def _withdrawn(con: Console, project: Project, withdrawn: list[workflow.Withdrawn]) -> None:
    for w in withdrawn:
        if w.ids:
            con.out(f"withdrew from {project.rel(w.folder)}: {', '.join(w.ids)} (no longer "
                    "the approved translation)" + "".join(f"; deleted {project.rel(p)}"
                                                          for p in w.bundles_removed))
        if w.left == [""]:
            con.say(f"left {project.rel(w.folder)} as it is: not an output folder this "
                    "project made there (a copy?)")
        elif w.left:
            con.say(f"left in {project.rel(w.folder)}: {', '.join(w.left)} (not written by "
                    "broadcast)")


def _print_rendered(con: Console, project: Project, plans: list[LocalePlan],
                    report: RenderReport) -> None:
    _withdrawn(con, project, report.withdrawn)
    for lp in plans:
        for mid, reason in lp.skipped.items():
            con.say(f"skipped {lp.campaign.name}/{lp.locale}/{mid}: {reason}")
    seen = set()
    for f in report.folders:
        for pid, reason in f.programs_skipped.items():
            if (f.campaign, f.locale, pid) not in seen:
                seen.add((f.campaign, f.locale, pid))
                con.say(f"skipped program {f.campaign}/{f.locale}/{pid}: {reason}")
        for w in f.warnings:
            con.warn(w)
    rows = [("campaign", "locale", "profile", "files", "minutes", "skipped")]
    rows += [(f.campaign, f.locale, f.profile, "kept" if f.kept else str(f.files),
              "" if f.kept else f"{f.seconds / 60:.1f}", str(len(f.skipped)))
             for f in report.folders]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    con.say("")
    for r in rows:
        con.say("  ".join(c.rjust(w) if i >= 3 else c.ljust(w)
                          for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())
    con.out(f"{report.syntheses} syntheses, {report.encodings} encodings")
    for error in report.errors:
        con.err(error)
    kept = sorted({f"{f.campaign}/{f.locale}" for f in report.folders if f.kept})
    if kept:
        con.err(f"{len(report.errors)} failed; the previous output of {', '.join(kept)} was "
                "kept as it was")
    if not report.errors and report.rendered == 0:
        con.err("nothing was rendered: no message is ready in any locale "
                "(see broadcast status)")


def _exit_code(report: RenderReport) -> int:
    """1 if a job failed or nothing at all was rendered."""
    return 1 if report.errors or report.rendered == 0 else 0


class _BuildNarrator:
    """What a build says as it goes: compile warnings, then the render's lines."""

    def __init__(self, con: Console, project: Project):
        self.con, self.project = con, project

    def compiled(self, result: workflow.Compiled) -> None:
        print_compiled(self.con, self.project, result)
        for p in result.problems:
            self.con.warn(f"{self.project.rel(Path(p.file))}:{p.line}: {p.text}")

    def rendered(self, plans: list[LocalePlan], report: RenderReport) -> None:
        _print_rendered(self.con, self.project, plans, report)

    def progress(self, label: str):
        return self.con.progress(label)


def _print_fallbacks(con: Console, project: Project) -> None:
    """Never silent: each locale spoken by its fallback voice, last."""
    for locale, fallback in sorted(project.fallbacks.items()):
        con.warn(f"{locale}: {fallback}")


def cmd_render(project: Project, args, con: Console) -> int:
    plans, report = workflow.render(project, workflow.profiles_of(project, args.profile),
                                    args.workers, args.scheduler, args.strict,
                                    con.progress("render"))
    _print_rendered(con, project, plans, report)
    _print_fallbacks(con, project)
    return _exit_code(report)


def cmd_build(project: Project, args, con: Console) -> int:
    stamp.forget(str(project.root))     # whatever happens now, the last build's stamp is old
    started = time.perf_counter()
    built = workflow.build(project, _BuildNarrator(con, project), args.profile, args.workers,
                           args.scheduler, args.strict, _secret(args))
    _print_bundles(con, project, built.bundles)
    _print_fallbacks(con, project)
    code = _exit_code(built.report)
    if args.json:
        con.data(_summary(project, built, code, time.perf_counter() - started))
    # Asked as the stamp reads a command line (None for one it would not answer: --sign).
    asked = stamp.request(args.argv)
    # Not with a fallback voice: the stamp does not see a voice being installed, and the
    # next build must then speak with it.
    if code == 0 and asked is not None and not project.fallbacks:
        stamp.record(str(project.root), asked[1], con.replay)
    return code


def _summary(project: Project, built: workflow.Built, code: int, seconds: float) -> dict:
    """What build --json says: what was rendered, skipped and why, bundles, signatures,
    voices that fell back, timings."""
    report = built.report
    return {
        "exit_code": code,
        "folders": [{"campaign": f.campaign, "locale": f.locale, "profile": f.profile,
                     "folder": project.rel(f.folder), "files": f.files,
                     "minutes": round(f.seconds / 60, 2), "kept_as_it_was": f.kept,
                     "skipped": f.skipped, "programs_skipped": f.programs_skipped,
                     "warnings": f.warnings} for f in report.folders],
        "errors": report.errors,
        "withdrawn": [{"folder": project.rel(w.folder), "messages": w.ids,
                       "bundles_removed": [project.rel(b) for b in w.bundles_removed]}
                      for w in report.withdrawn],
        "bundles": [{"path": project.rel(w.path), "changed": w.changed, "signed": w.signed}
                    for w in built.bundles],
        "fallbacks": {locale: str(f) for locale, f in project.fallbacks.items()},
        "syntheses": report.syntheses, "encodings": report.encodings,
        "seconds": round(seconds, 2),
    }


def _secret(args) -> "SecretKey | None":
    """The secret key of ``--sign`` (its passphrase asked now, before any work)."""
    if not getattr(args, "sign", None):
        return None
    from ..distribute import signing
    path = Path(args.sign)
    return signing.load_secret(path, passphrase() if signing.is_encrypted(path) else None)


def _print_bundles(con: Console, project: Project, written: list[workflow.Written]) -> None:
    for w in written:
        note = ("wrote" if w.changed else "unchanged") + (", signed" if w.signed else "")
        con.out(f"{note} {project.rel(w.path)}" + (
            " (its old signature was removed: the bundle is unsigned now; sign it with "
            "--sign)" if w.unsigned_now else ""))


def cmd_bundle(project: Project, args, con: Console) -> int:
    written, withdrawn = workflow.bundle_all(project, workflow.profiles_of(project, args.profile),
                                             _secret(args), args.timestamp)
    _withdrawn(con, project, withdrawn)
    _print_bundles(con, project, written)
    if not written:
        con.err("no output folder to bundle (run broadcast render first)")
        return 1
    return 0


def cmd_prune(project: Project, args, con: Console) -> int:
    pruned = workflow.prune(project, args.dry_run)

    def mib(n: int) -> str:
        return f"{n / 2 ** 20:.1f} MiB"
    verb = "would delete" if args.dry_run else "deleted"
    con.out(f"{verb} {counted(pruned.files, 'file')} ({mib(pruned.size)}) from the render cache; kept "
            f"{pruned.kept_files} ({mib(pruned.kept_size)}) that the output folders or the "
            "current messages use")
    return 0

