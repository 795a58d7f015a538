"""Bundles: deterministic zips of output folders, copied unread where the render checked
them, and their verification (streamed; hostile members, manifests and sizes refused)."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import (
    CAMPAIGN,
    bundle_members,
    bundle_of,
    copy_project,
    one_line_error,
    process_env,
    rewrite_bundle,
    run_broadcast,
)

from pipeline.layout import Layout


def test_build_ends_with_deterministic_bundles(built, tmp_path, cli):
    names = sorted(p.name for p in (Layout(built).out_dir / "bundles").glob("*.zip"))
    assert names == sorted(f"demo-{l}-{p}.zip" for l in ("ko_KP", "ru", "uk")
                           for p in ("radio", "usb", "shortwave"))
    with zipfile.ZipFile(bundle_of(built)) as zf:
        members = zf.namelist()
        assert members == sorted(members)
        # Unzipped, it is one folder named as the bundle, never files scattered in place.
        top = f"{CAMPAIGN}-ru-usb/"
        assert {"SHA256SUMS", "manifest.json", "playlist.m3u8", "index.html",
                "01-ident.mp3", "01-ident.txt", "programs/evening.mp3"} <= \
            {m.removeprefix(top) for m in members}
        assert all(m.startswith(top) for m in members)
        for info in zf.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert stat.S_IMODE(info.external_attr >> 16) == 0o644
        transcript = zf.read(top + "01-ident.txt").decode("utf-8")
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
    make_bundle(Layout(built).output_folder(CAMPAIGN, "uk", "radio"), out)
    with zipfile.ZipFile(out) as zf:
        assert zf.infolist()[0].date_time[:3] == (2023, 11, 14)


def test_a_member_that_differs_from_its_sum_stops_the_bundle(built, tmp_path):
    """Members are hashed once, as they are zipped: a file that differs from SHA256SUMS
    stops the bundle and leaves nothing behind; an up-to-date zip is left as it is, and
    audio is stored, text deflated."""
    from pipeline.distribute.bundle import make_bundle
    from pipeline.errors import BundleError
    folder = shutil.copytree(Layout(built).output_folder(CAMPAIGN, "uk", "usb"), tmp_path / "usb")
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
    for old in (Layout(root).out_dir / "bundles").glob("demo-ru-*.zip"):
        old.unlink()
    copied, real = [], bundle.copy_stored
    monkeypatch.setattr(bundle, "copy_stored", lambda zf, info, path, crc: (
        copied.append(path), real(zf, info, path, crc)))
    assert cli("build", "--project", root, "--locale", "ru", "--jobs", "1").code == 0
    for profile in ("radio", "usb", "shortwave"):
        folder = Layout(root).output_folder(CAMPAIGN, "ru", profile)
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
    folder = Layout(built).output_folder(CAMPAIGN, "ru", "radio")
    assert make_bundle(folder, tmp_path / "a.zip", checked_audio(folder)) is True
    assert (tmp_path / "a.zip").read_bytes() == bundle_of(built, "ru", "radio").read_bytes()


def test_a_checked_file_that_changed_since_is_read_and_hashed(built, tmp_path):
    """A file whose size, time or inode moved since its digests were checked is not
    copied on their word: it is read and hashed, and a change stops the bundle."""
    from pipeline.distribute.bundle import make_bundle
    from pipeline.errors import BundleError
    folder = shutil.copytree(Layout(built).output_folder(CAMPAIGN, "ru", "usb"), tmp_path / "usb")
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


def _members(path: Path) -> list[str]:
    return list(bundle_members(path))


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
        rewrite_bundle(copy, flip)
        result = cli("verify", copy)
        assert result.code == 1, member
        assert f"member '{member}' was altered" in result.out + result.err


def test_verify_rejects_raw_corruption_of_the_zip(bundled, cli):
    data = bytearray(bundled.read_bytes())
    with zipfile.ZipFile(bundled) as zf:
        info = zf.getinfo(f"{CAMPAIGN}-ru-usb/01-ident.mp3")
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
    rewrite_bundle(bundled, change)
    result = cli("verify", bundled)
    assert result.code == 1
    assert expected in result.out + result.err
    assert "do not use this bundle" in result.out + result.err


def _crafted(path: Path, name: str, link: bool = False) -> None:
    with zipfile.ZipFile(path, "a") as zf:
        info = zipfile.ZipInfo(name)     # the full name: in the bundle's folder or not
        if link:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, b"/etc/passwd" if link else b"evil")


TOP = f"{CAMPAIGN}-ru-usb/"


@pytest.mark.parametrize("name, link, expected", [
    ("../evil.mp3", False, "has a '..'"),
    (TOP + "../evil.mp3", False, "has a '..'"),
    (TOP + "programs/../../evil.mp3", False, "has a '..'"),
    ("/tmp/evil.mp3", False, "has an absolute path"),
    (TOP + "01-link.mp3", True, "is a symbolic link"),
    (TOP + "autorun.inf", False, "has a name outside the allowed pattern"),
    (TOP + "01 ident.mp3", False, "has a name outside the allowed pattern"),
    ("autorun.inf", False, f"lies outside the bundle's folder '{TOP}'"),
    ("other/01-ident.mp3", False, f"lies outside the bundle's folder '{TOP}'"),
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


def test_a_zip_bomb_is_refused_before_it_is_read(bundled, tmp_path):
    for name in ("01-ident.mp3", "programs/"):
        bomb = tmp_path / f"bomb{len(name)}.zip"
        shutil.copy(bundled, bomb)
        with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(TOP + ("x.mp3" if name == "01-ident.mp3" else name),
                        bytes(64 * 1024 * 1024))
        for command in (["verify", bomb], ["usb", bomb, tmp_path]):
            line = one_line_error(run_broadcast(*command, env=process_env()))
            assert "refusing the bundle" in line


def _with_manifest(bundled: Path, manifest: bytes) -> None:
    def change(name, data):
        return [(name, manifest if name == "manifest.json" else data)]
    rewrite_bundle(bundled, change)


@pytest.mark.parametrize("manifest", [b"[]", b'{"files": {}}',
                                      b'{"campaign": "demo", "locale": "ru", "profile": {}, '
                                      b'"files": [{"file": null}]}',
                                      b'{"campaign": "demo", "locale": "ru", "profile": {}, '
                                      b'"files": [{"file": "01-ident.mp3", "id": "ident"}]}'])
def test_malformed_manifests_inside_a_bundle_are_one_line(bundled, tmp_path, manifest):
    _with_manifest(bundled, manifest)
    for command in (["verify", bundled], ["usb", bundled, tmp_path]):
        line = one_line_error(run_broadcast(*command, env=process_env()))
        assert "manifest.json" in line and "malformed" in line


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
    members = bundle_members(bundled)
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
            zf.writestr(TOP + name, data)
    result = run_broadcast("verify", swapped, env=process_env())
    assert result.code == 1 and "does not play the manifest's files in its order" in result.out
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as zf:
        for i in range(10_001):
            zf.writestr(f"{i}.txt", b"")
    result = run_broadcast("verify", many, env=process_env())
    assert result.code == 1 and "more than 10000" in result.err
