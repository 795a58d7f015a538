"""Bundles, signatures (against Debian's minisign), verification, USB media, review pages."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import copy_project, process_env, run_broadcast

MINISIGN = shutil.which("minisign")


def bundle_of(root: Path, locale: str = "ru", profile: str = "usb") -> Path:
    return root / "audio_out" / "bundles" / f"demo-{locale}-{profile}.zip"


@pytest.fixture
def bundled(built, tmp_path) -> Path:
    """A copy of the built example's ru/usb bundle, free to tamper with."""
    src = bundle_of(built)
    dest = tmp_path / src.name
    shutil.copy(src, dest)
    return dest


@pytest.fixture
def keys(tmp_path, cli) -> Path:
    out = tmp_path / "keys"
    assert cli("keygen", "--unencrypted", "--out", out).code == 0
    return out


def test_build_ends_with_deterministic_bundles(built, tmp_path, cli):
    names = sorted(p.name for p in (built / "audio_out" / "bundles").glob("*.zip"))
    assert names == sorted(f"demo-{l}-{p}.zip" for l in ("ko_KP", "ru", "uk")
                           for p in ("radio", "usb", "shortwave"))
    with zipfile.ZipFile(bundle_of(built)) as zf:
        members = zf.namelist()
        assert members == sorted(members)
        assert {"SHA256SUMS", "manifest.json", "playlist.m3u8", "index.html",
                "01-ident.mp3", "01-ident.txt", "programs/evening.mp3"} <= set(members)
        for info in zf.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert stat.S_IMODE(info.external_attr >> 16) == 0o644
        transcript = zf.read("01-ident.txt").decode("utf-8")
        assert transcript.startswith("Позывные станции\n\n") and "7.2" in transcript
    # A second, independent build gives byte-identical zips.
    other = copy_project(tmp_path / "again")
    assert cli("build", "--project", other, "--locale", "uk", "--jobs", "2").code == 0
    for profile in ("radio", "usb", "shortwave"):
        assert bundle_of(other, "uk", profile).read_bytes() == \
            bundle_of(built, "uk", profile).read_bytes()


def test_zip_times_follow_source_date_epoch(built, tmp_path, monkeypatch):
    from pipeline.distribute.bundle import make_bundle
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    out = tmp_path / "b.zip"
    make_bundle(built / "audio_out" / "demo" / "uk" / "radio", out)
    with zipfile.ZipFile(out) as zf:
        assert zf.infolist()[0].date_time[:3] == (2023, 11, 14)


def test_a_member_that_differs_from_its_sum_stops_the_bundle(built, tmp_path):
    """Members are hashed once, as they are zipped: a file that differs from SHA256SUMS
    stops the bundle and leaves nothing behind; an up-to-date zip is left as it is, and
    audio is stored, text deflated."""
    from pipeline.distribute.bundle import make_bundle
    from pipeline.errors import BundleError
    folder = shutil.copytree(built / "audio_out" / "demo" / "uk" / "usb", tmp_path / "usb")
    out = tmp_path / "b.zip"
    assert make_bundle(folder, out) is True
    assert make_bundle(folder, out) is False
    with zipfile.ZipFile(out) as zf:
        kinds = {i.filename.rsplit(".", 1)[-1]: i.compress_type for i in zf.infolist()}
    assert kinds["mp3"] == zipfile.ZIP_STORED and kinds["json"] == zipfile.ZIP_DEFLATED
    message = next(folder.glob("*.mp3"))
    data = bytearray(message.read_bytes())
    data[-1] ^= 0xFF                                    # the same size, another byte
    message.write_bytes(bytes(data))
    out.unlink()
    with pytest.raises(BundleError, match="differs from SHA256SUMS"):
        make_bundle(folder, out)
    assert list(tmp_path.glob("b.zip*")) == [] and not list(tmp_path.glob(".b.zip*"))


