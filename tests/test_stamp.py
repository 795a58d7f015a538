"""A build with nothing to do is answered from the last build's stamp; anything that could
change what a build writes runs the whole build."""

from __future__ import annotations

import os
import subprocess
import sys

from helpers import CAMPAIGN, process_env, snapshot

from pipeline.layout import Layout

NOTHING = "nothing changed since the last build"


def _touch(path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_a_rebuild_with_nothing_changed_answers_from_the_stamp(project, proc):
    yaml_path = project / "messages" / "demo.yaml"      # a warning to give again
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8")
                         .replace("max_seconds: 300", "max_seconds: 10"), encoding="utf-8")
    first = proc("build", "--project", project, "--locale", "ru", "--jobs", "1")
    assert first.code == 0, first
    assert NOTHING not in first.out
    before = snapshot(project)
    again = proc("build", "--project", project, "--locale", "ru", "--jobs", "2")
    assert again.code == 0, again
    assert NOTHING in again.out and "\n0 syntheses, 0 encodings\n" in again.out
    table = first.out[first.out.index("campaign  locale"):first.out.index(" syntheses")]
    assert table.rsplit("\n", 1)[0] in again.out                   # the same table
    warning = "warning: program 'evening' in ru (shortwave) lasts"
    assert warning in first.err and warning in again.err
    assert snapshot(project) == before
    # The answer comes before the audio stack is imported.
    code = ("import sys; from pipeline.entry import main; code = main(['build', '--project', "
            f"{str(project)!r}, '--locale', 'ru']); "
            "assert code == 0 and 'numpy' not in sys.modules and 'pipeline.cli' not in "
            "sys.modules, sorted(sys.modules)")
    check = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=process_env())
    assert check.returncode == 0, check.stderr


def test_whatever_could_change_the_outputs_runs_the_whole_build(project, proc):
    args = ("build", "--project", project, "--locale", "uk", "--jobs", "1")
    assert proc(*args).code == 0
    out = Layout(project).output_folder(CAMPAIGN, "uk", "usb")

    def whole(*extra) -> str:
        result = proc(*args, *extra)
        assert result.code == 0, result
        assert NOTHING not in result.out, (extra, result.out)
        again = proc(*args, *extra)         # and then it holds again
        assert again.code == 0 and NOTHING in again.out, (extra, again)
        return result.out

    _touch(project / "broadcast.toml")                  # an input touched, not changed
    assert "\n0 syntheses, 0 encodings\n" in whole()
    message = next(out.glob("*.mp3"))
    data = message.read_bytes()
    message.unlink()                                    # an output deleted
    assert "\n0 syntheses, 0 encodings\n" in whole()
    assert message.read_bytes() == data
    entry = next((Layout(project).cache_dir / "final").glob("*.mp3"))
    entry.unlink()                                      # a cache entry gone: a link count
    assert "\n0 syntheses, 1 encodings\n" in whole()
    po = project / "locales" / "uk" / "LC_MESSAGES" / "demo.po"
    po.write_text(po.read_text(encoding="utf-8").replace(
        "Слухайте, коли це безпечно.", "Слухайте, коли це безпечно для вас."), encoding="utf-8")
    assert "\n1 syntheses, " in whole()                 # a translation edited
    assert NOTHING not in proc("build", "--project", project, "--locale", "uk",
                               "--profile", "usb").out          # another selection
    assert NOTHING not in proc(*args).out                       # ... and back


def test_a_failed_build_leaves_no_stamp(project, proc):
    args = ("build", "--project", project, "--locale", "ru", "--jobs", "1")
    assert proc(*args).code == 0
    stamp = Layout(project).cache_dir / "build-stamp.json"
    assert stamp.is_file()
    yaml_path = project / "messages" / "demo.yaml"      # an intro that is not there
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8").replace(
        "    max_seconds: 300\n", "    max_seconds: 300\n    intro: audio/none.wav\n"),
        encoding="utf-8")
    failed = proc(*args)
    assert failed.code == 1 and "intro file not found" in failed.err, failed
    assert not stamp.exists()
    again = proc(*args)
    assert again.code == 1 and NOTHING not in again.out     # failing still, never answered
