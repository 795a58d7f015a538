"""The safety gate, as a user meets it: whatever cannot be proven to be the approved
translation is not spoken, in any profile or bundle. Every case runs the CLI as a process."""

from __future__ import annotations

import json
from pathlib import Path

import polib
import pytest
from helpers import CAMPAIGN, bundle_members, po_path, run_broadcast, set_translation

from pipeline.layout import Layout


def rendered_ids(root: Path, locale: str, profile: str) -> set[str]:
    folder = Layout(root).output_folder(CAMPAIGN, locale, profile)
    if not (folder / "manifest.json").exists():
        return set()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return {f["id"] for f in manifest["files"] if f["kind"] == "message"}


def bundled_ids(root: Path, locale: str, profile: str) -> set[str]:
    path = Layout(root).out_dir / "bundles" / f"demo-{locale}-{profile}.zip"
    if not path.exists():
        return set()
    manifest = json.loads(bundle_members(path)["manifest.json"])
    return {f["id"] for f in manifest["files"] if f["kind"] == "message"}


def build(root: Path, *args) -> object:
    result = run_broadcast("build", "--project", root, *args)
    assert result.code in (0, 1), result.err
    return result


@pytest.mark.parametrize("case, locale, text, check", [
    ("format spec", "ru", "Позывные станции на {frequency:d}.", "placeholders"),
    ("conversion", "ru", "Позывные станции на {frequency!r}.", "placeholders"),
    ("NUL byte", "ru", "Позывные станции\x00 на частоте {frequency}.", "control"),
    ("English in capitals", "ko_KP", "이것은 {frequency} 방송입니다. LISTEN WHEN IT IS SAFE.",
     "script"),
])
def test_a_leaking_translation_is_not_spoken(project, case, locale, text, check):
    # 'ident' paragraph 1 holds {frequency}; every other unit stays approved.
    set_translation(project, locale, "ident", text)
    result = run_broadcast("check", "--project", project, "--locale", locale)
    assert f"[{check}]" in result.out + result.err, result
    build(project, "--locale", locale)
    for profile in ("radio", "usb", "shortwave"):
        ids = rendered_ids(project, locale, profile)
        assert ids and "ident" not in ids, (profile, ids)
        assert "ident" not in bundled_ids(project, locale, profile)


def test_source_copied_into_a_locale_of_unknown_script_is_not_spoken(project):
    """broadcast init ja, then Poedit's "copy source" on every unit."""
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'locales = ["ko_KP", "ru", "uk"]', 'locales = ["ko_KP", "ru", "uk", "ja"]') +
        '\n[voices.ja]\nengine = "tone"\nvoice = "ja"\n', encoding="utf-8")
    assert run_broadcast("init", "ja", "--project", project).code == 0
    path = po_path(project, "ja")
    po = polib.pofile(str(path))
    for entry in po:
        entry.msgstr = entry.msgid
    po.save(str(path))
    result = run_broadcast("check", "--project", project, "--locale", "ja")
    assert "[unchanged]" in result.out
    result = build(project, "--locale", "ja")
    assert result.code == 1 and "nothing was rendered" in result.err
    assert not (Layout(project).out_dir / "demo" / "ja").exists()


def test_unchanged_still_allows_what_may_stay_as_written(project):
    """A unit made only of a name kept as written is not 'unchanged' (no false alarm)."""
    from pipeline.catalogs.state import UnitState
    from pipeline.checks.glossary import Glossary
    from pipeline.checks.registry import UnitContext
    from pipeline.checks.units import unchanged
    from pipeline.content.extract import Unit
    keep = Glossary(keep=("Kursk",), required=(), forbidden=())
    unit = UnitState(Unit("m", "m|title", "Kursk", 1), "translated", "Kursk", 1)
    assert list(unchanged(UnitContext(unit, "ja", "en", keep))) == []
    unit = UnitState(Unit("m", "m|title", "Listen", 1), "translated", "listen", 1)
    assert list(unchanged(UnitContext(unit, "ja", "en", keep)))
    assert list(unchanged(UnitContext(unit, "en_GB", "en", keep))) == []