def test_a_build_copies_the_audio_it_checked_without_reading_it(built, tmp_path, cli,
                                                                monkeypatch):
    """The audio files a build's render checked (in its cache, which the output folders
    link to) go into the bundles by the kernel's copy, unread: the same bytes as a bundle
    that reads and hashes every member."""
    from pipeline.distribute import bundle
    root = shutil.copytree(built, tmp_path / "copy", copy_function=os.link)
    for old in (root / "audio_out" / "bundles").glob("demo-ru-*.zip"):
        old.unlink()
    copied, real = [], bundle._copy_stored
    monkeypatch.setattr(bundle, "_copy_stored", lambda zf, info, path, crc: (
        copied.append(path), real(zf, info, path, crc)))
    assert cli("build", "--project", root, "--locale", "ru", "--jobs", "1").code == 0
    for profile in ("radio", "usb", "shortwave"):
        folder = root / "audio_out" / "demo" / "ru" / profile
        audio = sorted(p for p in folder.rglob("*") if p.suffix in (".wav", ".mp3"))
        assert audio and set(audio) <= set(copied)
        streamed = tmp_path / f"{profile}.zip"
        assert bundle.make_bundle(folder, streamed) is True
        assert bundle_of(root, "ru", profile).read_bytes() == streamed.read_bytes() \
            == bundle_of(built, "ru", profile).read_bytes()
    assert len(copied) == sum(1 for p in copied if p.suffix in (".wav", ".mp3"))


def checked_audio(folder: Path) -> dict:
    """The digests of a folder's audio files as a render would hand them to its bundle."""
    from pipeline.fsutil import Checked, digests_of_file
    checked = {}
    for path in folder.rglob("*"):
        if path.suffix in (".wav", ".mp3"):
            st = path.stat()
            checked[path.relative_to(folder).as_posix()] = Checked(
                st.st_size, st.st_mtime_ns, st.st_ino, *digests_of_file(path))
    return checked


def test_where_the_kernel_cannot_copy_the_bytes_are_read_and_written(built, tmp_path,
                                                                      monkeypatch):
    """Without copy_file_range (another system, or two file systems it cannot join), a
    checked file is copied by reads and writes: the same bytes."""
    import errno

    from pipeline.distribute.bundle import make_bundle

    def refuse(*args):
        raise OSError(errno.EXDEV, "Invalid cross-device link")
    monkeypatch.setattr(os, "copy_file_range", refuse)
    folder = built / "audio_out" / "demo" / "ru" / "radio"
    assert make_bundle(folder, tmp_path / "a.zip", checked_audio(folder)) is True
    assert (tmp_path / "a.zip").read_bytes() == bundle_of(built, "ru", "radio").read_bytes()


def test_a_checked_file_that_changed_since_is_read_and_hashed(built, tmp_path):
    """A file whose size, time or inode moved since its digests were checked is not
    copied on their word: it is read and hashed, and a change stops the bundle."""
    from pipeline.distribute.bundle import make_bundle
    from pipeline.errors import BundleError
    folder = shutil.copytree(built / "audio_out" / "demo" / "ru" / "usb", tmp_path / "usb")
    checked = checked_audio(folder)
    assert make_bundle(folder, tmp_path / "a.zip", checked) is True
    assert (tmp_path / "a.zip").read_bytes() == bundle_of(built, "ru", "usb").read_bytes()
    message = next(folder.glob("*.mp3"))
    before = message.stat()
    data = bytearray(message.read_bytes())
    data[-1] ^= 0xFF                                    # the same size, another byte
    message.write_bytes(bytes(data))
    os.utime(message, ns=(before.st_atime_ns, before.st_mtime_ns + 10 ** 9))
    with pytest.raises(BundleError, match="differs from SHA256SUMS"):
        make_bundle(folder, tmp_path / "b.zip", checked)


def test_verify_accepts_an_intact_bundle(bundled, cli):
    result = cli("verify", bundled)
    assert result.code == 0, result.err
    assert "members match SHA256SUMS and the manifest" in result.out
    assert "not signed" in result.out


@pytest.mark.skipif(MINISIGN is None, reason="Debian's minisign is installed by scripts/test.sh")
def test_minisign_verifies_our_signature(bundled, keys, built, cli, tmp_path):
    project = built
    out = tmp_path / "signed"
    shutil.copytree(project / "audio_out" / "demo" / "ru" / "usb", out / "folder")
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


