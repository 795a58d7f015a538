"""Trust at the last metre: a project file runs no code, and the gate cannot be fooled by
what a reviewer cannot see (format characters, NFD text, digit-group spaces), by a near
copy of the source, by a cache entry or a take that is not what it claims to be.

Every case runs the CLI as a process, and fails on the code before these fixes.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import polib
import pytest
from conftest import install_plugin, process_env, run_broadcast

MARKER_CODE = "import pathlib\npathlib.Path({marker!r}).write_text('ran')\n"


def po_path(root: Path, locale: str) -> Path:
    return root / "locales" / locale / "LC_MESSAGES" / "demo.po"


def set_translation(root: Path, locale: str, context: str, text: str, index: int = 0) -> None:
    path = po_path(root, locale)
    po = polib.pofile(str(path))
    entries = [e for e in po if e.msgctxt == context and not e.obsolete]
    entries[index].msgstr = text
    entries[index].flags = [f for f in entries[index].flags if f != "fuzzy"]
    po.save(str(path))


def rendered(root: Path, locale: str, profile: str = "radio") -> dict[str, dict]:
    path = root / "audio_out" / "demo" / locale / profile / "manifest.json"
    if not path.exists():
        return {}
    manifest = json.loads(path.read_text(encoding="utf-8"))
    return {m["id"]: m for m in manifest["files"] if m["kind"] == "message"}


def one_line(result) -> str:
    lines = result.err.strip().split("\n")
    assert len(lines) == 1 and "Traceback" not in result.err, result
    return lines[0]


# --- a project file never runs code ----------------------------------------------------------

@pytest.mark.parametrize("engine", ["os:system", "subprocess:getoutput", "voicehelper:Engine",
                                    "voicehelper"])
def test_no_engine_spec_in_a_project_imports_code(project, tmp_path, engine):
    marker = tmp_path / "MARKER"
    (project / "voicehelper.py").write_text(MARKER_CODE.format(marker=str(marker)))
    # A plug-in registration carried by the project itself is not an installed package.
    info = project / "voicehelper-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: voicehelper\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pipeline.engines]\nvoicehelper = voicehelper:Engine\n")
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        '[voices.ru]\nengine = "espeak"', f'[voices.ru]\nengine = "{engine}"').replace(
        "speed = 150", f'command = "touch {marker}"'), encoding="utf-8")
    for command in ("status", "check", "build"):
        result = run_broadcast(command, cwd=project)
        assert result.code == 2, result
        line = one_line(result)
        assert "broadcast.toml" in line and engine in line, line
        assert not marker.exists(), (command, engine)


def test_no_module_in_the_current_folder_is_imported(project, tmp_path):
    """Modules a command imports lazily, shadowed by files in the project folder."""
    marker = tmp_path / "MARKER"
    for name in ("numpy", "yaml", "polib", "babel", "soundfile", "lameenc", "filelock"):
        (project / f"{name}.py").write_text(MARKER_CODE.format(marker=str(marker)))
    for command in ("status", "check"):
        result = run_broadcast(command, cwd=project)
        assert result.code in (0, 1), result
        assert not marker.exists(), command
    result = run_broadcast("build", "--locale", "uk", cwd=project)
    assert result.code == 0, result
    assert not marker.exists()


def test_an_installed_plugin_engine_is_found_by_name(project, tmp_path):
    plugins = install_plugin(tmp_path / "site", "hum", "hum_engine", (
        "from fake_engine import ToneEngine\n\nclass Engine(ToneEngine):\n    name = 'hum'\n"))
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        '[voices.uk]\nengine = "tone"', '[voices.uk]\nengine = "hum"'), encoding="utf-8")
    result = run_broadcast("build", "--project", project, "--locale", "uk",
                           env=process_env(PYTHONPATH=str(plugins)))
    assert result.code == 0, result
    assert rendered(project, "uk")["ident"]["made_by"]["engine"] == "hum"
