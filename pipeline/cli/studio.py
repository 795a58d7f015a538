"""The commands for translators, studios and broadcasters' previews: say, listen, scripts."""

from __future__ import annotations

import sys
from pathlib import Path

from .. import workflow
from ..errors import PipelineError
from ..project import Project
from .console import Console

__all__ = ["cmd_listen", "cmd_say", "cmd_scripts"]


def cmd_say(project: Project, args, con: Console) -> int:
    from ..audio.codec import wav_bytes
    from ..content.locales import parse_locale
    from ..fsutil import atomic_write
    parse_locale(args.say_locale, "broadcast say --locale")
    if not args.text_only:
        if not args.out:
            raise PipelineError("say writes a WAV only where --out says", "broadcast say",
                                fix="give --out FILE, or --text-only to print the text")
        _wav_target(project, Path(args.out), "say")     # before any synthesis
    text = sys.stdin.read() if args.text == "-" else args.text
    said = workflow.say(project, args.say_locale, text, args.engine, args.text_only,
                        args.phonemes, args.campaign)
    for phrase in said.phonemes:
        con.out(f"phonemes: {phrase}")
    if said.audio is None:
        con.out(said.text)
        return 0
    atomic_write(Path(args.out), wav_bytes(said.audio))
    con.out(f"wrote {args.out} ({said.audio.duration:.1f} s): {said.text}")
    return 0


def cmd_listen(project: Project, args, con: Console) -> int:
    from ..audio.codec import wav_bytes
    from ..content.locales import parse_locale
    from ..fsutil import atomic_write
    if args.listen_locale:
        parse_locale(args.listen_locale, "broadcast listen --locale")
    out = Path(args.out)
    _wav_target(project, out, "listen")
    heard = workflow.listen(project, args.what, args.channel, args.listen_locale,
                            args.listen_profile)
    atomic_write(out, wav_bytes(heard.audio))
    con.out(f"wrote {out} ({heard.audio.duration:.1f} s at {heard.audio.rate} Hz): "
            f"{project.rel(heard.source)} through {heard.channel}")
    return 0


def _wav_target(project: Project, out: Path, command: str) -> None:
    """``say`` and ``listen`` write one WAV where asked: never a folder, never over a file
    that is not a WAV, never into the project's own files (they take no lock)."""
    layout = project.layout
    if out.is_dir():
        raise PipelineError("is a folder", out,
                            fix=f"give a file name, e.g. --out {command}.wav")
    where = out.resolve()
    for folder in (layout.messages_dir, layout.locales_dir, layout.keys_dir, layout.out_dir):
        if where.is_relative_to(folder.resolve()):
            raise PipelineError(f"{command} writes nothing into the project's own files",
                                out, fix=f"write it elsewhere, e.g. --out /tmp/{command}.wav")
    if out.exists() or out.is_symlink():
        try:
            with open(out, "rb") as fh:
                head = fh.read(12)
        except OSError:
            head = b""
        if out.is_symlink() or not (head[:4] == b"RIFF" and head[8:12] == b"WAVE"):
            raise PipelineError("a file that is not a WAV is there", out,
                                fix=f"give another file name ({command} replaces only a WAV)")


def cmd_scripts(project: Project, args, con: Console) -> int:
    from ..content.locales import parse_locale
    parse_locale(args.script_locale, "broadcast scripts")
    out = Path(args.out) if args.out else project.root / "recording-scripts" / args.script_locale
    # The default folder is the command's own; another one is the user's, kept unless --force.
    result = workflow.recording_scripts(project, args.script_locale, out,
                                        replace=not args.out or args.force)
    con.wrote(project, result.written, "wrote", "unchanged")
    for mid, why in result.not_ready.items():
        con.out(f"not in the script: {mid}: {why}")
    if not any(w.path.suffix == ".txt" for w in result.written):
        con.err(f"no message is ready in {args.script_locale}: nothing to record (see broadcast "
                "status)")
        return 1
    return 0
