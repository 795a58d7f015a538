"""Shared fixtures: the tests' own content project, and the CLI in process or as a process.

The fixture project (``tests/data/project``, campaign ``demo``) is frozen: counts and
titles in tests come from it, never from the example campaign. Its ko_KP and uk voices use
the exact tone engine of ``fake_engine.py``; ru uses espeak-ng.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
FIXTURE = DATA / "project"
CAMPAIGN = "demo"


def copy_project(dest: Path, source: Path = FIXTURE) -> Path:
    """A content project (sources, catalogs, config) copied to ``dest``; .mo files left out."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / "messages", dest / "messages")
    shutil.copytree(source / "locales", dest / "locales", ignore=shutil.ignore_patterns("*.mo"))
    if (source / "broadcast.toml").exists():
        shutil.copy(source / "broadcast.toml", dest / "broadcast.toml")
    return dest


def po_path(root: Path, locale: str, campaign: str = CAMPAIGN) -> Path:
    return root / "locales" / locale / "LC_MESSAGES" / f"{campaign}.po"


def set_translation(root: Path, locale: str, context: str, text: str, index: int = 0) -> None:
    """Approve ``text`` as the ``index``-th unit of ``context`` in ``locale`` (as Poedit
    saves it: not fuzzy)."""
    import polib
    path = po_path(root, locale)
    po = polib.pofile(str(path))
    entries = [e for e in po if e.msgctxt == context and not e.obsolete]
    entries[index].msgstr = text
    entries[index].flags = [f for f in entries[index].flags if f != "fuzzy"]
    po.save(str(path))


def copy_example(dest: Path) -> Path:
    """The repository's example project: only for tests that hold for any content."""
    return copy_project(dest, REPO)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The fixture project after one `broadcast build`, shared by the tests that only read
    it (a test that changes it must work on its own copy)."""
    root = copy_project(tmp_path_factory.mktemp("built") / "project")
    assert main(["build", "--project", str(root), "--jobs", "2"]) == 0
    return root


@pytest.fixture
def project(tmp_path) -> Path:
    return copy_project(tmp_path / "project")


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


def process_env(**extra: str) -> dict[str, str]:
    """The environment for ``broadcast`` as a process: the fake engine importable."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), env.get("PYTHONPATH")]))
    return env


def install_plugin(folder: Path, name: str, module: str, source: str) -> Path:
    """A package in ``folder`` that registers engine ``name`` as ``module:Engine``, the way
    an installed package does (a ``*.dist-info`` with its entry point); put ``folder`` on
    PYTHONPATH to install it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(source, encoding="utf-8")
    info = folder / f"{module}-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[pipeline.engines]\n{name} = {module}:Engine\n")
    return folder


def run_broadcast(*args, cwd: Path | None = None, env: dict | None = None,
                  timeout: float = 600) -> CliResult:
    """``broadcast ARGS`` as a separate process, so that a traceback would show."""
    proc = subprocess.run([sys.executable, "-m", "pipeline", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=timeout,
                          env=env or process_env(), stdin=subprocess.DEVNULL)
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def proc():
    return run_broadcast


LOCK_FILE = ".broadcast.lock"       # the project's lock: a writing command leaves it there


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` with its bytes, to prove that nothing changed (but for
    the project's lock file, which any writing command may create, empty)."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(Path(root).rglob("*")) if p.is_file() and p.name != LOCK_FILE}
