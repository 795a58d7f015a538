"""Nothing lost, nothing corrupted: withdrawn messages, failed renders, races, kills' leftovers,
catalog merges. Every case runs the CLI as a separate process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import polib
import pytest
from helpers import CAMPAIGN, TESTS, bundle_members, process_env, run_broadcast, snapshot

from pipeline.layout import Layout

PROFILES = ("radio", "usb", "shortwave")
FAST = ("--locale", "ko_KP", "--locale", "uk")      # the exact tone engine: quick renders


def po_path(root: Path, locale: str) -> Path:
    return root / "locales" / locale / "LC_MESSAGES" / "demo.po"


def folder(root: Path, locale: str, profile: str) -> Path:
    return Layout(root).output_folder(CAMPAIGN, locale, profile)


def bundle_path(root: Path, locale: str, profile: str) -> Path:
    return Layout(root).out_dir / "bundles" / f"demo-{locale}-{profile}.zip"


def ids_in(root: Path, locale: str, profile: str) -> set[str]:
    path = folder(root, locale, profile) / "manifest.json"
    if not path.exists():
        return set()
    return {f["id"] for f in json.loads(path.read_text(encoding="utf-8"))["files"]}


def ids_bundled(root: Path, locale: str, profile: str) -> set[str] | None:
    path = bundle_path(root, locale, profile)
    if not path.exists():
        return None
    return {f["id"] for f in json.loads(bundle_members(path)["manifest.json"])["files"]}


def mark_fuzzy(root: Path, locale: str, context: str) -> None:
    path = po_path(root, locale)
    po = polib.pofile(str(path))
    entry = next(e for e in po if e.msgctxt == context and e.msgstr)
    entry.flags.append("fuzzy")
    po.save(str(path))


def ok(*args, env=None):
    result = run_broadcast(*args, env=env)
    assert result.code == 0, result
    return result


def test_a_withdrawn_message_leaves_every_profile_locale_and_bundle(project):
    ok("build", "--project", project, *FAST)
    assert "rights" in ids_in(project, "ko_KP", "radio")
    assert "not-alone" in (ids_bundled(project, "uk", "shortwave") or set())
    mark_fuzzy(project, "ko_KP", "rights")
    mark_fuzzy(project, "uk", "not-alone")
    # A narrow build: one locale, one profile. The rest must still not speak them.
    result = ok("build", "--project", project, "--locale", "ko_KP", "--profile", "usb")
    assert "withdrew from audio_out/demo/ko_KP/radio: rights, evening" in result.out
    for locale, gone in (("ko_KP", {"rights", "evening"}), ("uk", {"not-alone"})):
        for profile in PROFILES:
            assert ids_in(project, locale, profile).isdisjoint(gone), (locale, profile)
            assert ids_in(project, locale, profile), (locale, profile)
            assert (ids_bundled(project, locale, profile) or set()).isdisjoint(gone)
    assert not Path(str(bundle_path(project, "uk", "radio")) + ".minisig").exists()
    # What is left is consistent: bundle everything again and verify each zip.
    ok("bundle", "--project", project)
    for locale in ("ko_KP", "uk"):
        for profile in PROFILES:
            assert ok("verify", bundle_path(project, locale, profile))
            names = zipfile.ZipFile(bundle_path(project, locale, profile)).namelist()
            assert not any("rights" in n for n in names if locale == "ko_KP")


def test_bundle_alone_after_a_fuzzy_mark_ships_no_withdrawn_message(project):
    ok("build", "--project", project, "--locale", "ko_KP", "--profile", "radio")
    mark_fuzzy(project, "ko_KP", "rights")
    ok("bundle", "--project", project, "--locale", "ko_KP", "--profile", "radio")
    assert ids_bundled(project, "ko_KP", "radio") == {"ident", "not-alone", "safe-return"}


def _amplitude(project: Path, value: float, extra: str = "") -> None:
    """A new option for the ko_KP voice: new cache keys, so everything is synthesized."""
    toml = project / "broadcast.toml"
    text = toml.read_text(encoding="utf-8").replace(
        '[voices.ko_KP]\nengine = "tone"\nvoice = "ko"',
        f'[voices.ko_KP]\nengine = "tone"\nvoice = "ko"\n'
        f'[voices.ko_KP.options]\namplitude = {value}')
    toml.write_text(text + extra, encoding="utf-8")


@pytest.mark.parametrize("fault, extra, says", [
    ("FAKE_ENGINE_FAIL", "", "the tone voice is unreachable"),
    ("FAKE_ENGINE_DIE", "", "a render worker died"),
    ("FAKE_ENGINE_HANG", "\n[render]\nsynthesis_timeout = 2\n",
     "did not finish one synthesis in 2 s"),
])
def test_a_failed_render_keeps_the_previous_output_and_bundles(project, fault, extra, says):
    ok("build", "--project", project, "--locale", "ko_KP")
    before = snapshot(Layout(project).out_dir / "demo" / "ko_KP")
    zips = snapshot(Layout(project).out_dir / "bundles")
    _amplitude(project, 0.2, extra)
    started = time.monotonic()
    jobs = "2" if fault == "FAKE_ENGINE_DIE" else "1"      # a worker process to kill
    result = run_broadcast("build", "--project", project, "--locale", "ko_KP", "--jobs", jobs,
                           env=process_env() | {fault: "1"})
    assert result.code == 1, result
    assert time.monotonic() - started < 120
    assert says in result.err and "Traceback" not in result.err
    assert ("was kept as it was" in result.err.strip().split("\n")[-1] or
            "files already written are complete" in result.err)
    assert "no message is ready" not in result.err
    assert snapshot(Layout(project).out_dir / "demo" / "ko_KP") == before
    assert snapshot(Layout(project).out_dir / "bundles") == zips


def test_the_report_lists_every_locale_after_a_narrowed_build(project):
    ok("build", "--project", project, *FAST)
    ok("build", "--project", project, "--locale", "uk")
    report = (Layout(project).out_dir / "report.html").read_text(encoding="utf-8")
    for locale in ("ko_KP", "ru", "uk"):
        assert f'data-locale="{locale}"' in report
    assert 'href="demo/ko_KP/radio/index.html"' in report


def _hold_lock(project: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, str(TESTS / "race_helpers.py"), "hold-lock",
                               str(seconds), str(project)], stdout=subprocess.PIPE, text=True,
                              env=process_env())
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_a_second_writer_stops_naming_the_holder_and_a_killed_holder_frees_the_lock(project):
    holder = _hold_lock(project, 120)
    try:
        before = snapshot(project)
        result = run_broadcast("update", "--project", project)
        assert result.code == 1
        assert result.err.strip() == (f"broadcast: {project}: another broadcast command is "
                                      f"running (pid {holder.pid}); wait for it to finish, or "
                                      "run this command with --wait")
        assert snapshot(project) == before
        assert run_broadcast("status", "--project", project).code == 0    # readers go on
        waiting = subprocess.Popen([sys.executable, "-m", "pipeline", "update", "--project",
                                    str(project), "--wait"], stderr=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True, env=process_env())
        time.sleep(1.5)
        assert waiting.poll() is None                   # still waiting
        holder.send_signal(signal.SIGKILL)              # the holder dies without cleaning up
        out, err = waiting.communicate(timeout=120)
        assert waiting.returncode == 0, err
        assert f"pid {holder.pid}); waiting for it to finish" in err
    finally:
        holder.kill()
        holder.wait()


def test_two_concurrent_builds_wait_in_turn_and_leave_consistent_output(project, tmp_path):
    procs = [subprocess.Popen([sys.executable, "-m", "pipeline", "build", "--project",
                               str(project), *FAST, "--wait", "--jobs", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=process_env()) for _ in range(2)]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert any("waiting for it to finish" in err for _, err in results)
    for locale in ("ko_KP", "uk"):
        for profile in PROFILES:
            assert run_broadcast("verify", bundle_path(project, locale, profile)).code == 0


def test_a_translators_save_during_update_is_never_overwritten(project):
    yaml = project / "messages" / "demo.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace(
        "They want you to return home alive.", "They want you to come home alive."),
        encoding="utf-8")
    result = subprocess.run([sys.executable, str(TESTS / "race_helpers.py"), "editor-save",
                             "update", "--project", str(project)],
                            capture_output=True, text=True, env=process_env())
    assert result.returncode == 1, result.stderr
    assert "changed on disk while broadcast was merging it" in result.stderr
    saved = polib.pofile(str(po_path(project, "ko_KP")))
    assert saved[0].tcomment == "saved by the translator during the update"
    ok("update", "--project", project)                  # the next run merges the save
    merged = polib.pofile(str(po_path(project, "ko_KP")))
    assert merged[0].tcomment == "saved by the translator during the update"
    assert any(e.previous_msgid == "They want you to return home alive." for e in merged)


def test_update_keeps_plural_entries_as_obsolete(project):
    path = po_path(project, "ru")
    po = polib.pofile(str(path))
    po.append(polib.POEntry(msgctxt="count", msgid="{n} message", msgid_plural="{n} messages",
                            msgstr_plural={0: "{n} сообщение", 1: "{n} сообщения",
                                           2: "{n} сообщений"}))
    po.save(str(path))
    ok("update", "--project", project)
    kept = [e for e in polib.pofile(str(path)) if e.msgctxt == "count"]
    assert len(kept) == 1 and kept[0].obsolete
    assert kept[0].msgstr_plural == {0: "{n} сообщение", 1: "{n} сообщения", 2: "{n} сообщений"}
    assert subprocess.run(["msgfmt", "-c", "-o", os.devnull, str(path)]).returncode == 0


def test_a_duplicate_entry_is_refused_naming_both_lines(project):
    path = po_path(project, "ru")
    text = path.read_text(encoding="utf-8")
    first = text.index('msgctxt "rights"')
    block = text[first:text.index("\n\n", first)]
    path.write_text(text + "\n" + block + "\n", encoding="utf-8")
    entry_start = text.rindex("\n\n", 0, first) + 2      # its comments come first
    first_line = text[:entry_start].count("\n") + 1
    for command in ("status", "update", "build"):
        before = snapshot(project)
        result = run_broadcast(command, "--project", project)
        assert result.code == 2
        lines = result.err.strip().split("\n")
        assert len(lines) == 1 and "a second entry with context 'rights'" in lines[0]
        assert f"(the first is on line {first_line})" in lines[0]
        assert snapshot(project) == before


def test_leftovers_of_a_killed_command_are_cleaned_and_folders_recovered(project):
    ok("build", "--project", project, "--locale", "ko_KP", "--profile", "usb")
    base = Layout(project).out_dir / "demo" / "ko_KP"
    good = snapshot(base / "usb")
    # A kill during a folder swap (old folder retired, new one not yet in place), during
    # another folder's staging, and during atomic writes.
    os.replace(base / "usb", base / ".usb.old")
    (base / ".radio.staging").mkdir()
    (base / ".radio.staging" / "01-ident.wav").write_bytes(b"half")
    temps = [po_path(project, "ru").parent / ".demo.po.k2j4h5x9.tmp",
             Layout(project).cache_dir / ".x.wav.abcd1234.tmp"]
    for path in temps:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
    ok("compile", "--project", project)                 # any command that writes tidies up
    assert snapshot(base / "usb") == good
    assert not (base / ".usb.old").exists() and not (base / ".radio.staging").exists()
    assert not any(p.exists() for p in temps)


def test_bundle_refuses_an_inconsistent_folder(project):
    ok("build", "--project", project, "--locale", "ko_KP", "--profile", "usb")
    audio = next(folder(project, "ko_KP", "usb").glob("*.mp3"))
    audio.write_bytes(audio.read_bytes()[:-100])         # cut short behind our back
    result = run_broadcast("bundle", "--project", project, "--locale", "ko_KP")
    assert result.code == 1
    assert f"'{audio.name}' differs from SHA256SUMS: the folder is inconsistent" in result.err


def test_links_out_of_the_project_are_refused(project, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "intro.wav").write_bytes((TESTS / "data" / "project" / "broadcast.toml")
                                        .read_bytes())
    yaml = project / "messages" / "demo.yaml"
    text = yaml.read_text(encoding="utf-8")
    yaml.write_text(text.replace("  - id: evening\n", "  - id: evening\n    intro: intro.wav\n"),
                    encoding="utf-8")
    (project / "intro.wav").symlink_to(outside / "intro.wav")
    result = run_broadcast("render", "--project", project, "--locale", "ko_KP", "--profile", "usb")
    assert result.code == 1
    assert "intro is a link that leads out of the project" in result.err
    recordings = project / "locales" / "uk" / "recordings"
    recordings.mkdir(parents=True)
    (recordings / "ident.wav").symlink_to(outside / "intro.wav")
    result = run_broadcast("status", "--project", project)
    assert result.code == 2 and "a link that leads out of the project" in result.err
    assert len(result.err.strip().split("\n")) == 1


def test_a_recording_script_that_is_not_utf8_is_one_line(project):
    recordings = project / "locales" / "uk" / "recordings"
    recordings.mkdir(parents=True)
    (recordings / "ident.wav").write_bytes(b"RIFF")
    (recordings / "ident.txt").write_bytes("Позивні".encode("cp1251"))
    result = run_broadcast("status", "--project", project)
    assert result.code == 2, result
    assert "ident.txt:1: not valid UTF-8; save the file as UTF-8" in result.err


# --- resource faults ----------------------------------------------------------------------

def _built_ko(project: Path) -> tuple[dict, dict]:
    ok("build", "--project", project, "--locale", "ko_KP")
    return (snapshot(Layout(project).out_dir / "demo" / "ko_KP"),
            snapshot(Layout(project).out_dir / "bundles"))


def _kept(project: Path, before: tuple[dict, dict]) -> None:
    assert snapshot(Layout(project).out_dir / "demo" / "ko_KP") == before[0]
    assert snapshot(Layout(project).out_dir / "bundles") == before[1]


def _one_line(result) -> str:
    lines = result.err.strip().split("\n")
    assert 1 <= len(lines) <= 3 and "Traceback" not in result.err, result.err
    return lines[-1]


def test_disk_full_during_a_build_is_one_line_and_keeps_complete_outputs(project):
    """RLIMIT_FSIZE: every write past 64 KiB fails as on a full disk (EFBIG)."""
    import resource
    before = _built_ko(project)
    _amplitude(project, 0.2)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
    proc = subprocess.run([sys.executable, "-m", "pipeline", "build", "--project",
                           str(project), "--locale", "ko_KP", "--jobs", "1"],
                          capture_output=True, text=True, env=process_env(), preexec_fn=limit)
    assert proc.returncode == 1, proc.stderr
    line = _one_line(type("R", (), {"err": proc.stderr})())
    assert "File too large" in proc.stderr and "raise the limit" in proc.stderr, line
    _kept(project, before)
    assert not list((Layout(project).out_dir).rglob(".*.tmp"))


@pytest.mark.skipif(shutil.which("unshare") is None, reason="util-linux's unshare")
@pytest.mark.parametrize("which, command", [("audio_out", "build"), ("locales", "update")])
def test_a_read_only_folder_is_one_line(project, which, command):
    """The folder mounted read-only (EROFS), as a write-protected card would be."""
    before = _built_ko(project)
    if which == "locales":
        yaml = project / "messages" / "demo.yaml"
        yaml.write_text(yaml.read_text(encoding="utf-8").replace(
            "They want you to return home alive.", "They want you home alive."),
            encoding="utf-8")
    else:
        _amplitude(project, 0.2)
    target = project / which
    script = (f"mount --bind '{target}' '{target}' && mount -o remount,bind,ro '{target}' "
              f"'{target}' && exec '{sys.executable}' -m pipeline {command} --project "
              f"'{project}' --locale ko_KP")
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True,
                          text=True, env=process_env())
    if "mount" in proc.stderr and "permission denied" in proc.stderr.lower():
        pytest.skip("no right to mount here")
    assert proc.returncode == 1, proc.stderr
    assert "Read-only file system" in proc.stderr and "choose a writable folder" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().split("\n")) <= 3
    _kept(project, before)


def test_ffmpeg_missing_at_run_time_keeps_outputs(project, tmp_path):
    """TTS renders without ffmpeg (MP3 is encoded and decoded in process); a human
    recording needs it to be decoded, and its locale then fails and keeps its outputs."""
    before = _built_ko(project)
    from pipeline.audio.codec import wav_bytes
    from pipeline.audio.dsp import Audio
    from pipeline.project import open_project
    opened = open_project(project)
    campaign = opened.campaigns[0]
    folder = project / "locales" / "ko_KP" / "recordings"
    folder.mkdir(parents=True)
    t = np.arange(48000) / 48000
    (folder / "ident.wav").write_bytes(wav_bytes(Audio(
        (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 48000)))
    (folder / "ident.txt").write_text("\n\n".join(opened.paragraphs(campaign, "ko_KP", "ident")),
                                      encoding="utf-8")
    env = process_env() | {"PATH": str(tmp_path), "IMAGEIO_FFMPEG_EXE": str(tmp_path / "ffmpeg")}
    result = run_broadcast("build", "--project", project, "--locale", "ko_KP", "--jobs", "1",
                           env=env)
    assert result.code == 1
    assert "ffmpeg" in result.err and "Traceback" not in result.err
    # Said as the take is heard before its first use (nothing written yet), or as the
    # render fails and keeps the locale's outputs.
    last = result.err.strip().split("\n")[-1]
    assert "was kept as it was" in last or "ffmpeg could not be run" in last, last
    _kept(project, before)


def test_a_voice_that_does_not_exist_keeps_outputs(project):
    ok("build", "--project", project, "--locale", "uk")
    before = snapshot(Layout(project).out_dir / "demo" / "uk")
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        '[voices.uk]\nengine = "tone"\nvoice = "uk"',
        '[voices.uk]\nengine = "espeak"\nvoice = "no-such-voice"'), encoding="utf-8")
    result = run_broadcast("build", "--project", project, "--locale", "uk", "--jobs", "1")
    assert result.code in (1, 2), result
    assert "no-such-voice" in result.err and "Traceback" not in result.err
    assert snapshot(Layout(project).out_dir / "demo" / "uk") == before


def test_a_slow_build_racing_a_quick_one_cannot_put_a_withdrawn_message_back(project):
    """The slow build read the catalogs before the fuzzy mark; the quick one after it. The
    lock orders them, and the last writer holds everything to the gate as it stands."""
    ok("build", "--project", project, "--locale", "ko_KP")
    slow = subprocess.Popen([sys.executable, "-m", "pipeline", "build", "--project",
                             str(project), "--jobs", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=process_env())
    time.sleep(2.0)                                     # it holds the lock and is reading
    mark_fuzzy(project, "ko_KP", "rights")
    quick = run_broadcast("build", "--project", project, "--locale", "ko_KP", "--profile",
                          "usb", "--wait")
    out, err = slow.communicate(timeout=600)
    assert slow.returncode == 0, err
    assert quick.code == 0, quick
    for profile in PROFILES:
        assert "rights" not in ids_in(project, "ko_KP", profile), profile
        assert "rights" not in (ids_bundled(project, "ko_KP", profile) or set()), profile
