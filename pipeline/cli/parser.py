"""The command line's grammar: one subcommand per stage, with its options."""

from __future__ import annotations

import argparse

from .. import __version__
from .catalog import cmd_check, cmd_compile, cmd_extract, cmd_init, cmd_status, cmd_update
from .files import cmd_keygen, cmd_usb, cmd_verify
from .machine import cmd_doctor
from .output import cmd_build, cmd_bundle, cmd_prune, cmd_render
from .review import cmd_approve, cmd_reject, cmd_review
from .studio import cmd_listen, cmd_say, cmd_scripts

__all__ = ["build_parser"]


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
    compendium = argparse.ArgumentParser(add_help=False)
    compendium.add_argument("--compendium", metavar="FILE.po", action="append", default=[],
                            help="an outside translation memory: a unit it knows is "
                                 "suggested from it, fuzzy (repeatable)")
    p = add("init", cmd_init, "create the catalogs of a new locale (or of a new campaign "
            "in a locale)", campaign, compendium)
    p.add_argument("new_locale", metavar="LOCALE", help="e.g. ko_KP, ru, uk")
    p = add("update", cmd_update, "merge catalogs with the current sources (msgmerge "
            "semantics)", campaign, locale, compendium)
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if any catalog is out of date")
    p.add_argument("--no-fuzzy-matching", action="store_true",
                   help="a changed or new unit gets no fuzzy suggestion from a similar one "
                        "(as msgmerge --no-fuzzy-matching)")
    p.add_argument("--ignore-obsolete", action="store_true",
                   help="drop translations no unit uses any more instead of keeping them "
                        "as #~ (as pybabel update --ignore-obsolete)")
    p = add("compile", cmd_compile, "write .mo files (fuzzy entries left out)", campaign,
            locale)
    p.add_argument("--statistics", action="store_true",
                   help="print each catalog's translated, fuzzy and untranslated counts, "
                        "as msgfmt --statistics (fuzzy counted as fuzzy)")
    for name, func, text in (
            ("render", cmd_render, "render every ready message to audio in each profile"),
            ("build", cmd_build, "the whole flow: extract, update, compile, render, bundle")):
        p = add(name, func, text, campaign, locale, profile, workers)
        p.add_argument("--strict", action="store_true",
                       help="a program longer than its max_seconds is an error")
        if name == "build":
            p.add_argument("--sign", metavar="KEY", help="sign the bundles with this secret key")
            p.add_argument("--json", action="store_true",
                           help="print only a summary for scripts, as JSON: what was "
                                "rendered, skipped and why, bundles, signatures, timings")
            p.add_argument("--quiet", action="store_true",
                           help="print only warnings and errors")
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
    p.add_argument("--mbr", action="store_true",
                   help="put the volume in an MBR partition table from 1 MiB on, as sticks "
                        "and SD cards come from the factory (for players that need one)")
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
    p = add("say", cmd_say, "speak one text as a locale's voice would (a translator's preview)",
            campaign)
    p.add_argument("--locale", dest="say_locale", metavar="LOCALE", required=True)
    p.add_argument("--engine", metavar="ENGINE", help="another engine than the configured one")
    p.add_argument("--phonemes", action="store_true",
                   help="also print the phonemes the voice reads it as (espeak, mbrola)")
    p.add_argument("--text-only", action="store_true",
                   help="print the text exactly as it will be spoken; no audio")
    p.add_argument("--out", metavar="FILE", help="the WAV to write (needed unless "
                   "--text-only: say writes only where asked)")
    p.add_argument("text", metavar="TEXT", help="the text, '-' to read it from stdin; its "
                   "{variables} are the campaign's (--campaign if there are several)")
    p = add("doctor", cmd_doctor, "say what this machine has and lacks (engines and their "
            "voices, ffmpeg, the speech judge, the FAT writer, minisign) and how to install each")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = add("listen", cmd_listen, "hear a message (or an audio file) as a listener would "
            "through a radio or loudspeaker channel")
    p.add_argument("--channel", required=True, metavar="KIND:SNR",
                   help="am:6, am:6:pink:fading, fm:20, speaker:3 or am:clean (KIND:SNR[:OPTION]"
                        "; docs/voices.md)")
    p.add_argument("--locale", dest="listen_locale", metavar="LOCALE",
                   help="the message's locale (needed if the project has several)")
    p.add_argument("--profile", dest="listen_profile", metavar="NAME", default="shortwave",
                   help="the output profile whose file is sent (default: shortwave)")
    p.add_argument("--out", metavar="FILE", required=True, help="the WAV to write")
    p.add_argument("what", metavar="MESSAGE|FILE")
    p = add("scripts", cmd_scripts, "write printable recording scripts and the <id>.txt that "
            "binds each take to its text", campaign)
    p.add_argument("script_locale", metavar="LOCALE")
    p.add_argument("--out", metavar="DIR",
                   help="where to write them (default: recording-scripts/LOCALE); never a "
                        "recordings folder")
    p.add_argument("--force", action="store_true",
                   help="replace files of another content in --out")
    for name, func, text in (
            ("approve", cmd_approve, "approve a message's audio in a locale, as a native "
                                     "reviewer who listened to it"),
            ("reject", cmd_reject, "reject a message's audio in a locale (say why with "
                                   "--comment)")):
        p = add(name, func, text, campaign)
        p.add_argument("review_locale", metavar="LOCALE")
        p.add_argument("message", metavar="MESSAGE", help="the message id")
        p.add_argument("--reviewer", required=True, metavar="NAME", help="your name")
        p.add_argument("--comment", metavar="TEXT", required=name == "reject",
                       help="what you heard" + (" (required)" if name == "reject" else ""))
        p.add_argument("--replace", action="store_true",
                       help="replace another reviewer's current decision")
    p = add("review", cmd_review, "a local web page to listen to each message and approve "
            "or reject it", locale)
    p.add_argument("--reviewer", required=True, metavar="NAME", help="your name")
    p.add_argument("--profile", metavar="NAME", help="the profile to listen to (radio)")
    p.add_argument("--port", type=int, default=8765, help="the port (default: 8765)")
    p.add_argument("--host", default="127.0.0.1",
                   help="the interface (default: 127.0.0.1, this machine only)")
    p = add("status", cmd_status, "translation progress and readiness per locale",
            campaign, locale)
    p.add_argument("--json", action="store_true", help="print JSON")
    return parser
