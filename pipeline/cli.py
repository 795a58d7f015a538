"""Command line: ``broadcast SUBCOMMAND``, one subcommand per stage.

Only this module turns errors into exit codes and printed lines: 0 success, 1 the work
failed (checks failed, nothing rendered), 2 bad usage or bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import __version__, catalogs, checks, recordings
from .errors import PipelineError
from .fsutil import relative
from .project import Project, open_project


def _print(*args, **kwargs):
    print(*args, **kwargs, flush=True)


def _err(text: str) -> None:
    print(f"broadcast: {text}", file=sys.stderr, flush=True)


# --- subcommands -----------------------------------------------------------------------------

def cmd_extract(project: Project, args) -> int:
    for c in project.campaigns:
        changed = catalogs.extract(c, project.config.locales_dir)
        path = catalogs.pot_path(project.config.locales_dir, c.name)
        _print(f"{'wrote' if changed else 'unchanged'} {_rel(project, path)}")
    return 0


def cmd_init(project: Project, args) -> int:
    catalogs.parse_locale(args.new_locale, "broadcast init")
    for c in project.campaigns:
        created = catalogs.init(c, project.config.locales_dir, args.new_locale)
        path = catalogs.po_path(project.config.locales_dir, args.new_locale, c.name)
        _print(f"{'created' if created else 'exists, left as it is:'} {_rel(project, path)}")
    return 0


def cmd_update(project: Project, args) -> int:
    project.validate_catalogs()
    stale = []
    for c in project.campaigns:
        if not args.check:
            catalogs.extract(c, project.config.locales_dir)
        elif catalogs.extract(c, project.config.locales_dir, check=True):
            stale.append(catalogs.pot_path(project.config.locales_dir, c.name))
        for locale in project.locales:
            path = catalogs.po_path(project.config.locales_dir, locale, c.name)
            if not path.exists():
                continue
            changed = catalogs.update(c, project.config.locales_dir, locale, check=args.check)
            if args.check:
                if changed:
                    stale.append(path)
            else:
                _print(f"{'updated' if changed else 'unchanged'} {_rel(project, path)}")
    if args.check:
        for path in stale:
            _print(f"out of date: {_rel(project, path)} (run broadcast update)")
        if not stale:
            _print("all catalogs are up to date")
        return 1 if stale else 0
    return 0


def run_compile(project: Project) -> list[catalogs.Problem]:
    project.validate_catalogs()
    problems = []
    for c in project.campaigns:
        for locale in project.locales:
            po = catalogs.po_path(project.config.locales_dir, locale, c.name)
            if not po.exists():
                continue
            mo = catalogs.mo_path(project.config.locales_dir, locale, c.name)
            written, found = catalogs.compile_po(po, mo)
            problems += found
            if found:
                _print(f"refused {_rel(project, po)}: {len(found)} "
                       f"{'entry' if len(found) == 1 else 'entries'} with wrong placeholders")
            else:
                _print(f"{'compiled' if written else 'unchanged'} {_rel(project, mo)}")
    return problems


def cmd_compile(project: Project, args) -> int:
    problems = run_compile(project)
    for p in problems:
        _err(f"{_rel(project, Path(p.file))}:{p.line}: {p.text}")
    return 2 if problems else 0


def status_data(project: Project, findings_out: list | None = None) -> dict:
    """The status of every campaign and locale; ``findings_out`` collects the findings."""
    data: dict = {"campaigns": {}}
    for c in project.campaigns:
        locales = {}
        for locale in project.locales:
            st = catalogs.locale_status(c, project.config.locales_dir, locale)
            reasons, findings = checks.readiness(project.config, c, st)
            if findings_out is not None:
                findings_out += findings
            counts: dict[str, int] = {}
            for f in findings:
                counts[f.check] = counts.get(f.check, 0) + 1
            locales[locale] = {
                "translated": st.count("translated"),
                "fuzzy": st.count("fuzzy"),
                "untranslated": st.count("untranslated") + st.count("missing"),
                "obsolete": st.obsolete,
                "words_to_translate": st.words_to_translate,
                "ready": [m for m, r in reasons.items() if r is None],
                "not_ready": {m: r for m, r in reasons.items() if r is not None},
                "recordings": _recordings_state(project, c, st, reasons),
                "checks": dict(sorted(counts.items())),
            }
        data["campaigns"][c.name] = {"title": c.title, "messages": len(c.messages),
                                     "locales": locales}
    return data


def _recordings_state(project: Project, campaign, st, reasons) -> dict:
    """Stale, unbound and (where required) missing recordings of ready messages."""
    voice = project.config.voice_for(st.locale)
    out: dict[str, list[str]] = {"stale": [], "unbound": [], "missing": []}
    if voice.recordings == "ignore":
        return out
    for mid, reason in reasons.items():
        if reason is not None:
            continue
        text = "\n\n".join(st.translation(mid, campaign.variables)[1])
        rec = recordings.find(project.config.locales_dir, st.locale, mid, text)
        if rec.state in ("stale", "unbound") or (rec.state == "missing" and
                                                 voice.recordings == "require"):
            out[rec.state].append(mid)
    return out


def cmd_status(project: Project, args) -> int:
    project.validate_catalogs()
    data = status_data(project)
    if args.json:
        _print(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False))
        return 0
    for name, c in data["campaigns"].items():
        _print(f"{name}: {c['title']} ({c['messages']} messages)")
        width = max((len(loc) for loc in c["locales"]), default=2)
        for locale, s in c["locales"].items():
            _print(f"  {locale:<{width}}  {len(s['ready'])}/{c['messages']} ready  "
                   f"{s['translated']} translated, {s['fuzzy']} fuzzy, "
                   f"{s['untranslated']} untranslated, {s['obsolete']} obsolete; "
                   f"{s['words_to_translate']} words to translate")
            for mid, reason in s["not_ready"].items():
                _print(f"  {'':<{width}}    not ready: {mid}: {reason}")
            if s["checks"]:
                _print(f"  {'':<{width}}    check findings: " +
                       ", ".join(f"{k} {n}" for k, n in s["checks"].items()))
            for state, ids in s["recordings"].items():
                if ids:
                    _print(f"  {'':<{width}}    recordings {state}: {', '.join(ids)}")
    return 0


def _profiles(project: Project, args):
    names = args.profile or list(project.config.default_profiles)
    return [project.config.profile(n) for n in names]


def run_render(project: Project, args) -> int:
    from . import render
    profiles = _profiles(project, args)
    plans = render.plan(project.config, project.campaigns, project.locales)
    jobs = args.jobs if args.jobs is not None else project.config.jobs
    report = render.execute(project.config, plans, profiles, jobs=jobs,
                            strict=getattr(args, "strict", False))
    _print_render_report(project, plans, report)
    for error in report.errors:
        _err(error)
    if report.rendered == 0:
        _err("nothing was rendered: no message is ready in any locale "
             "(see broadcast status)")
        return 1
    return 1 if report.errors else 0


def _print_render_report(project: Project, plans, report) -> None:
    for lp in plans:
        for mid, reason in lp.skipped.items():
            _print(f"skipped {lp.campaign.name}/{lp.locale}/{mid}: {reason}")
    seen = set()
    for f in report.folders:
        for pid, reason in f.programs_skipped.items():
            if (f.campaign, f.locale, pid) not in seen:
                seen.add((f.campaign, f.locale, pid))
                _print(f"skipped program {f.campaign}/{f.locale}/{pid}: {reason}")
        for w in f.warnings:
            _err(f"warning: {w}")
    rows = [("campaign", "locale", "profile", "files", "minutes", "skipped")]
    for f in report.folders:
        rows.append((f.campaign, f.locale, f.profile, str(f.files), f"{f.seconds / 60:.1f}",
                     str(len(f.skipped))))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    _print("")
    for r in rows:
        _print("  ".join(c.rjust(w) if i >= 3 else c.ljust(w)
                         for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())


def cmd_render(project: Project, args) -> int:
    project.validate_catalogs()
    code = run_render(project, args)
    write_report(project)
    return code


def cmd_build(project: Project, args) -> int:
    project.validate_catalogs()
    for c in project.campaigns:
        catalogs.extract(c, project.config.locales_dir)
        for locale in project.locales:
            catalogs.update(c, project.config.locales_dir, locale)
    for p in run_compile(project):
        _err(f"warning: {_rel(project, Path(p.file))}:{p.line}: {p.text}")
    code = run_render(project, args)
    run_bundle(project, args)
    write_report(project)
    return code


def write_report(project: Project) -> Path:
    """audio_out/report.html: coverage, findings, skips, links to every page."""
    from .fsutil import write_if_changed
    from .report import report_html
    found: list[checks.Finding] = []
    status = status_data(project, found)
    findings = [f.to_dict() for f in found]
    pages = []
    out = project.config.out_dir
    for c in project.campaigns:
        for locale in project.locales:
            for profile in project.config.profiles:
                page = out / c.name / locale / profile / "index.html"
                if page.exists():
                    pages.append((c.name, locale, profile, page.relative_to(out).as_posix()))
    path = out / "report.html"
    write_if_changed(path, report_html(status, findings, pages).encode("utf-8"))
    return path


def _passphrase(confirm: bool = False) -> str:
    import getpass
    value = os.environ.get("BROADCAST_PASSPHRASE")
    if value:
        return value
    if not sys.stdin.isatty():
        raise PipelineError("no passphrase for the secret key", "BROADCAST_PASSPHRASE",
                            fix="set BROADCAST_PASSPHRASE, or run in a terminal to be asked")
    value = getpass.getpass("Passphrase: ")
    if confirm and getpass.getpass("Passphrase again: ") != value:
        raise PipelineError("the passphrases differ", fix="type the same passphrase twice")
    if not value:
        raise PipelineError("an empty passphrase", fix="choose one, or pass --unencrypted")
    return value


def _load_secret(path: Path):
    from . import signing
    return signing.load_secret(path, _passphrase() if signing.is_encrypted(path) else None)


def run_bundle(project: Project, args) -> list[Path]:
    from . import bundle, signing
    secret = _load_secret(Path(args.sign)) if getattr(args, "sign", None) else None
    written = []
    for c in project.campaigns:
        for locale in project.locales:
            for profile in _profiles(project, args):
                folder = project.config.out_dir / c.name / locale / profile.name
                if not (folder / "SHA256SUMS").exists():
                    continue
                out = bundle.bundle_path(project.config.out_dir, c.name, locale, profile.name)
                changed = bundle.make_bundle(folder, out)
                note = "wrote" if changed else "unchanged"
                if secret is not None:
                    comment = f"campaign:{c.name}\tlocale:{locale}\tprofile:{profile.name}"
                    if getattr(args, "timestamp", False):
                        comment += f"\ttimestamp:{int(time.time())}"
                    signing.write_signature(out, secret, comment)
                    note += ", signed"
                _print(f"{note} {_rel(project, out)}")
                written.append(out)
    return written


def cmd_bundle(project: Project, args) -> int:
    if not run_bundle(project, args):
        _err("no output folder to bundle (run broadcast render first)")
        return 1
    return 0


def _default_pubkey(args) -> Path | None:
    if args.pubkey:
        return Path(args.pubkey)
    candidate = Path(args.project) / "keys" / "broadcast.pub"
    return candidate if candidate.exists() else None


def cmd_verify(args) -> int:
    from . import bundle, signing
    key_path = _default_pubkey(args)
    public = signing.load_public(key_path) if key_path else None
    result = bundle.verify_bundle(Path(args.bundle), public)
    for problem in result.problems:
        _err(f"{args.bundle}: {problem}")
    if not result.ok:
        _err(f"{args.bundle}: verification FAILED ({len(result.problems)} "
             f"problem{'s' if len(result.problems) > 1 else ''}); do not use this bundle")
        return 1
    for note in result.notes:
        _print(f"note: {note}")
    _print(f"OK {args.bundle}: {len(result.members)} members match SHA256SUMS and the manifest"
           + (f"; signed, trusted comment: {result.trusted_comment}"
              if result.trusted_comment is not None else ""))
    return 0


def cmd_keygen(args) -> int:
    from . import signing
    out = Path(args.out) if args.out else Path(args.project) / "keys"
    pub, key = out / "broadcast.pub", out / "broadcast.key"
    if (pub.exists() or key.exists()) and not args.force:
        raise PipelineError("a key pair already exists", key,
                            fix="keep it, or pass --force to replace it (old signatures "
                                "will no longer verify with the new key)")
    passphrase = None if args.unencrypted else _passphrase(confirm=True)
    pub_text, key_text = signing.generate(passphrase)
    from .fsutil import atomic_write
    atomic_write(key, key_text.encode())
    os.chmod(key, 0o600)
    atomic_write(pub, pub_text.encode())
    gitignore = out / ".gitignore"
    if not gitignore.exists():
        atomic_write(gitignore, b"# never commit a secret key\n*.key\n")
    _print(f"wrote {pub} (share it with stations) and {key} "
           f"({'unencrypted: keep it offline' if passphrase is None else 'encrypted'})")
    return 0


def cmd_usb(args) -> int:
    from . import bundle, signing
    key_path = _default_pubkey(args)
    public = signing.load_public(key_path) if key_path else None
    verified = bundle.require_verified(Path(args.bundle), public)
    if args.image:
        size = bundle.parse_size(args.size) if args.size else None
        names = bundle.write_image(verified, Path(args.image), size, args.reproducible,
                                   args.label, args.with_programs)
        _print(f"wrote {args.image}: FAT32 image with {len(names)} files in play order; "
               "write it to sticks with dd or any imaging tool")
    elif args.dest:
        names = bundle.copy_to_stick(verified, Path(args.dest), args.overwrite,
                                     args.with_programs)
        _print(f"copied and verified {len(names)} files to {args.dest} in play order")
    else:
        raise PipelineError("give a destination folder or --image FILE", "broadcast usb",
                            fix="e.g. broadcast usb BUNDLE /media/stick")
    return 0


def cmd_check(project: Project, args) -> int:
    project.validate_catalogs()  # before any check writes its calibration cache
    findings = []
    for c in project.campaigns:
        for locale in project.locales:
            st = catalogs.locale_status(c, project.config.locales_dir, locale)
            findings += checks.check_locale(project.config, c, st)
    if args.json:
        _print(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        for f in findings:
            _print(str(f))
        errors = sum(1 for f in findings if f.severity == checks.ERROR)
        _print(f"{errors} errors, {len(findings) - errors} warnings")
    failing = [f for f in findings if f.severity == checks.ERROR or args.strict]
    return 1 if failing else 0


# --- plumbing --------------------------------------------------------------------------------

def _rel(project: Project, path: Path) -> str:
    return relative(path, project.root)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--project", metavar="DIR", default=".",
                        help="the content project's root (default: the current folder)")
    common.add_argument("--campaign", metavar="NAME", help="only this campaign")
    common.add_argument("--locale", metavar="LOCALE", action="append",
                        help="only this locale (repeatable)")
    common.add_argument("--profile", metavar="NAME", action="append",
                        help="only this output profile (repeatable)")
    common.add_argument("--jobs", metavar="N", type=int, default=None,
                        help="parallel workers (default: one per core)")

    parser = argparse.ArgumentParser(
        prog="broadcast",
        description="Turn messages written once in YAML into translated, broadcast-ready audio.")
    parser.add_argument("--version", action="version", version=f"broadcast {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name, func, help_text):
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(func=func)
        return p

    add("extract", cmd_extract, "write locales/<campaign>.pot from messages/<campaign>.yaml")
    p = add("init", cmd_init, "create the catalogs of a new locale")
    p.add_argument("new_locale", metavar="LOCALE", help="e.g. ko_KP, ru, uk")
    p = add("update", cmd_update, "merge catalogs with the current sources (msgmerge semantics)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if any catalog is out of date")
    add("compile", cmd_compile, "write .mo files (fuzzy entries left out)")
    for name, func, text in (
            ("render", cmd_render, "render every ready message to audio in each profile"),
            ("build", cmd_build, "the whole flow: extract, update, compile, render, bundle")):
        p = add(name, func, text)
        p.add_argument("--strict", action="store_true",
                       help="a program longer than its max_seconds is an error")
        if name == "build":
            p.add_argument("--sign", metavar="KEY", help="sign the bundles with this secret key")
    p = add("bundle", cmd_bundle, "pack each output folder into a deterministic zip")
    p.add_argument("--sign", metavar="KEY", help="write a minisign signature beside each zip")
    p.add_argument("--timestamp", action="store_true",
                   help="put the signing time in the trusted comment (off: no dates)")
    p = add("verify", cmd_verify, "verify a bundle: members, checksums, manifest, signature")
    p.add_argument("bundle", metavar="BUNDLE")
    p.add_argument("--pubkey", metavar="KEY", help="public key (default: keys/broadcast.pub)")
    p = add("keygen", cmd_keygen, "create an Ed25519 key pair in minisign's format")
    p.add_argument("--out", metavar="DIR", help="folder for the keys (default: keys/)")
    p.add_argument("--unencrypted", action="store_true",
                   help="leave the secret key unencrypted (no passphrase)")
    p.add_argument("--force", action="store_true", help="replace an existing key pair")
    p = add("usb", cmd_usb, "verify a bundle and put it on a stick, or into a FAT32 image")
    p.add_argument("bundle", metavar="BUNDLE")
    p.add_argument("dest", metavar="DEST", nargs="?", help="the mounted stick")
    p.add_argument("--image", metavar="FILE", help="write a FAT32 disk image instead")
    p.add_argument("--size", metavar="SIZE", help="image size, e.g. 64M or 2G")
    p.add_argument("--reproducible", action="store_true",
                   help="derive the volume serial from the contents (default: random)")
    p.add_argument("--label", default="NO NAME", help="volume label (default: NO NAME)")
    p.add_argument("--pubkey", metavar="KEY", help="public key (default: keys/broadcast.pub)")
    p.add_argument("--overwrite", action="store_true", help="replace files already on DEST")
    p.add_argument("--with-programs", action="store_true",
                   help="also copy the programs, after the messages")
    p = add("check", cmd_check, "quality checks on every translated unit, in every locale")
    p.add_argument("--json", action="store_true", help="print findings as JSON")
    p.add_argument("--strict", action="store_true", help="warnings count as errors too")
    p = add("status", cmd_status, "translation progress and readiness per locale")
    p.add_argument("--json", action="store_true", help="print JSON")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        if args.func in (cmd_verify, cmd_keygen, cmd_usb):
            return args.func(args)          # these work on files, not on a project
        project = open_project(Path(args.project), args.campaign, args.locale)
        return args.func(project, args)
    except PipelineError as exc:
        _err(str(exc))
        return exc.exit_code
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: not an error of ours.
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        _err("interrupted; files already written are complete")
        return 130