def _rewrite(path: Path, change) -> None:
    """Rebuild the zip with ``change(name, data) -> [(name, data), ...]`` per member."""
    with zipfile.ZipFile(path) as zf:
        items = [(i.filename, zf.read(i)) for i in zf.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in items:
            for new_name, new_data in change(name, data):
                zf.writestr(new_name, new_data)
    path.write_bytes(buf.getvalue())


def _members(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def test_verify_rejects_a_flipped_byte_in_any_member(bundled, cli, tmp_path):
    for member in _members(bundled):
        if member == "SHA256SUMS":
            continue
        copy = tmp_path / "flip.zip"
        shutil.copy(bundled, copy)

        def flip(name, data, member=member):
            if name == member:
                data = bytes([data[0] ^ 1]) + data[1:]
            return [(name, data)]
        _rewrite(copy, flip)
        result = cli("verify", copy)
        assert result.code == 1, member
        assert f"member '{member}' was altered" in result.out + result.err


def test_verify_rejects_raw_corruption_of_the_zip(bundled, cli):
    data = bytearray(bundled.read_bytes())
    with zipfile.ZipFile(bundled) as zf:
        info = zf.getinfo("01-ident.mp3")
    data[info.header_offset + 30 + len(info.filename) + 200] ^= 0xFF
    bundled.write_bytes(bytes(data))
    result = cli("verify", bundled)
    assert result.code == 1 and "member '01-ident.mp3' is corrupt" in result.out + result.err


@pytest.mark.parametrize("case, change, expected", [
    ("removed", lambda n, d: [] if n == "02-not-alone.mp3" else [(n, d)],
     "member '02-not-alone.mp3' listed in SHA256SUMS is missing"),
    ("added", lambda n, d: [(n, d), ("10-extra.mp3", d)] if n == "01-ident.mp3" else [(n, d)],
     "member '10-extra.mp3' is not listed in SHA256SUMS (added)"),
    ("renamed", lambda n, d: [("01-intro.mp3" if n == "01-ident.mp3" else n, d)],
     "member '01-ident.mp3' was renamed to '01-intro.mp3'"),
])
def test_verify_rejects_missing_added_and_renamed_members(bundled, cli, case, change, expected):
    _rewrite(bundled, change)
    result = cli("verify", bundled)
    assert result.code == 1
    assert expected in result.out + result.err
    assert "do not use this bundle" in result.out + result.err


def _crafted(path: Path, name: str, link: bool = False) -> None:
    with zipfile.ZipFile(path, "a") as zf:
        info = zipfile.ZipInfo(name)
        if link:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, b"/etc/passwd" if link else b"evil")


@pytest.mark.parametrize("name, link, expected", [
    ("../evil.mp3", False, "has a '..'"),
    ("programs/../../evil.mp3", False, "has a '..'"),
    ("/tmp/evil.mp3", False, "has an absolute path"),
    ("01-link.mp3", True, "is a symbolic link"),
    ("autorun.inf", False, "has a name outside the allowed pattern"),
    ("01 ident.mp3", False, "has a name outside the allowed pattern"),
])
def test_unsafe_members_are_refused_by_verify_and_usb(bundled, cli, tmp_path, name, link,
                                                     expected):
    _crafted(bundled, name, link)
    result = cli("verify", bundled)
    assert result.code == 1
    assert f"member '{name}' {expected}" in result.out + result.err
    dest = tmp_path / "stick"
    dest.mkdir()
    result = cli("usb", bundled, dest)
    assert result.code == 1 and f"member '{name}'" in result.out + result.err
    assert list(dest.iterdir()) == []
    assert not (tmp_path / "evil.mp3").exists()


def test_usb_copies_in_play_order_and_verifies(bundled, cli, tmp_path):
    dest = tmp_path / "stick"
    dest.mkdir()
    result = cli("usb", bundled, dest)
    assert result.code == 0, result.err
    with zipfile.ZipFile(bundled) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        in_bundle = [e["file"] for e in manifest["files"] if e["kind"] == "message"]
        # Names say nothing: an index in play order, no id, no title.
        expected = [f"{i:02d}.mp3" for i in range(1, len(in_bundle) + 1)]
        for name, member in zip(expected, in_bundle, strict=True):
            assert (dest / name).read_bytes() == zf.read(member)
    assert sorted(p.name for p in dest.iterdir()) == expected
    assert all(p.suffix == ".mp3" for p in dest.iterdir())     # no manifest, page or text
    result = cli("usb", bundled, dest)
    assert result.code == 1 and "already exists on the stick" in result.err
    assert cli("usb", bundled, dest, "--overwrite").code == 0


def test_usb_checks_free_space(bundled, cli, tmp_path, monkeypatch):
    dest = tmp_path / "stick"
    dest.mkdir()
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10, 9, 1))
    result = cli("usb", bundled, dest)
    assert result.code == 1 and "not enough free space" in result.err
    assert list(dest.iterdir()) == []


def _mtools(*args: str) -> str:
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1", TZ="UTC")
    return subprocess.run(list(args), capture_output=True, text=True, check=True,
                          env=env).stdout


