"""Shared fixtures: the fixture project built once (read only: a test that changes it
fails), a fresh copy per test, and the CLI in process or as a process. The helpers they use
are in ``helpers.py``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import CliResult, bundle_of, copy_project, run_broadcast, snapshot

from pipeline.cli import main


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The fixture project after one `broadcast build`, shared by the tests that only read
    it. Nothing keeps a test from writing into it but this: at the end of the session every
    file must be as it was built (a test that changes it must work on its own copy)."""
    root = copy_project(tmp_path_factory.mktemp("built") / "project")
    assert main(["build", "--project", str(root), "--jobs", "2"]) == 0
    before = snapshot(root)
    yield root
    assert snapshot(root) == before, "a test changed the shared built project"


@pytest.fixture
def bundled(built, tmp_path) -> Path:
    """A copy of the built project's ru/usb bundle, free to tamper with."""
    src = bundle_of(built)
    dest = tmp_path / src.name
    shutil.copy(src, dest)
    return dest


@pytest.fixture
def keys(tmp_path, cli) -> Path:
    """A key pair made by broadcast keygen, unencrypted."""
    out = tmp_path / "keys"
    assert cli("keygen", "--unencrypted", "--out", out).code == 0
    return out


@pytest.fixture
def project(tmp_path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.fixture
def cli(capsys):
    """Run ``broadcast ARGS`` in process; returns code, stdout and stderr."""
    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)
    return run


@pytest.fixture
def proc():
    return run_broadcast
