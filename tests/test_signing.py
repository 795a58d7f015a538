"""Signatures in minisign's formats, both ways against Debian's minisign: keys made
by either, encrypted or not, pre-hashed and legacy signatures, and tampering."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from helpers import CAMPAIGN, bundle_of, process_env, run_broadcast

from pipeline.layout import Layout

MINISIGN = shutil.which("minisign")


@pytest.mark.skipif(MINISIGN is None, reason="Debian's minisign is installed by scripts/test.sh")
def test_minisign_verifies_our_signature(bundled, keys, built, cli, tmp_path):
    project = built
    out = tmp_path / "signed"
    shutil.copytree(Layout(project).output_folder(CAMPAIGN, "ru", "usb"), out / "folder")
    from pipeline.distribute.bundle import make_bundle
    zip_path = out / "demo-ru-usb.zip"
    make_bundle(out / "folder", zip_path)
    from pipeline.distribute import signing
    secret = signing.load_secret(keys / "broadcast.key", None)
    signing.write_signature(zip_path, secret, "campaign:demo\tlocale:ru\tprofile:usb")
    proc = subprocess.run([MINISIGN, "-V", "-p", str(keys / "broadcast.pub"), "-m",
                           str(zip_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Trusted comment: campaign:demo\tlocale:ru\tprofile:usb" in proc.stdout
    result = cli("verify", zip_path, "--pubkey", keys / "broadcast.pub")
    assert result.code == 0 and "signed, trusted comment: campaign:demo" in result.out
    assert "timestamp" not in (Path(str(zip_path) + ".minisig")).read_text()


@pytest.mark.skipif(MINISIGN is None, reason="Debian's minisign is installed by scripts/test.sh")
def test_bundle_sign_command_with_an_encrypted_key(project, cli, monkeypatch, tmp_path):
    monkeypatch.setenv("BROADCAST_PASSPHRASE", "correct horse battery staple")
    assert cli("keygen", "--out", tmp_path / "k").code == 0
    key_text = (tmp_path / "k" / "broadcast.key").read_text()
    assert key_text.startswith("untrusted comment: minisign encrypted secret key")
    assert stat.S_IMODE((tmp_path / "k" / "broadcast.key").stat().st_mode) == 0o600
    assert cli("render", "--project", project, "--locale", "uk", "--profile", "usb",
               "--jobs", "2").code == 0
    result = cli("bundle", "--project", project, "--locale", "uk", "--profile", "usb",
                 "--sign", tmp_path / "k" / "broadcast.key", "--timestamp")
    assert result.code == 0 and "signed" in result.out
    zip_path = bundle_of(project, "uk", "usb")
    proc = subprocess.run([MINISIGN, "-V", "-p", str(tmp_path / "k" / "broadcast.pub"),
                           "-m", str(zip_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "campaign:demo\tlocale:uk\tprofile:usb\ttimestamp:" in proc.stdout
    # minisign itself decrypts our encrypted secret key and signs with it.
    other = tmp_path / "other.minisig"
    proc = subprocess.run([MINISIGN, "-S", "-s", str(tmp_path / "k" / "broadcast.key"),
                           "-m", str(zip_path), "-x", str(other), "-t", "by minisign"],
                          input="correct horse battery staple\n", capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    monkeypatch.setenv("BROADCAST_PASSPHRASE", "wrong")
    result = cli("bundle", "--project", project, "--locale", "uk", "--profile", "usb",
                 "--sign", tmp_path / "k" / "broadcast.key")
    assert result.code == 1 and "wrong passphrase" in result.err


@pytest.mark.skipif(MINISIGN is None, reason="Debian's minisign is installed by scripts/test.sh")
def test_broadcast_verify_accepts_minisign_signatures(bundled, tmp_path, cli):
    pub, sec = tmp_path / "m.pub", tmp_path / "m.key"
    subprocess.run([MINISIGN, "-G", "-W", "-p", str(pub), "-s", str(sec)], check=True,
                   capture_output=True)
    for legacy in (False, True):
        args = [MINISIGN, "-S", "-W", "-s", str(sec), "-m", str(bundled), "-t", "from minisign"]
        subprocess.run(args + (["-l"] if legacy else []), check=True, capture_output=True)
        result = cli("verify", bundled, "--pubkey", pub)
        assert result.code == 0, result.err
        assert "trusted comment: from minisign" in result.out
    # Another key does not verify it.
    subprocess.run([MINISIGN, "-G", "-W", "-f", "-p", str(tmp_path / "x.pub"), "-s",
                    str(tmp_path / "x.key")], check=True, capture_output=True)
    result = cli("verify", bundled, "--pubkey", tmp_path / "x.pub")
    assert result.code == 1 and "made with another key" in result.err


@pytest.mark.skipif(MINISIGN is None, reason="Debian's minisign is installed by scripts/test.sh")
@pytest.mark.parametrize("passphrase", [None, "a station's own passphrase"])
def test_keys_made_by_minisign_sign_bundles(project, cli, tmp_path, passphrase):
    """Debian's minisign key, unencrypted (-G -W: an all-zero checksum) or encrypted
    (scrypt) -> broadcast bundle --sign -> minisign -Vm and broadcast verify accept it."""
    pub, sec = tmp_path / "station.pub", tmp_path / "station.key"
    args = [MINISIGN, "-G", "-p", str(pub), "-s", str(sec)] + (["-W"] if passphrase is None else [])
    typed = f"{passphrase}\n{passphrase}\n" if passphrase else None
    subprocess.run(args, check=True, capture_output=True, text=True, input=typed)
    assert cli("render", "--project", project, "--locale", "uk", "--profile", "usb").code == 0
    env = process_env() | ({"BROADCAST_PASSPHRASE": passphrase} if passphrase else {})
    result = run_broadcast("bundle", "--project", project, "--locale", "uk", "--profile", "usb",
                           "--sign", sec, env=env)
    assert result.code == 0, result.err
    zip_path = bundle_of(project, "uk", "usb")
    proc = subprocess.run([MINISIGN, "-Vm", str(zip_path), "-p", str(pub)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "campaign:demo\tlocale:uk\tprofile:usb" in proc.stdout
    result = cli("verify", zip_path, "--pubkey", pub)
    assert result.code == 0 and "signed, trusted comment: campaign:demo" in result.out


def test_damaged_unencrypted_keys_are_refused(tmp_path):
    """A zero checksum is accepted only with a key whose two halves agree."""
    import base64

    from pipeline.distribute import signing
    from pipeline.errors import SignatureError
    _, text = signing.generate(None)
    comment, body = text.split("\n")[:2]
    raw = bytearray(base64.b64decode(body))
    raw[54 + 72:] = bytes(32)                        # minisign -W: zero checksum
    good = tmp_path / "good.key"
    good.write_text(f"{comment}\n{base64.b64encode(bytes(raw)).decode()}\n")
    assert signing.load_secret(good, None).key_id == bytes(raw[54:62])
    raw[54 + 8] ^= 1                                 # one bit of the seed flipped
    bad = tmp_path / "bad.key"
    bad.write_text(f"{comment}\n{base64.b64encode(bytes(raw)).decode()}\n")
    with pytest.raises(SignatureError, match="halves do not match"):
        signing.load_secret(bad, None)


def test_sign_verify_and_tamper_round_trip_without_minisign(bundled, keys, cli, tmp_path):
    """Our own signer and verifier agree, and any change to the zip, the signature or
    its trusted comment is caught (no minisign needed)."""
    from pipeline.distribute import signing
    secret = signing.load_secret(keys / "broadcast.key", None)
    signing.write_signature(bundled, secret, "campaign:demo\tlocale:ru\tprofile:usb")
    sig = Path(str(bundled) + ".minisig")
    result = cli("verify", bundled, "--pubkey", keys / "broadcast.pub")
    assert result.code == 0 and "trusted comment: campaign:demo\tlocale:ru" in result.out
    original_sig, original_zip = sig.read_bytes(), bundled.read_bytes()
    # A changed trusted comment, a changed signature byte, a changed zip.
    sig.write_bytes(original_sig.replace(b"locale:ru", b"locale:uk"))
    assert cli("verify", bundled, "--pubkey", keys / "broadcast.pub").code == 1
    lines = original_sig.split(b"\n")
    raw = bytearray(__import__("base64").b64decode(lines[1]))
    raw[-1] ^= 1
    lines[1] = __import__("base64").b64encode(bytes(raw))
    sig.write_bytes(b"\n".join(lines))
    assert cli("verify", bundled, "--pubkey", keys / "broadcast.pub").code == 1
    sig.write_bytes(original_sig)
    bundled.write_bytes(original_zip + b"\0")
    assert cli("verify", bundled, "--pubkey", keys / "broadcast.pub").code == 1
    # Another key pair does not verify it.
    assert cli("keygen", "--unencrypted", "--out", tmp_path / "other").code == 0
    bundled.write_bytes(original_zip)
    result = cli("verify", bundled, "--pubkey", tmp_path / "other" / "broadcast.pub")
    assert result.code == 1 and "signature" in result.err


def test_an_oversized_signature_file_is_not_read(bundled, keys, tmp_path):
    sig = Path(str(bundled) + ".minisig")
    with open(sig, "wb") as fh:
        fh.truncate(300 * 1024 ** 2)                  # a sparse 300 MiB file
    result = run_broadcast("verify", bundled, "--pubkey", keys / "broadcast.pub",
                           env=process_env())
    assert result.code == 1 and "larger than 4096 bytes" in result.out