@pytest.mark.skipif(shutil.which("mdir") is None, reason="mtools is installed by scripts/test.sh")
def test_fat32_image_in_play_order_with_no_identifying_data(bundled, cli, tmp_path):
    image = tmp_path / "stick.img"
    result = cli("usb", bundled, "--image", image, "--size", "64M")
    assert result.code == 0, result.err
    listing = _mtools("mdir", "-i", str(image), "::/")
    with zipfile.ZipFile(bundled) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        in_bundle = [e["file"] for e in manifest["files"] if e["kind"] == "message"]
        words = {w.lower() for e in manifest["files"] for w in re.findall(
            r"[^\W\d_]+", e["id"] + " " + e["title"] + " " + e["text"])}
        expected = [f"{i:02d}.mp3" for i in range(1, len(in_bundle) + 1)]
        rows = [line for line in listing.split("\n") if line[:2].isdigit()]
        names = [f"{row.split()[0]}.{row.split()[1]}".lower() for row in rows]
        assert names == expected                        # mdir shows play order
        assert all(n.split(".")[0].isdigit() for n in names)
        assert not words & {w.lower() for w in re.findall(r"[^\W\d_]+", listing)
                            if w.lower() not in ("mp", "volume", "in", "drive", "has", "no",
                                                 "label", "serial", "number", "is", "directory",
                                                 "for", "files", "bytes", "free", "name")}
        assert all("1980-01-01" in row for row in rows)  # fixed times
        back = tmp_path / "back"
        back.mkdir()
        for name, member in zip(expected, in_bundle, strict=True):
            _mtools("mcopy", "-i", str(image), f"::/{name}", str(back / name))
            assert (back / name).read_bytes() == zf.read(member)
    assert "has no label" in listing or "NO NAME" in listing
    assert image.stat().st_size == 64 * 1024 * 1024
    # The serial number is random each time, unless --reproducible.
    again = tmp_path / "again.img"
    assert cli("usb", bundled, "--image", again, "--size", "64M").code == 0
    serial = lambda p: p.read_bytes()[0x43:0x47]
    assert serial(image) != serial(again)
    r1, r2 = tmp_path / "r1.img", tmp_path / "r2.img"
    for path in (r1, r2):
        assert cli("usb", bundled, "--image", path, "--size", "64M", "--reproducible").code == 0
    assert r1.read_bytes() == r2.read_bytes()
    assert serial(r1) != bytes.fromhex("1234ABCD")[::-1]


def test_image_refuses_a_tampered_bundle(bundled, cli, tmp_path):
    _rewrite(bundled, lambda n, d: [] if n == "03-rights.mp3" else [(n, d)])
    result = cli("usb", bundled, "--image", tmp_path / "x.img")
    assert result.code == 1 and "verification failed" in result.err
    assert not (tmp_path / "x.img").exists()


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


# --- hostile bundles and destinations ------------------------------------------------------

def _one_line_error(result, code: int = 1) -> str:
    assert result.code == code, result
    lines = result.err.strip().split("\n")
    assert len(lines) == 1 and "Traceback" not in result.err and "internal error" not in result.err
    return lines[0]


def test_a_zip_bomb_is_refused_before_it_is_read(bundled, tmp_path):
    for name in ("01-ident.mp3", "programs/"):
        bomb = tmp_path / f"bomb{len(name)}.zip"
        shutil.copy(bundled, bomb)
        with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("x.mp3" if name == "01-ident.mp3" else name, bytes(64 * 1024 * 1024))
        for command in (["verify", bomb], ["usb", bomb, tmp_path]):
            line = _one_line_error(run_broadcast(*command, env=process_env()))
            assert "refusing the bundle" in line


def _with_manifest(bundled: Path, manifest: bytes) -> None:
    def change(name, data):
        return [(name, manifest if name == "manifest.json" else data)]
    _rewrite(bundled, change)


@pytest.mark.parametrize("manifest", [b"[]", b'{"files": {}}',
                                      b'{"campaign": "demo", "locale": "ru", "profile": {}, '
                                      b'"files": [{"file": null}]}',
                                      b'{"campaign": "demo", "locale": "ru", "profile": {}, '
                                      b'"files": [{"file": "01-ident.mp3", "id": "ident"}]}'])
def test_malformed_manifests_inside_a_bundle_are_one_line(bundled, tmp_path, manifest):
    _with_manifest(bundled, manifest)
    for command in (["verify", bundled], ["usb", bundled, tmp_path]):
        line = _one_line_error(run_broadcast(*command, env=process_env()))
        assert "manifest.json" in line and "malformed" in line


