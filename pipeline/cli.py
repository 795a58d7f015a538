"""Command line: ``broadcast SUBCOMMAND``, one subcommand per stage.

Only this module prints and turns errors into exit codes: 0 success, 1 the work failed
(checks failed, nothing rendered, an internal error), 2 bad usage or bad input. Every
error is one line; ``--debug`` shows the traceback of an internal error.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import traceback
from concurrent.futures import BrokenExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__, checks, stamp, workflow
from .catalogs.pofile import forget_parsed
from .errors import PipelineError, os_error
from .fsutil import Checked
from .layout import PUBLIC_KEY, SECRET_KEY, Layout
from .lock import project_lock
from .project import Project, open_project
from .report import write_report
from .status import project_status

if TYPE_CHECKING:
    from .render.execute import RenderReport, Workers

__all__ = ["build_parser", "cmd_build", "cmd_bundle", "cmd_check", "cmd_compile",
           "cmd_extract", "cmd_init", "cmd_keygen", "cmd_prune", "cmd_render", "cmd_say",
           "cmd_scripts", "cmd_status", "cmd_update", "cmd_usb", "cmd_verify",
           "FILE_COMMANDS", "GC_THRESHOLDS", "main", "READ_ONLY"]

_replay: list[tuple[str, str]] = []       # what a build with nothing to do says again


def _print(*args, **kwargs) -> None:
    print(*args, **kwargs, flush=True)


def _err(text: str) -> None:
    print(f"broadcast: {text}", file=sys.stderr, flush=True)


def _say(text: str) -> None:
    """Print a line that a rebuild with nothing changed prints again."""
    _replay.append(("out", text))
    _print(text)


def _warn(text: str) -> None:
    """A warning that a rebuild with nothing changed gives again."""
    _replay.append(("err", f"broadcast: warning: {text}"))
    _err(f"warning: {text}")


def _said(project: Project, written: list[workflow.Written], yes: str, no: str) -> None:
    for w in written:
        _print(f"{yes if w.changed else no} {project.rel(w.path)}")


# --- catalog commands ----------------------------------------------------------------------

def cmd_extract(project: Project, args) -> int:
    _said(project, workflow.extract(project), "wrote", "unchanged")
    return 0


def cmd_init(project: Project, args) -> int:
    from .content.locales import parse_locale
    parse_locale(args.new_locale, "broadcast init")
    _said(project, workflow.init(project, args.new_locale), "created",
          "exists, left as it is:")
    return 0


def cmd_update(project: Project, args) -> int:
    written = workflow.update(project, dry_run=args.check)
    if not args.check:
        _said(project, [w for w in written if w.path.suffix == ".po"], "updated", "unchanged")
        return 0
    stale = [w for w in written if w.changed]
    for w in stale:
        _print(f"out of date: {project.rel(w.path)} (run broadcast update)")
    if not stale:
        _print("all catalogs are up to date")
    return 1 if stale else 0


def _compile(project: Project) -> list:
    result = workflow.compile_all(project)
    _said(project, result.written, "compiled", "unchanged")
    for po, found in result.refused.items():
        _print(f"refused {project.rel(po)}: {len(found)} "
               f"{'entry' if len(found) == 1 else 'entries'} with wrong placeholders")
    return result.problems


def cmd_compile(project: Project, args) -> int:
    problems = _compile(project)
    for p in problems:
        _err(f"{project.rel(Path(p.file))}:{p.line}: {p.text}")
    return 2 if problems else 0


def cmd_status(project: Project, args) -> int:
    project.validate_catalogs()
    data = project_status(project)
    if args.json:
        _print(json.dumps(data.to_dict(), ensure_ascii=False, indent=2))
        return 0
    for name, c in data.campaigns.items():
        _print(f"{name}: {c.title} ({c.messages} messages)")
        width = max((len(loc) for loc in c.locales), default=2)
        pad = f"  {'':<{width}}    "
        for locale, s in c.locales.items():
            _print(f"  {locale:<{width}}  {len(s.ready)}/{c.messages} ready  "
                   f"{s.translated} translated, {s.fuzzy} fuzzy, {s.untranslated} "
                   f"untranslated, {s.obsolete} obsolete; {s.words_to_translate} words "
                   "to translate")
            for mid, reason in s.not_ready.items():
                _print(f"{pad}not ready: {mid}: {reason}")
            if s.checks:
                _print(f"{pad}check findings: " +
                       ", ".join(f"{k} {n}" for k, n in s.checks.items()))
            for state, ids in s.recordings.items():
                if ids:
                    _print(f"{pad}recordings {state}: {', '.join(ids)}")
            if s.speech_cer:
                worst = max(s.speech_cer, key=lambda m: max(s.speech_cer[m].values()))
                _print(f"{pad}speech CER of {len(s.speech_cer)} messages: worst {worst} "
                       f"{max(s.speech_cer[worst].values()):.2f} (broadcast status --json "
                       "lists each)")
    return 0


def cmd_check(project: Project, args) -> int:
    project.validate_catalogs()
    findings = project.findings()
    if args.audio:
        from .render.listen import listen
        heard = listen(project, [p.name for p in workflow.profiles_of(project, args.profile)],
                       _progress("listen"))
        findings += heard.findings
        if not args.json:
            for path, cer in heard.cer.items():
                _print(f"heard {path}: CER {cer:.2f}")
    if args.json:
        _print(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        for f in findings:
            _print(str(f))
        errors = sum(1 for f in findings if f.severity == checks.ERROR)
        _print(f"{errors} errors, {len(findings) - errors} warnings")
    failing = [f for f in findings if f.severity == checks.ERROR or args.strict]
    return 1 if failing else 0


# --- render, bundle, build -----------------------------------------------------------------

def _progress(label: str):
    """A progress bar (tqdm) on a terminal; a line per quarter otherwise."""
    state: dict = {}

    def step(done: int, total: int, what: str) -> None:
        if sys.stderr.isatty():
            from tqdm import tqdm
            bar = state.get("bar")
            if bar is None:
                bar = state["bar"] = tqdm(total=total, desc=label, unit="file",
                                          leave=True, file=sys.stderr)
            bar.set_postfix_str(what[:30])
            bar.update(1)
            if done >= total:
                bar.close()
        else:
            quarter = 4 * done // max(total, 1)
            if quarter != state.get("quarter"):
                state["quarter"] = quarter
                print(f"{label}: {done}/{total}", file=sys.stderr, flush=True)
    return step


def _withdrawn(project: Project, withdrawn: list[workflow.Withdrawn]) -> None:
    for w in withdrawn:
        if w.ids:
            _print(f"withdrew from {project.rel(w.folder)}: {', '.join(w.ids)} (no longer "
                   "the approved translation)" + "".join(f"; deleted {project.rel(p)}"
                                                         for p in w.bundles_removed))
        if w.left == [""]:
            _say(f"left {project.rel(w.folder)} as it is: not an output folder this project "
                 "made there (a copy?)")
        elif w.left:
            _say(f"left in {project.rel(w.folder)}: {', '.join(w.left)} (not written by "
                 "broadcast)")


def _render(project: Project, args, workers: "Workers") -> tuple[int, RenderReport]:
    profiles = workflow.profiles_of(project, args.profile)
    plans, report = workflow.render(project, profiles, workers, args.strict,
                                    _progress("render"))
    _withdrawn(project, report.withdrawn)
    for lp in plans:
        for mid, reason in lp.skipped.items():
            _say(f"skipped {lp.campaign.name}/{lp.locale}/{mid}: {reason}")
    seen = set()
    for f in report.folders:
        for pid, reason in f.programs_skipped.items():
            if (f.campaign, f.locale, pid) not in seen:
                seen.add((f.campaign, f.locale, pid))
                _say(f"skipped program {f.campaign}/{f.locale}/{pid}: {reason}")
        for w in f.warnings:
            _warn(w)
    rows = [("campaign", "locale", "profile", "files", "minutes", "skipped")]
    rows += [(f.campaign, f.locale, f.profile, "kept" if f.kept else str(f.files),
              "" if f.kept else f"{f.seconds / 60:.1f}", str(len(f.skipped)))
             for f in report.folders]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    _say("")
    for r in rows:
        _say("  ".join(c.rjust(w) if i >= 3 else c.ljust(w)
                       for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())
    _print(f"{report.syntheses} syntheses, {report.encodings} encodings")
    for error in report.errors:
        _err(error)
    kept = sorted({f"{f.campaign}/{f.locale}" for f in report.folders if f.kept})
    if kept:
        _err(f"{len(report.errors)} failed; the previous output of {', '.join(kept)} was "
             "kept as it was")
    if report.errors:
        return 1, report
    if report.rendered == 0:
        _err("nothing was rendered: no message is ready in any locale "
             "(see broadcast status)")
        return 1, report
    return 0, report


def cmd_render(project: Project, args) -> int:
    with workflow.workers_for(project, args.workers, args.scheduler) as workers:
        code, _ = _render(project, args, workers)
    write_report(project)
    return code


def cmd_build(project: Project, args) -> int:
    stamp.forget(str(project.root))     # whatever happens now, the last build's stamp is old
    _replay.clear()
    # The workers live for this block alone: started before the catalogs are read (a
    # cold build), used by the render, shut down before the bundles are made.
    with workflow.workers_for(project, args.workers, args.scheduler) as workers:
        workflow.start_workers(project, workers, args.profile)
        project.validate_catalogs()
        project.validate_voices()       # bad engine options fail before anything is written
        workflow.profiles_of(project, args.profile)
        workflow.update(project)
        for p in _compile(project):
            _warn(f"{project.rel(Path(p.file))}:{p.line}: {p.text}")
        code, rendered = _render(project, args, workers)
    # The report reads the status and the folders' pages, the bundles only the folders:
    # one is written while the others are zipped.
    with ThreadPoolExecutor(max_workers=1) as side:
        report = side.submit(write_report, project)
        _bundle(project, args, withdraw=False,      # the render withdrew already
                checked={f.folder: f.checked for f in rendered.folders})
        report.result()
    # Asked as the stamp reads a command line (None for one it would not answer: --sign).
    asked = stamp.request(args.argv)
    if code == 0 and asked is not None:
        stamp.record(str(project.root), asked[1], _replay)
    return code


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


def _bundle(project: Project, args, withdraw: bool = True,
            checked: dict[Path, dict[str, Checked]] | None = None) -> list:
    from .distribute import signing
    secret = None
    if getattr(args, "sign", None):
        path = Path(args.sign)
        secret = signing.load_secret(path, _passphrase() if signing.is_encrypted(path)
                                     else None)
    written, withdrawn = workflow.bundle_all(project, workflow.profiles_of(project, args.profile),
                                             secret, getattr(args, "timestamp", False),
                                             withdraw, checked)
    _withdrawn(project, withdrawn)
    for w in written:
        note = ("wrote" if w.changed else "unchanged") + (", signed" if w.signed else "")
        _print(f"{note} {project.rel(w.path)}" + (
            " (its old signature was removed: the bundle is unsigned now; sign it with "
            "--sign)" if w.unsigned_now else ""))
    return written


def cmd_prune(project: Project, args) -> int:
    pruned = workflow.prune(project, args.dry_run)

    def mib(n: int) -> str:
        return f"{n / 2 ** 20:.1f} MiB"
    verb = "would delete" if args.dry_run else "deleted"
    _print(f"{verb} {pruned.files} files ({mib(pruned.size)}) from the render cache; kept "
           f"{pruned.kept_files} ({mib(pruned.kept_size)}) that the output folders or the "
           "current messages use")
    return 0


def cmd_bundle(project: Project, args) -> int:
    if not _bundle(project, args):
        _err("no output folder to bundle (run broadcast render first)")
        return 1
    return 0


# --- for translators and studios: say, scripts -----------------------------------------------

def cmd_say(project: Project, args) -> int:
    from .audio.codec import wav_bytes
    from .content.locales import parse_locale
    from .fsutil import atomic_write
    parse_locale(args.say_locale, "broadcast say --locale")
    out = Path(args.out)
    if not args.text_only:
        _say_target(project, out)           # before any synthesis
    said = workflow.say(project, args.say_locale, args.text, args.engine, args.text_only)
    if said.audio is None:
        _print(said.text)
        return 0
    atomic_write(out, wav_bytes(said.audio))
    _print(f"wrote {out} ({said.audio.duration:.1f} s): {said.text}")
    return 0


def _say_target(project: Project, out: Path) -> None:
    """``say`` writes one WAV where asked: never a folder, never over a file that is not a
    WAV, never into the project's own files (it takes no lock)."""
    layout = project.layout
    if out.is_dir():
        raise PipelineError("is a folder", out, fix="give a file name, e.g. --out say.wav")
    where = out.resolve()
    for folder in (layout.messages_dir, layout.locales_dir, layout.keys_dir, layout.out_dir):
        if where.is_relative_to(folder.resolve()):
            raise PipelineError("say writes nothing into the project's own files", out,
                                fix="write it elsewhere, e.g. --out /tmp/say.wav")
    if out.exists() or out.is_symlink():
        try:
            with open(out, "rb") as fh:
                head = fh.read(12)
        except OSError:
            head = b""
        if out.is_symlink() or not (head[:4] == b"RIFF" and head[8:12] == b"WAVE"):
            raise PipelineError("a file that is not a WAV is there", out,
                                fix="give another file name (say replaces only a WAV)")


