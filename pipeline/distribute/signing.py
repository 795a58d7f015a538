"""Ed25519 signatures in minisign's formats: key files, ``.minisig`` files, verification.

Signatures are made in minisign's pre-hashed mode ("ED": Ed25519 over the BLAKE2b-512 of
the file), so Debian's ``minisign -V`` verifies ours, and ``broadcast verify`` accepts
signatures made by ``minisign -S`` (pre-hashed or legacy). The secret key is encrypted as
minisign does it (scrypt, XOR, BLAKE2b checksum) unless explicitly left unencrypted.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SignatureError
from ..fsutil import atomic_write

# cryptography is imported where a key is used: a build that signs nothing does not pay
# for the import.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = ["CHK_ALG", "generate", "is_encrypted", "KDF_ALG", "KDF_NONE", "load_public",
           "load_secret", "MAX_SIGNATURE", "MEMLIMIT", "OPSLIMIT", "PublicKey", "SecretKey",
           "SIG_ALG", "SIG_ALG_HASHED", "sign", "signature_of", "verify", "write_signature"]

SIG_ALG = b"Ed"
SIG_ALG_HASHED = b"ED"
KDF_ALG = b"Sc"
KDF_NONE = b"\x00\x00"
CHK_ALG = b"B2"
# libsodium's crypto_pwhash_scryptsalsa208sha256 "sensitive" limits, as minisign uses.
OPSLIMIT = 33554432
MEMLIMIT = 1073741824


@dataclass(frozen=True)
class PublicKey:
    key_id: bytes                # 8 bytes, little-endian as in the files
    key: Ed25519PublicKey

    @property
    def id_hex(self) -> str:
        return f"{struct.unpack('<Q', self.key_id)[0]:016X}"


@dataclass(frozen=True)
class SecretKey:
    key_id: bytes
    key: Ed25519PrivateKey

    def public(self) -> PublicKey:
        return PublicKey(self.key_id, self.key.public_key())


def _raw_public(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _raw_seed(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


def _scrypt_params(opslimit: int, memlimit: int) -> tuple[int, int, int]:
    """libsodium's pickparams(): (N, r, p) from opslimit and memlimit."""
    opslimit = max(opslimit, 32768)
    r = 8
    if opslimit < memlimit // 32:
        p = 1
        max_n = opslimit // (r * 4)
        n_log2 = 1
        while n_log2 < 63 and (1 << n_log2) <= max_n // 2:
            n_log2 += 1
    else:
        max_n = memlimit // (r * 128)
        n_log2 = 1
        while n_log2 < 63 and (1 << n_log2) <= max_n // 2:
            n_log2 += 1
        max_rp = min((opslimit // 4) // (1 << n_log2), 0x3FFFFFFF)
        p = max(1, max_rp // r)
    return 1 << n_log2, r, p


def _stream(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    n, r, p = _scrypt_params(opslimit, memlimit)
    return hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=128 * r * n + 2 ** 24, dklen=104)


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _b2(*parts: bytes, size: int = 32) -> bytes:
    h = hashlib.blake2b(digest_size=size)
    for part in parts:
        h.update(part)
    return h.digest()


# --- keys ----------------------------------------------------------------------------------------

def generate(passphrase: str | None) -> tuple[str, str]:
    """A new key pair as (public key file text, secret key file text).

    ``passphrase=None`` leaves the secret key unencrypted (minisign -W).
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key = Ed25519PrivateKey.generate()
    key_id = os.urandom(8)
    pk = _raw_public(key.public_key())
    sk = _raw_seed(key) + pk
    chk = _b2(SIG_ALG, key_id, sk)
    keynum_sk = key_id + sk + chk
    salt = os.urandom(32)
    if passphrase is None:
        kdf, ops, mem = KDF_NONE, 0, 0
    else:
        kdf, ops, mem = KDF_ALG, OPSLIMIT, MEMLIMIT
        keynum_sk = _xor(keynum_sk, _stream(passphrase, salt, ops, mem))
    secret = SIG_ALG + kdf + CHK_ALG + salt + struct.pack("<QQ", ops, mem) + keynum_sk
    public = PublicKey(key_id, key.public_key())
    pub_text = (f"untrusted comment: minisign public key {public.id_hex}\n"
                f"{base64.b64encode(SIG_ALG + key_id + pk).decode()}\n")
    sec_text = ("untrusted comment: minisign " + ("encrypted " if passphrase else "") +
                f"secret key\n{base64.b64encode(secret).decode()}\n")
    return pub_text, sec_text


def _payload(path: Path, what: str) -> bytes:
    try:
        lines = Path(path).read_text(encoding="utf-8").strip().split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise SignatureError(f"cannot read the {what}: {exc}", path,
                             fix=f"give the path of a minisign {what} file") from None
    if len(lines) < 2 or not lines[0].startswith("untrusted comment:"):
        raise SignatureError(f"not a minisign {what} file", path, 1,
                             fix="the first line must be 'untrusted comment: …'")
    try:
        return base64.b64decode(lines[1].strip(), validate=True)
    except ValueError:
        raise SignatureError(f"the {what} is not valid base64", path, 2,
                             fix=f"restore the {what} file from its original") from None


def load_public(path: Path) -> PublicKey:
    raw = _payload(path, "public key")
    if len(raw) != 42 or raw[:2] != SIG_ALG:
        raise SignatureError("not an Ed25519 minisign public key", path, 2,
                             fix="use the .pub file written by broadcast keygen or minisign -G")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    return PublicKey(raw[2:10], Ed25519PublicKey.from_public_bytes(raw[10:42]))


def is_encrypted(path: Path) -> bool:
    """Whether a minisign secret key file needs a passphrase."""
    raw = _payload(path, "secret key")
    return raw[2:4] == KDF_ALG


def load_secret(path: Path, passphrase: str | None) -> SecretKey:
    raw = _payload(path, "secret key")
    if len(raw) != 158 or raw[:2] != SIG_ALG or raw[4:6] != CHK_ALG:
        raise SignatureError("not an Ed25519 minisign secret key", path, 2,
                             fix="use the .key file written by broadcast keygen or minisign -G")
    kdf, salt = raw[2:4], raw[6:38]
    ops, mem = struct.unpack("<QQ", raw[38:54])
    keynum_sk = raw[54:158]
    if kdf == KDF_ALG:
        if not (0 < ops <= OPSLIMIT and 0 < mem <= MEMLIMIT):
            raise SignatureError("the secret key asks for scrypt limits beyond minisign's", path, 2,
                                 fix="re-create the key with broadcast keygen or minisign -G")
        if passphrase is None:
            raise SignatureError("the secret key is encrypted", path,
                                 fix="give its passphrase (BROADCAST_PASSPHRASE or the prompt)")
        keynum_sk = _xor(keynum_sk, _stream(passphrase, salt, ops, mem))
    elif kdf != KDF_NONE:
        raise SignatureError("unknown key derivation in the secret key", path, 2,
                             fix="re-create the key with broadcast keygen")
    key_id, sk, chk = keynum_sk[:8], keynum_sk[8:72], keynum_sk[72:104]
    def damaged(why: str) -> SignatureError:
        if kdf == KDF_ALG:
            return SignatureError("wrong passphrase, or a damaged secret key", path,
                                  fix="check the passphrase")
        return SignatureError(f"the secret key is damaged ({why})", path, 2,
                              fix="restore the key file from its backup")

    # minisign 0.11 writes an all-zero checksum into the keys it leaves unencrypted
    # (-G -W) and signs with them. Every key's own consistency is checked: its seed must
    # give its public half.
    unchecked = kdf == KDF_NONE and chk == bytes(32)
    if not unchecked and _b2(SIG_ALG, key_id, sk) != chk:
        raise damaged("its checksum does not match")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key = Ed25519PrivateKey.from_private_bytes(sk[:32])
    if _raw_public(key.public_key()) != sk[32:64]:
        raise damaged("its two halves do not match")
    return SecretKey(key_id, key)


# --- signatures ------------------------------------------------------------------------------------

def _file_hash(path: Path) -> bytes:
    h = hashlib.blake2b(digest_size=64)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.digest()


def sign(path: Path, secret: SecretKey, trusted_comment: str) -> str:
    """The text of ``<path>.minisig`` (pre-hashed mode)."""
    if "\n" in trusted_comment or "\r" in trusted_comment:
        raise SignatureError("a trusted comment must be one line", path,
                             fix="remove line breaks from it")
    signature = secret.key.sign(_file_hash(path))
    global_sig = secret.key.sign(signature + trusted_comment.encode("utf-8"))
    return (f"untrusted comment: signature from broadcast secret key "
            f"{secret.public().id_hex}\n"
            f"{base64.b64encode(SIG_ALG_HASHED + secret.key_id + signature).decode()}\n"
            f"trusted comment: {trusted_comment}\n"
            f"{base64.b64encode(global_sig).decode()}\n")


def signature_of(path: Path) -> Path:
    """Where a file's minisign signature lies: beside it, ``<file>.minisig``."""
    return Path(str(path) + ".minisig")


def write_signature(path: Path, secret: SecretKey, trusted_comment: str) -> Path:
    out = signature_of(path)
    atomic_write(out, sign(path, secret, trusted_comment).encode("utf-8"))
    return out


MAX_SIGNATURE = 4096        # a .minisig is four lines, well under 1 KiB with its comments


def verify(path: Path, signature_path: Path, public: PublicKey) -> str:
    """Check ``signature_path`` over ``path``; the trusted comment if valid, else an error."""
    try:
        if Path(signature_path).stat().st_size > MAX_SIGNATURE:
            raise SignatureError(f"the signature file is larger than {MAX_SIGNATURE} bytes",
                                 signature_path, fix="restore the .minisig file from its original")
        lines = Path(signature_path).read_text(encoding="utf-8").rstrip("\n").split("\n")
    except FileNotFoundError:
        raise SignatureError("the signature is missing", signature_path,
                             fix="sign the bundle with broadcast bundle --sign KEY") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SignatureError(f"cannot read the signature: {exc}", signature_path,
                             fix="restore the .minisig file") from None
    if len(lines) < 4 or not lines[2].startswith("trusted comment: "):
        raise SignatureError("malformed signature file", signature_path,
                             fix="restore the .minisig file from its original")
    try:
        raw = base64.b64decode(lines[1], validate=True)
        global_sig = base64.b64decode(lines[3], validate=True)
    except ValueError:
        raise SignatureError("the signature is not valid base64", signature_path,
                             fix="restore the .minisig file from its original") from None
    if len(raw) != 74 or raw[:2] not in (SIG_ALG, SIG_ALG_HASHED):
        raise SignatureError("not an Ed25519 minisign signature", signature_path, 2,
                             fix="restore the .minisig file from its original")
    if raw[2:10] != public.key_id:
        raise SignatureError("the signature was made with another key", signature_path, 2,
                             fix=f"verify with the public key {struct.unpack('<Q', raw[2:10])[0]:016X}")
    from cryptography.exceptions import InvalidSignature
    data = _file_hash(path) if raw[:2] == SIG_ALG_HASHED else Path(path).read_bytes()
    trusted = lines[2][len("trusted comment: "):]
    try:
        public.key.verify(raw[10:74], data)
    except InvalidSignature:
        raise SignatureError("the signature does not match the file: it was altered", path,
                             fix="do not use this bundle; fetch it again from its source") from None
    try:
        public.key.verify(global_sig, raw[10:74] + trusted.encode("utf-8"))
    except InvalidSignature:
        raise SignatureError("the trusted comment was altered", signature_path, 3,
                             fix="do not use this bundle; fetch it again from its source") from None
    return trusted