def test_names_that_differ_only_by_case_cannot_clash_on_fat(bundled, tmp_path):
    """Names on a stick are indexes, not the bundle's names: members that differ only by
    case become 01.mp3 and 02.mp3."""
    with zipfile.ZipFile(bundled) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(members["manifest.json"])
    twin = dict(manifest["files"][0], file="01-IDENT.mp3")
    manifest["files"].insert(1, twin)
    members["01-IDENT.mp3"] = members["01-ident.mp3"]
    members["manifest.json"] = json.dumps(manifest).encode()
    members["playlist.m3u8"] = members["playlist.m3u8"].replace(
        b"01-ident.mp3\n", b"01-ident.mp3\n#EXTINF:1,twin\n01-IDENT.mp3\n")
    members["SHA256SUMS"] = "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n"
                                    for n, d in sorted(members.items())
                                    if n != "SHA256SUMS").encode()
    with zipfile.ZipFile(bundled, "w") as zf:
        for name, data in sorted(members.items()):
            zf.writestr(name, data)
    result = run_broadcast("usb", bundled, "--image", tmp_path / "s.img", env=process_env())
    assert result.code == 0, result.err
    listing = _mtools("mdir", "-b", "-i", str(tmp_path / "s.img"), "::/")
    assert "::/01.MP3" in listing.upper() and "::/02.MP3" in listing.upper()
    assert "IDENT" not in listing.upper()


def test_an_absurd_image_size_is_one_line(bundled, tmp_path):
    for size, says in (("999999G", "more than a FAT32 stick image should be"),
                       ("12 parsecs", "is not understood"), ("1K", "too small")):
        line = _one_line_error(run_broadcast("usb", bundled, "--image", tmp_path / "s.img",
                                             "--size", size, env=process_env()))
        assert says in line
    assert not (tmp_path / "s.img").exists()


@pytest.mark.skipif(shutil.which("unshare") is None, reason="util-linux's unshare")
def test_a_read_only_stick_is_one_line(bundled, tmp_path):
    stick = tmp_path / "stick"
    stick.mkdir()
    import sys
    script = (f"mount --bind '{stick}' '{stick}' && mount -o remount,bind,ro '{stick}' "
              f"'{stick}' && exec '{sys.executable}' -m pipeline usb '{bundled}' '{stick}'")
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True,
                          text=True, env=process_env())
    assert proc.returncode == 1, proc.stderr
    assert "Read-only file system" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().split("\n")) == 1
    assert not any(stick.iterdir())


def test_transcripts_go_on_a_stick_only_when_asked(bundled, tmp_path):
    dest = tmp_path / "stick"
    dest.mkdir()
    result = run_broadcast("usb", bundled, dest, "--with-transcripts", env=process_env())
    assert result.code == 0, result.err
    with zipfile.ZipFile(bundled) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        messages = [e["file"] for e in manifest["files"] if e["kind"] == "message"]
        for index, member in enumerate(messages, 1):
            assert (dest / f"{index:02d}.txt").read_bytes() == \
                zf.read(member.rsplit(".", 1)[0] + ".txt")
    assert sorted(p.suffix for p in dest.iterdir()) == [".mp3"] * len(messages) + \
        [".txt"] * len(messages)