def cmd_scripts(project: Project, args) -> int:
    from .content.locales import parse_locale
    parse_locale(args.script_locale, "broadcast scripts")
    out = Path(args.out) if args.out else project.root / "recording-scripts" / args.script_locale
    # The default folder is the command's own; another one is the user's, kept unless --force.
    result = workflow.recording_scripts(project, args.script_locale, out,
                                        replace=not args.out or args.force)
    _said(project, result.written, "wrote", "unchanged")
    for mid, why in result.not_ready.items():
        _print(f"not in the script: {mid}: {why}")
    if not any(w.path.suffix == ".txt" for w in result.written):
        _err(f"no message is ready in {args.script_locale}: nothing to record (see broadcast "
             "status)")
        return 1
    return 0


# --- commands on files: verify, keygen, usb --------------------------------------------------

def _public_key(args):
    from .distribute import signing
    path = Path(args.pubkey) if args.pubkey else Layout(Path(args.project)).public_key
    return signing.load_public(path) if (args.pubkey or path.exists()) else None


def cmd_verify(args) -> int:
    from .distribute import bundle
    result = bundle.verify_bundle(Path(args.bundle), _public_key(args))
    if not result.ok:
        for problem in result.problems:         # every problem on stdout, one line on stderr
            _print(f"problem: {problem}")
        count = len(result.problems)
        _err(f"{args.bundle}: verification FAILED ({count} problem{'s' if count > 1 else ''}"
             f"{', listed above' if count > 1 else ''}): {result.problems[0]}; do not use "
             "this bundle")
        return 1
    for note in result.notes:
        _print(f"note: {note}")
    _print(f"OK {args.bundle}: {len(result.digests)} members match SHA256SUMS and the manifest"
           + (f"; signed, trusted comment: {result.trusted_comment}"
              if result.trusted_comment is not None else ""))
    return 0


