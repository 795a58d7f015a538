"""The commands on files, not on a project: verify, keygen, usb."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import PipelineError
from ..layout import PUBLIC_KEY, SECRET_KEY, Layout
from ..values import counted
from .console import Console

__all__ = ["cmd_keygen", "cmd_usb", "cmd_verify", "passphrase"]


def passphrase(confirm: bool = False) -> str:
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



def _public_key(args):
    from ..distribute import signing
    path = Path(args.pubkey) if args.pubkey else Layout(Path(args.project)).public_key
    return signing.load_public(path) if (args.pubkey or path.exists()) else None


def cmd_verify(args, con: Console) -> int:
    from ..distribute import bundle
    result = bundle.verify_bundle(Path(args.bundle), _public_key(args))
    if not result.ok:
        for problem in result.problems:         # every problem on stdout, one line on stderr
            con.out(f"problem: {problem}")
        count = len(result.problems)
        con.err(f"{args.bundle}: verification FAILED ({count} problem{'s' if count > 1 else ''}"
                f"{', listed above' if count > 1 else ''}): {result.problems[0]}; do not use "
                "this bundle")
        return 1
    for note in result.notes:
        con.out(f"note: {note}")
    con.out(f"OK {args.bundle}: {len(result.digests)} members match SHA256SUMS and the manifest"
            + (f"; signed, trusted comment: {result.trusted_comment}"
               if result.trusted_comment is not None else ""))
    return 0


def cmd_keygen(args, con: Console) -> int:
    from ..distribute import signing
    from ..fsutil import atomic_write
    out = Path(args.out) if args.out else Layout(Path(args.project)).keys_dir
    pub, key = out / PUBLIC_KEY, out / SECRET_KEY
    if (pub.exists() or key.exists()) and not args.force:
        raise PipelineError("a key pair already exists", key,
                            fix="keep it, or pass --force to replace it (old signatures "
                                "will no longer verify with the new key)")
    secret = None if args.unencrypted else passphrase(confirm=True)
    pub_text, key_text = signing.generate(secret)
    atomic_write(key, key_text.encode())
    os.chmod(key, 0o600)
    atomic_write(pub, pub_text.encode())
    gitignore = out / ".gitignore"
    if not gitignore.exists():
        atomic_write(gitignore, b"# never commit a secret key\n*.key\n")
    con.out(f"wrote {pub} (share it with stations) and {key} "
            f"({'unencrypted: keep it offline' if secret is None else 'encrypted'})")
    return 0


def cmd_usb(args, con: Console) -> int:
    from ..distribute import bundle, media
    image_only = [flag for flag, given in (
        ("--size", args.size), ("--reproducible", args.reproducible), ("--mbr", args.mbr),
        ("--label", args.label != media.NEUTRAL_LABEL)) if given]
    if image_only and not args.image:
        raise PipelineError(f"{image_only[0]} is for a disk image", "broadcast usb",
                            fix=f"add --image FILE, or leave {image_only[0]} out")
    verified = bundle.require_verified(Path(args.bundle), _public_key(args))
    if verified.trusted_comment is None:
        con.out(f"note: {args.bundle} is not signed: nothing proves who made it (sign "
                "bundles with broadcast bundle --sign, and give stations the public key)")
    if args.image:
        size = media.parse_size(args.size) if args.size else None
        names = media.write_image(verified, Path(args.image), size, args.reproducible,
                                  args.label, args.with_programs, args.with_transcripts,
                                  args.overwrite, args.mbr)
        con.out(f"wrote {args.image}: FAT32 image with {counted(len(names), 'file')} in play order; "
                "write it to sticks with dd or any imaging tool")
    elif args.dest:
        names = media.copy_to_stick(verified, Path(args.dest), args.overwrite,
                                    args.with_programs, args.with_transcripts)
        con.out(f"copied and verified {counted(len(names), 'file')} to {args.dest} in play order")
    else:
        raise PipelineError("give a destination folder or --image FILE", "broadcast usb",
                            fix="e.g. broadcast usb BUNDLE /media/stick")
    return 0