def test_a_title_tag_never_reaches_a_stick():
    """A profile with title_tag writes an ID3 title into the bundle's MP3s; the stick gets
    the same audio without it."""
    import numpy as np

    from pipeline.audio.codec import encode_mp3
    from pipeline.audio.dsp import Audio
    from pipeline.distribute.media import strip_id3
    t = np.arange(44100) / 44100
    tone = Audio((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 44100)
    tagged, plain = encode_mp3(tone, 128, "Права военнопленного"), encode_mp3(tone, 128)
    assert tagged.startswith(b"ID3") and "Права".encode("utf-8") in tagged
    assert strip_id3(tagged) == plain
    assert strip_id3(plain) == plain


# --- sticks and images never write where they must not ---------------------------------------

def test_a_link_on_the_stick_is_never_written_through(bundled, tmp_path):
    stick = tmp_path / "stick"
    stick.mkdir()
    outside = tmp_path / "outside"
    (stick / "01.mp3").symlink_to("../outside")                 # dangling
    for extra in ((), ("--overwrite",)):
        result = run_broadcast("usb", bundled, stick, *extra, env=process_env())
        assert "'01.mp3' on the stick is a link" in _one_line_error(result)
        assert not outside.exists()
    outside.write_bytes(b"precious")
    result = run_broadcast("usb", bundled, stick, "--overwrite", env=process_env())
    assert result.code == 1 and outside.read_bytes() == b"precious"


def test_an_image_never_replaces_a_file_it_did_not_make(bundled, tmp_path):
    doc = tmp_path / "report.docx"
    doc.write_bytes(b"PK\x03\x04 a document")
    result = run_broadcast("usb", bundled, "--image", doc, env=process_env())
    assert "--overwrite" in _one_line_error(result)
    assert doc.read_bytes() == b"PK\x03\x04 a document"
    image = tmp_path / "stick.img"
    assert run_broadcast("usb", bundled, "--image", image, env=process_env()).code == 0
    first = image.read_bytes()
    # its own image is replaced (a new serial), and with --overwrite anything is
    assert run_broadcast("usb", bundled, "--image", image, env=process_env()).code == 0
    assert image.read_bytes() != first
    assert run_broadcast("usb", bundled, "--image", doc, "--overwrite",
                         env=process_env()).code == 0
    assert doc.read_bytes()[3:11] == b"mkfs.fat"
    assert "is not signed" in run_broadcast("usb", bundled, "--image", image,
                                            env=process_env()).out


def test_a_killed_image_writes_work_folder_is_removed_by_the_next(bundled, tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = tmp_path / f".image-{dead.pid}-abc"
    orphan.mkdir()
    (orphan / "image.img").write_bytes(b"\0" * 1024)
    alive = tmp_path / f".image-{os.getpid()}-def"         # a write still running: kept
    alive.mkdir()
    assert run_broadcast("usb", bundled, "--image", tmp_path / "s.img",
                         env=process_env()).code == 0
    assert not orphan.exists() and alive.exists()


def test_a_size_of_zero_is_refused(bundled, tmp_path):
    result = run_broadcast("usb", bundled, "--image", tmp_path / "s.img", "--size", "0",
                           env=process_env())
    assert "size '0' is not understood" in result.err and result.code in (1, 2)


def test_verify_streams_members_in_flat_memory(tmp_path):
    """A member of 200 MiB is hashed as it is read, never held: the process's peak memory
    stays far below the member's size (it held every member whole before)."""
    big = tmp_path / "big.zip"
    block = os.urandom(1 << 20)
    with zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as zf:
        with zf.open(zipfile.ZipInfo("01-ident.mp3"), "w", force_zip64=True) as fh:
            for _ in range(200):
                fh.write(block)
        zf.writestr("SHA256SUMS", "")
    code = ("import resource, subprocess, sys\n"
            "subprocess.run([sys.executable, '-m', 'pipeline', 'verify', sys.argv[1]],"
            " capture_output=True)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)\n")
    peak_mib = int(subprocess.run([sys.executable, "-c", code, str(big)], capture_output=True,
                                  text=True, env=process_env(), check=True).stdout)
    assert peak_mib < 150, peak_mib


def test_verify_checks_the_playlist_order_and_refuses_absurd_member_counts(bundled, tmp_path):
    with zipfile.ZipFile(bundled) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    lines = members["playlist.m3u8"].decode().split("\n")
    files = [i for i, line in enumerate(lines) if line and not line.startswith("#")]
    lines[files[0]], lines[files[1]] = lines[files[1]], lines[files[0]]
    members["playlist.m3u8"] = "\n".join(lines).encode()
    sums = "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in sorted(members.items())
                   if n != "SHA256SUMS")
    members["SHA256SUMS"] = sums.encode()
    swapped = tmp_path / "swapped.zip"
    with zipfile.ZipFile(swapped, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    result = run_broadcast("verify", swapped, env=process_env())
    assert result.code == 1 and "does not play the manifest's files in its order" in result.out
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(10_001):
            zf.writestr(f"{i}.txt", b"")
    result = run_broadcast("verify", many, env=process_env())
    assert result.code == 1 and "more than 10000" in result.err


def test_an_oversized_signature_file_is_not_read(bundled, keys, tmp_path):
    sig = Path(str(bundled) + ".minisig")
    with open(sig, "wb") as fh:
        fh.truncate(300 * 1024 ** 2)                  # a sparse 300 MiB file
    result = run_broadcast("verify", bundled, "--pubkey", keys / "broadcast.pub",
                           env=process_env())
    assert result.code == 1 and "larger than 4096 bytes" in result.out