def cmd_keygen(args) -> int:
    from .distribute import signing
    from .fsutil import atomic_write
    out = Path(args.out) if args.out else Layout(Path(args.project)).keys_dir
    pub, key = out / PUBLIC_KEY, out / SECRET_KEY
    if (pub.exists() or key.exists()) and not args.force:
        raise PipelineError("a key pair already exists", key,
                            fix="keep it, or pass --force to replace it (old signatures "
                                "will no longer verify with the new key)")
    passphrase = None if args.unencrypted else _passphrase(confirm=True)
    pub_text, key_text = signing.generate(passphrase)
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
    from .distribute import bundle, media
    verified = bundle.require_verified(Path(args.bundle), _public_key(args))
    if verified.trusted_comment is None:
        _print(f"note: {args.bundle} is not signed: nothing proves who made it (sign "
               "bundles with broadcast bundle --sign, and give stations the public key)")
    if args.image:
        size = media.parse_size(args.size) if args.size else None
        names = media.write_image(verified, Path(args.image), size, args.reproducible,
                                  args.label, args.with_programs, args.with_transcripts,
                                  args.overwrite)
        _print(f"wrote {args.image}: FAT32 image with {len(names)} files in play order; "
               "write it to sticks with dd or any imaging tool")
    elif args.dest:
        names = media.copy_to_stick(verified, Path(args.dest), args.overwrite,
                                    args.with_programs, args.with_transcripts)
        _print(f"copied and verified {len(names)} files to {args.dest} in play order")
    else:
        raise PipelineError("give a destination folder or --image FILE", "broadcast usb",
                            fix="e.g. broadcast usb BUNDLE /media/stick")
    return 0


