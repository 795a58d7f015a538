"""Sticks and FAT32 images: play order, no identifying data, verified copies, and
nothing written where it must not be (links, other files, a full or read-only stick)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest
from helpers import bundle_members, one_line_error, process_env, rewrite_bundle, run_broadcast


def test_usb_copies_in_play_order_and_verifies(bundled, cli, tmp_path):
    dest = tmp_path / "stick"
    dest.mkdir()
    result = cli("usb", bundled, dest)
    assert result.code == 0, result.err
    members = bundle_members(bundled)
    manifest = json.loads(members["manifest.json"])
    in_bundle = [e["file"] for e in manifest["files"] if e["kind"] == "message"]
    # Names say nothing: an index in play order, no id, no title.
    expected = [f"{i:02d}.mp3" for i in range(1, len(in_bundle) + 1)]
    for name, member in zip(expected, in_bundle, strict=True):
        assert (dest / name).read_bytes() == members[member]
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


def _fsck(image, *options: str) -> subprocess.CompletedProcess:
    """fsck.fat -n (check, change nothing) on an image; Debian keeps it in /usr/sbin."""
    fsck = shutil.which("fsck.fat") or "/usr/sbin/fsck.fat"
    return subprocess.run([fsck, "-n", *options, str(image)], capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("mdir") is None, reason="mtools is installed by scripts/test.sh")
def test_fat32_image_in_play_order_with_no_identifying_data(bundled, cli, tmp_path):
    image = tmp_path / "stick.img"
    result = cli("usb", bundled, "--image", image, "--size", "64M")
    assert result.code == 0, result.err
    listing = _mtools("mdir", "-i", str(image), "::/")
    members = bundle_members(bundled)
    manifest = json.loads(members["manifest.json"])
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
        assert (back / name).read_bytes() == members[member]
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
    rewrite_bundle(bundled, lambda n, d: [] if n == "03-rights.mp3" else [(n, d)])
    result = cli("usb", bundled, "--image", tmp_path / "x.img")
    assert result.code == 1 and "verification failed" in result.err
    assert not (tmp_path / "x.img").exists()


def test_names_that_differ_only_by_case_cannot_clash_on_fat(bundled, tmp_path):
    """Names on a stick are indexes, not the bundle's names: members that differ only by
    case become 01.mp3 and 02.mp3."""
    members = bundle_members(bundled)
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
        line = one_line_error(run_broadcast("usb", bundled, "--image", tmp_path / "s.img",
                                             "--size", size, env=process_env()))
        assert says in line
    assert not (tmp_path / "s.img").exists()


@pytest.mark.skipif(shutil.which("unshare") is None, reason="util-linux's unshare")
def test_a_read_only_stick_is_one_line(bundled, tmp_path):
    stick = tmp_path / "stick"
    stick.mkdir()
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
    members = bundle_members(bundled)
    manifest = json.loads(members["manifest.json"])
    messages = [e["file"] for e in manifest["files"] if e["kind"] == "message"]
    for index, member in enumerate(messages, 1):
        assert (dest / f"{index:02d}.txt").read_bytes() == \
            members[member.rsplit(".", 1)[0] + ".txt"]
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


def test_a_link_on_the_stick_is_never_written_through(bundled, tmp_path):
    stick = tmp_path / "stick"
    stick.mkdir()
    outside = tmp_path / "outside"
    (stick / "01.mp3").symlink_to("../outside")                 # dangling
    for extra in ((), ("--overwrite",)):
        result = run_broadcast("usb", bundled, stick, *extra, env=process_env())
        assert "'01.mp3' on the stick is a link" in one_line_error(result)
        assert not outside.exists()
    outside.write_bytes(b"precious")
    result = run_broadcast("usb", bundled, stick, "--overwrite", env=process_env())
    assert result.code == 1 and outside.read_bytes() == b"precious"


def test_an_image_never_replaces_a_file_it_did_not_make(bundled, tmp_path):
    doc = tmp_path / "report.docx"
    doc.write_bytes(b"PK\x03\x04 a document")
    result = run_broadcast("usb", bundled, "--image", doc, env=process_env())
    assert "--overwrite" in one_line_error(result)
    assert doc.read_bytes() == b"PK\x03\x04 a document"
    image = tmp_path / "stick.img"
    assert run_broadcast("usb", bundled, "--image", image, env=process_env()).code == 0
    first = image.read_bytes()
    # its own image is replaced (a new serial), and with --overwrite anything is
    assert run_broadcast("usb", bundled, "--image", image, env=process_env()).code == 0
    assert image.read_bytes() != first
    assert run_broadcast("usb", bundled, "--image", doc, "--overwrite",
                         env=process_env()).code == 0
    assert doc.read_bytes()[3:11] == b"MSWIN4.1"
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


def test_an_image_needs_no_system_tools_and_plays_in_order(bundled, tmp_path):
    """No dosfstools or mtools: the image is written with a PATH holding no tool at all,
    passes fsck.fat, and a player that follows the directory or the clusters plays
    01, 02, … each file in one run, each decoding cleanly."""
    bare = tmp_path / "bin"
    bare.mkdir()
    image = tmp_path / "s.img"
    result = run_broadcast("usb", bundled, "--image", image, "--with-programs",
                           env=dict(process_env(), PATH=str(bare)))
    assert result.code == 0, result.err
    checked = _fsck(image, "-v")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "FAT32" in checked.stdout or "32 bit entries" in checked.stdout
    manifest = json.loads(bundle_members(bundled)["manifest.json"])
    count = sum(e["kind"] in ("message", "program") for e in manifest["files"])
    listing = _mtools("mdir", "-b", "-i", str(image), "::/").split()
    expected = [f"::/{i:02d}.mp3" for i in range(1, count + 1)]
    assert [n.lower() for n in listing] == expected
    runs = []
    for name in expected:
        chain = _mtools("mshowfat", "-i", str(image), name)
        spans = re.findall(r"<(\d+)-(\d+)>", chain)
        assert len(spans) == 1, chain                   # one contiguous run per file
        runs.append((int(spans[0][0]), int(spans[0][1])))
    assert runs == sorted(runs) and all(a[1] < b[0] for a, b in zip(runs, runs[1:], strict=False))
    back = tmp_path / "back.mp3"
    for name in expected:
        _mtools("mcopy", "-o", "-i", str(image), name, str(back))
        decoded = subprocess.run(["ffmpeg", "-v", "error", "-i", str(back), "-f", "null", "-"],
                                 capture_output=True, text=True)
        assert decoded.returncode == 0 and not decoded.stderr.strip(), (name, decoded.stderr)


@pytest.mark.skipif(shutil.which("mkfs.fat") is None and not os.path.exists("/usr/sbin/mkfs.fat"),
                    reason="dosfstools is installed by scripts/test.sh")
def test_an_image_dosfstools_made_earlier_is_replaced_as_our_own(bundled, tmp_path):
    image = tmp_path / "s.img"
    mkfs = shutil.which("mkfs.fat") or "/usr/sbin/mkfs.fat"
    subprocess.run([mkfs, "-C", "-F", "32", str(image), "65536"], check=True,
                   capture_output=True)
    assert run_broadcast("usb", bundled, "--image", image, env=process_env()).code == 0
    assert image.read_bytes()[3:11] == b"MSWIN4.1"


def test_the_image_writer_refuses_what_fat32_cannot_hold(tmp_path):
    from pipeline.distribute import fat
    with pytest.raises(ValueError, match="too small for FAT32"):
        fat.layout(30 * 1024 * 1024)
    with pytest.raises(ValueError, match="not a short"):
        fat.write_volume(tmp_path / "a.img", 64 * 1024 ** 2, [("ident-one.mp3", b"x")],
                         "NO NAME", b"1234", 0)
    with pytest.raises(ValueError, match="same short name"):
        fat.write_volume(tmp_path / "a.img", 64 * 1024 ** 2,
                         [("01.mp3", b"x"), ("01.MP3", b"y")], "NO NAME", b"1234", 0)
    with pytest.raises(ValueError, match="do not fit"):
        fat.write_volume(tmp_path / "a.img", 40 * 1024 ** 2,
                         [("01.mp3", bytes(41 * 1024 ** 2))], "NO NAME", b"1234", 0)


@pytest.mark.parametrize("size", ["40M", "300M", "9G"])
def test_the_image_writer_makes_volumes_fsck_and_mtools_read(tmp_path, size):
    """Each of Microsoft's cluster sizes (512 B, 4 KiB, 8 KiB), a label, an empty file
    and a root directory longer than one cluster: fsck.fat finds nothing to fix, and
    mtools lists and reads what was written."""
    from pipeline.distribute import fat
    from pipeline.distribute.media import parse_size
    files = [(f"{i:02d}.{'txt' if i % 7 == 0 else 'mp3'}",
              bytes([i]) * (i * 3001 if i != 5 else 0)) for i in range(1, 41)]
    image = tmp_path / "v.img"
    fat.write_volume(image, parse_size(size), files, "RADIO 1", b"\x01\x02\x03\x04",
                     1_700_000_000)
    checked = _fsck(image)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    listing = _mtools("mdir", "-i", str(image), "::/")
    assert "Volume in drive : is RADIO 1" in listing and "0403-0201" in listing
    rows = [line.split() for line in listing.split("\n") if line[:2].isdigit()]
    assert [f"{r[0]}.{r[1]}" for r in rows] == [n for n, _ in files]
    assert all("2023-11-14" in " ".join(r) for r in rows)
    back = tmp_path / "back"
    back.mkdir()
    _mtools("mcopy", "-i", str(image), "::/*", str(back))
    assert {p.name: p.read_bytes() for p in back.iterdir()} == dict(files)
    assert fat.read_files(image) == files


def test_an_image_with_an_mbr_holds_the_volume_in_its_one_partition(bundled, tmp_path):
    """--mbr: one FAT32 (LBA) partition from 1 MiB to the end, as sfdisk reads it; the
    volume in it passes fsck.fat and mtools lists and reads it in play order; the image
    is still one this tool may replace."""
    image = tmp_path / "s.img"
    result = run_broadcast("usb", bundled, "--image", image, "--size", "64M", "--mbr",
                           env=process_env())
    assert result.code == 0, result.err
    sfdisk = shutil.which("sfdisk") or "/usr/sbin/sfdisk"
    table = json.loads(subprocess.run([sfdisk, "--json", str(image)], capture_output=True,
                                      text=True, check=True).stdout)["partitiontable"]
    assert table["label"] == "dos" and len(table["partitions"]) == 1
    part = table["partitions"][0]
    assert part["type"] == "c" and part["start"] == 2048
    assert part["start"] + part["size"] == 64 * 1024 * 2
    volume = tmp_path / "volume.img"
    volume.write_bytes(image.read_bytes()[2048 * 512:])
    checked = _fsck(volume)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert int.from_bytes(volume.read_bytes()[28:32], "little") == 2048   # hidden sectors
    listing = _mtools("mdir", "-b", "-i", f"{image}@@1M", "::/").split()
    members = bundle_members(bundled)
    manifest = json.loads(members["manifest.json"])
    in_bundle = [e["file"] for e in manifest["files"] if e["kind"] == "message"]
    assert [n.lower() for n in listing] == [f"::/{i:02d}.mp3"
                                            for i in range(1, len(in_bundle) + 1)]
    back = tmp_path / "back.mp3"
    _mtools("mcopy", "-o", "-i", f"{image}@@1M", "::/01.mp3", str(back))
    assert back.read_bytes() == members[in_bundle[0]]
    assert run_broadcast("usb", bundled, "--image", image, env=process_env()).code == 0


@pytest.mark.parametrize("flag", [["--mbr"], ["--size", "64M"], ["--reproducible"],
                                  ["--label", "RADIO"]])
def test_an_image_option_without_an_image_is_one_line(bundled, tmp_path, flag):
    stick = tmp_path / "stick"
    stick.mkdir()
    line = one_line_error(run_broadcast("usb", bundled, stick, *flag, env=process_env()), 2)
    assert f"{flag[0]} is for a disk image" in line and "--image FILE" in line
    assert list(stick.iterdir()) == []
