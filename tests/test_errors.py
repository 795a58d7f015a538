"""The error boundary: one line for every failure, a traceback only with --debug, and
commands that only read write nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import DATA, FIXTURE, copy_project, snapshot

from pipeline.layout import Layout

BAD_PO = sorted((DATA / "bad_po").glob("*.po"))


def test_status_and_check_leave_audio_out_exactly_as_it_was(tmp_path, proc):
    project = copy_project(tmp_path / "project")
    (Layout(project).out_dir).mkdir()
    (Layout(project).out_dir / ".gitkeep").write_text("")
    before = snapshot(project)
    for args in (("status",), ("status", "--json"), ("check",), ("check", "--json")):
        result = proc(*args, "--project", project)
        assert result.code == 0, result
        assert snapshot(project) == before


def test_audio_out_as_a_plain_file_is_a_clean_message(project, proc):
    (Layout(project).out_dir).write_text("not a folder")
    assert proc("status", "--project", project).code == 0     # status writes nothing at all
    result = proc("render", "--project", project, "--locale", "uk")
    assert result.code == 1, result
    lines = result.err.strip().split("\n")
    assert "Traceback" not in result.err
    assert "audio_out" in lines[-1] and "a file stands where a folder is expected" in lines[-1]


def test_an_internal_error_is_one_line_and_debug_shows_the_traceback(project, proc):
    (project / "broadcast.toml").write_text(
        (FIXTURE / "broadcast.toml").read_text().replace('engine = "tone"', 'engine = "broken"'))
    from helpers import install_plugin, process_env
    plugins = install_plugin(project.parent / "plugins", "broken", "broken_engine",
                             "class Engine:\n    def __init__(self):\n"
                             "        raise RuntimeError('boom')\n")
    env = {"PYTHONPATH": str(plugins)}
    result = proc("status", "--project", project, env=process_env(**env))
    assert result.code == 1
    assert result.err.strip() == ("broadcast: internal error: RuntimeError: boom; run with "
                                  "--debug for details")
    result = proc("status", "--project", project, "--debug", env=process_env(**env))
    assert result.code == 1 and "Traceback" in result.err and "RuntimeError: boom" in result.err


@pytest.mark.parametrize("bad", BAD_PO, ids=[p.stem for p in BAD_PO])
def test_a_malformed_catalog_is_one_line_as_a_process(bad: Path, project, proc):
    shutil.copy(bad, project / "locales" / "ru" / "LC_MESSAGES" / "demo.po")
    before = snapshot(project)
    result = proc("update", "--project", project)
    assert result.code == 2, result
    lines = result.err.strip().split("\n")
    assert len(lines) == 1 and "locales/ru/LC_MESSAGES/demo.po:" in lines[0], result.err
    assert snapshot(project) == before


def test_file_commands_do_not_offer_project_options(proc):
    out = proc("keygen", "--help").out
    assert "--out" in out and "--campaign" not in out and "--jobs" not in out
    assert "--jobs" in proc("build", "--help").out
    result = proc("render", "--jobs", "x")
    assert result.code == 2 and "not a number of workers" in result.err
