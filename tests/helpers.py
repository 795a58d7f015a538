"""The tests' helpers: their own content project, copies of it, and the CLI as a process.

The fixture project (``tests/data/project``, campaign ``demo``) is frozen: counts and
titles in tests come from it, never from the example campaign. Its ko_KP and uk voices use
the exact tone engine of ``fake_engine.py`` (registered as an installed package registers
its engines); ru uses espeak-ng. Fixtures are in ``conftest.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

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


class CliResult:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    def __repr__(self):
        return f"CliResult(code={self.code}, out={self.out!r}, err={self.err!r})"


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


LOCK_FILE = ".broadcast.lock"       # the project's lock: a writing command leaves it there


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` with its bytes, to prove that nothing changed (but for
    the project's lock file, which any writing command may create, empty)."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(Path(root).rglob("*")) if p.is_file() and p.name != LOCK_FILE}


def bundle_of(root: Path, locale: str = "ru", profile: str = "usb") -> Path:
    """The bundle of a folder of the fixture project."""
    return root / "audio_out" / "bundles" / f"{CAMPAIGN}-{locale}-{profile}.zip"


def rendered_ids(cli, root: Path, locale: str = "ru") -> set[str]:
    """Render ``locale`` in the radio profile; the ids of the messages its folder holds."""
    import json

    from pipeline.layout import Layout
    result = cli("render", "--project", root, "--locale", locale, "--profile", "radio",
                 "--jobs", "1")
    manifest = Layout(root).output_folder(CAMPAIGN, locale, "radio") / "manifest.json"
    if not manifest.exists():
        return set()
    assert result.code in (0, 1), result.err
    return {f["id"] for f in json.loads(manifest.read_text())["files"] if f["kind"] == "message"}


def one_line_error(result, code: int = 1) -> str:
    """The one line a failed command prints, with no traceback."""
    assert result.code == code, result
    lines = result.err.strip().split("\n")
    assert len(lines) == 1 and "Traceback" not in result.err and "internal error" not in result.err
    return lines[0]


def bundle_members(path: Path) -> dict[str, bytes]:
    """A bundle's members by their names inside its one folder (``manifest.json``…)."""
    import zipfile

    from pipeline.distribute.bundle import bundle_top
    with zipfile.ZipFile(path) as zf:
        top = bundle_top(zf.namelist())
        return {i.filename[len(top):]: zf.read(i) for i in zf.infolist() if not i.is_dir()}


def rewrite_bundle(path: Path, change) -> None:
    """Rebuild the zip with ``change(name, data) -> [(name, data), ...]`` per member, names
    within the bundle's folder."""
    import io
    import zipfile

    from pipeline.distribute.bundle import bundle_top
    with zipfile.ZipFile(path) as zf:
        top = bundle_top(zf.namelist())
        items = [(i.filename[len(top):], zf.read(i)) for i in zf.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in items:
            for new_name, new_data in change(name, data):
                zf.writestr(top + new_name, new_data)
    path.write_bytes(buf.getvalue())