# --- the parser ------------------------------------------------------------------------------

def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of workers (0: one per core)")
    return value


def build_parser() -> argparse.ArgumentParser:
    base = argparse.ArgumentParser(add_help=False)
    base.add_argument("--project", metavar="DIR", default=".",
                      help="the content project's root (default: the current folder)")
    base.add_argument("--debug", action="store_true",
                      help="show the traceback of an internal error")
    base.add_argument("--wait", action="store_true",
                      help="if another broadcast command is writing into the project, wait "
                           "for it (default: stop)")
    campaign = argparse.ArgumentParser(add_help=False)
    campaign.add_argument("--campaign", metavar="NAME", help="only this campaign")
    locale = argparse.ArgumentParser(add_help=False)
    locale.add_argument("--locale", metavar="LOCALE", action="append",
                        help="only this locale (repeatable)")
    profile = argparse.ArgumentParser(add_help=False)
    profile.add_argument("--profile", metavar="NAME", action="append",
                         help="only this output profile (repeatable)")
    workers = argparse.ArgumentParser(add_help=False)
    workers.add_argument("--jobs", dest="workers", metavar="N", type=_workers, default=None,
                         help="worker processes (default: [render] workers, 0 = one per core)")
    workers.add_argument("--scheduler", metavar="ADDRESS",
                         help="run the synthesis and mastering on the Dask cluster of this "
                              "scheduler (e.g. tcp://10.0.0.5:8786; the [cluster] extra)")

    parser = argparse.ArgumentParser(
        prog="broadcast",
        description="Turn messages written once in YAML into translated, broadcast-ready audio.")
    parser.add_argument("--version", action="version", version=f"broadcast {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name, func, help_text, *parents):
        p = sub.add_parser(name, parents=[base, *parents], help=help_text,
                           description=help_text)
        p.set_defaults(func=func)
        return p

    add("extract", cmd_extract, "write locales/<campaign>.pot from messages/<campaign>.yaml",
        campaign)
    p = add("init", cmd_init, "create the catalogs of a new locale", campaign)
    p.add_argument("new_locale", metavar="LOCALE", help="e.g. ko_KP, ru, uk")
    p = add("update", cmd_update, "merge catalogs with the current sources (msgmerge "
            "semantics)", campaign, locale)
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if any catalog is out of date")
    add("compile", cmd_compile, "write .mo files (fuzzy entries left out)", campaign, locale)
    for name, func, text in (
            ("render", cmd_render, "render every ready message to audio in each profile"),
            ("build", cmd_build, "the whole flow: extract, update, compile, render, bundle")):
        p = add(name, func, text, campaign, locale, profile, workers)
        p.add_argument("--strict", action="store_true",
                       help="a program longer than its max_seconds is an error")
        if name == "build":
            p.add_argument("--sign", metavar="KEY", help="sign the bundles with this secret key")
    p = add("bundle", cmd_bundle, "pack each output folder into a deterministic zip",
            campaign, locale, profile)
    p.add_argument("--sign", metavar="KEY", help="write a minisign signature beside each zip")
    p.add_argument("--timestamp", action="store_true",
                   help="put the signing time in the trusted comment (off: no dates)")
    p = add("prune", cmd_prune, "delete from the render cache what no output folder holds and "
            "no current message is voiced with (each edit leaves its old files there)")
    p.add_argument("--dry-run", action="store_true", help="say what would go; delete nothing")
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
    p.add_argument("--overwrite", action="store_true",
                   help="replace files already on DEST, or a file at --image that is not a "
                        "stick image")
    p.add_argument("--with-programs", action="store_true",
                   help="also copy the programs, after the messages")
    p.add_argument("--with-transcripts", action="store_true",
                   help="also copy each message's text (NN.txt beside NN.mp3); off by "
                        "default: text on a stick tells what it carries")
    p = add("check", cmd_check, "quality checks on every translated unit, in every locale",
            campaign, locale, profile)
    p.add_argument("--audio", action="store_true",
                   help="also hear every rendered message file and every recording with the "
                        "offline recognizer (the [asr] extra) and hold it to its text")
    p.add_argument("--json", action="store_true", help="print findings as JSON")
    p.add_argument("--strict", action="store_true", help="warnings count as errors too")
    p = add("say", cmd_say, "speak one text as a locale's voice would (a translator's preview)")
    p.add_argument("--locale", dest="say_locale", metavar="LOCALE", required=True)
    p.add_argument("--engine", metavar="ENGINE", help="another engine than the configured one")
    p.add_argument("--text-only", action="store_true",
                   help="print the text exactly as it will be spoken; no audio")
    p.add_argument("--out", metavar="FILE", default="say.wav", help="the WAV to write "
                   "(default: say.wav)")
    p.add_argument("text", metavar="TEXT")
    p = add("scripts", cmd_scripts, "write printable recording scripts and the <id>.txt that "
            "binds each take to its text", campaign)
    p.add_argument("script_locale", metavar="LOCALE")
    p.add_argument("--out", metavar="DIR",
                   help="where to write them (default: recording-scripts/LOCALE); never a "
                        "recordings folder")
    p.add_argument("--force", action="store_true",
                   help="replace files of another content in --out")
    p = add("status", cmd_status, "translation progress and readiness per locale",
            campaign, locale)
    p.add_argument("--json", action="store_true", help="print JSON")
    return parser


FILE_COMMANDS = (cmd_verify, cmd_keygen, cmd_usb)      # work on files, not on a project
READ_ONLY = (cmd_status, cmd_check, cmd_say)            # write nothing in the project: no lock


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
    try:
        if args.func in FILE_COMMANDS:
            return args.func(args)
        def run() -> int:
            project = open_project(Path(args.project), getattr(args, "campaign", None),
                                   getattr(args, "locale", None))
            return args.func(project, args)
        root = Path(args.project)
        if not _writes(args) or not Layout(root).messages_dir.is_dir():
            return run()            # (without a project, open_project says what is wrong)
        # The lock first: what a writer reads, it reads with no other writer running.
        with project_lock(Layout(root), args.wait, _err):
            return run()
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
    except BrokenExecutor:          # a worker process died (the thread pools here cannot break)
        _err("a render worker died (killed, or out of memory?); files already written are "
             "complete: run the command again, with fewer workers (--jobs 1) if it recurs")
        return 1
    except OSError as exc:
        if args.debug:
            traceback.print_exc()
        _err(str(os_error(exc, None, "complete the command")))
        return 1
    except Exception as exc:  # noqa: BLE001 - the boundary: one line, never a traceback
        if args.debug:
            traceback.print_exc()
            return 1
        _err(f"internal error: {type(exc).__name__}: {exc}; run with --debug for details")
        return 1
