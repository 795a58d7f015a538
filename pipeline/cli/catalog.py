"""The commands on catalogs and checks: extract, init, update, compile, status, check."""

from __future__ import annotations

import json
from pathlib import Path

from .. import checks, workflow
from ..project import Project
from ..status import project_status
from ..values import counted
from .console import Console
from .output import print_compiled

__all__ = ["cmd_check", "cmd_compile", "cmd_extract", "cmd_init", "cmd_status", "cmd_update"]


def cmd_extract(project: Project, args, con: Console) -> int:
    con.wrote(project, workflow.extract(project), "wrote", "unchanged")
    return 0


def cmd_init(project: Project, args, con: Console) -> int:
    from ..content.locales import parse_locale
    parse_locale(args.new_locale, "broadcast init")
    con.wrote(project, workflow.init(project, args.new_locale,
                                     [Path(p) for p in args.compendium]), "created",
              "exists, left as it is:")
    return 0


def cmd_update(project: Project, args, con: Console) -> int:
    written = workflow.update(project, dry_run=args.check,
                              fuzzy_matching=not args.no_fuzzy_matching,
                              keep_obsolete=not args.ignore_obsolete,
                              compendia=[Path(p) for p in args.compendium])
    if not args.check:
        con.wrote(project, [w for w in written if w.path.suffix == ".po"], "updated", "unchanged")
        return 0
    stale = [w for w in written if w.changed]
    for w in stale:
        con.out(f"out of date: {project.rel(w.path)} (run broadcast update)")
    if not stale:
        con.out("all catalogs are up to date")
    return 1 if stale else 0


def cmd_compile(project: Project, args, con: Console) -> int:
    result = workflow.compile_all(project)
    print_compiled(con, project, result)
    if args.statistics:
        from ..catalogs.ops import statistics
        for c in project.campaigns:
            for locale in project.locales:
                po = project.layout.po(locale, c.name)
                if po.exists():
                    con.out(f"{project.rel(po)}: {statistics(po)}")
    problems = result.problems
    for p in problems:
        con.err(f"{project.rel(Path(p.file))}:{p.line}: {p.text}")
    return 2 if problems else 0


def cmd_status(project: Project, args, con: Console) -> int:
    project.validate_catalogs()
    data = project_status(project)
    if args.json:
        con.out(json.dumps(data.to_dict(), ensure_ascii=False, indent=2))
        return 0
    for name, c in data.campaigns.items():
        con.out(f"{name}: {c.title} ({counted(c.messages, 'message')})")
        width = max((len(loc) for loc in c.locales), default=2)
        pad = f"  {'':<{width}}    "
        for locale, s in c.locales.items():
            con.out(f"  {locale:<{width}}  {len(s.ready)}/{c.messages} ready  "
                    f"{s.translated} translated, {s.fuzzy} fuzzy, {s.untranslated} "
                    f"untranslated, {s.obsolete} obsolete; {s.words_to_translate} words "
                    "to translate")
            if not s.ships:
                con.out(f"{pad}not shipped: being translated; add it to locales in "
                        "broadcast.toml to render and bundle it")
            if s.fallback:
                con.out(f"{pad}voice: {s.fallback}")
            for mid, reason in s.not_ready.items():
                con.out(f"{pad}not ready: {mid}: {reason}")
            for mid, review in s.reviews.items():
                con.out(f"{pad}review: {mid}: {review}")
            if s.checks:
                con.out(f"{pad}check findings: " +
                        ", ".join(f"{k} {n}" for k, n in s.checks.items()))
            for state, ids in s.recordings.items():
                if ids:
                    con.out(f"{pad}recordings {state}: {', '.join(ids)}")
            if s.speech_cer:
                worst = max(s.speech_cer, key=lambda m: max(s.speech_cer[m].values()))
                con.out(f"{pad}speech CER of {counted(len(s.speech_cer), 'message')}: worst "
                        f"{worst} {max(s.speech_cer[worst].values()):.2f} (broadcast status "
                        "--json lists each)")
    return 0


def cmd_check(project: Project, args, con: Console) -> int:
    project.validate_catalogs()
    findings = project.findings()
    if args.audio:
        from ..render.listen import listen
        heard = listen(project, [p.name for p in workflow.profiles_of(project, args.profile)],
                       con.progress("listen"))
        findings += heard.findings
        if not args.json:
            for path, cer in heard.cer.items():
                con.out(f"heard {path}: CER {cer:.2f}")
    if args.json:
        con.out(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        for f in findings:
            con.out(str(f))
        errors = sum(1 for f in findings if f.severity == checks.ERROR)
        con.out(f"{errors} errors, {len(findings) - errors} warnings")
    failing = [f for f in findings if f.severity == checks.ERROR or args.strict]
    return 1 if failing else 0
