"""Shared fixtures: a copy of the example content project, and the CLI called in process."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.cli import main

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


def copy_example(dest: Path) -> Path:
    """The repository's content project (sources, catalogs, config) copied to ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "messages", dest / "messages")
    shutil.copytree(REPO / "locales", dest / "locales",
                    ignore=shutil.ignore_patterns("*.mo"))
    if (REPO / "broadcast.toml").exists():
        shutil.copy(REPO / "broadcast.toml", dest / "broadcast.toml")
    return dest


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The example project after one `broadcast build`, shared by the tests that only read
    it (a test that changes it must work on its own copy)."""
    root = copy_example(tmp_path_factory.mktemp("built") / "project")
    assert main(["build", "--project", str(root), "--jobs", "2"]) == 0
    return root


@pytest.fixture
def project(tmp_path) -> Path:
    return copy_example(tmp_path / "project")


class CliResult:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    def __repr__(self):
        return f"CliResult(code={self.code}, out={self.out!r}, err={self.err!r})"


@pytest.fixture
def cli(capsys):
    """Run ``broadcast ARGS`` in process; returns code, stdout and stderr."""
    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)
    return run


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` with its bytes, to prove that nothing changed."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(Path(root).rglob("*")) if p.is_file()}
