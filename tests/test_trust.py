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
from helpers import CAMPAIGN, bundle_members, install_plugin, po_path, process_env, run_broadcast, set_translation

from pipeline.layout import Layout

MARKER_CODE = "import pathlib\npathlib.Path({marker!r}).write_text('ran')\n"


def rendered(root: Path, locale: str, profile: str = "radio") -> dict[str, dict]:
    path = Layout(root).output_folder(CAMPAIGN, locale, profile) / "manifest.json"
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


# --- what a reviewer cannot see is refused ------------------------------------------------

# (locale, context, text): one member of each class of invisible character, in words a
# reviewer reads as ordinary text.
INVISIBLE = [
    ("ru", "Слушайте, когда это \u202eонсапзеб\u202c.", "U+202E"),       # bidi override
    ("ru", "Слушайте, когда это без\u200bопасно.", "U+200B"),            # zero-width space
    ("uk", "Слухайте, коли це без\u2060печно.", "U+2060"),              # word joiner
    ("uk", "Слухайте, коли це без\u00adпечно.", "U+00AD"),              # soft hyphen
    ("uk", "Слухайте, коли це безпечно.\U000e0041", "U+E0041"),          # tag character
    ("uk", "Слухайте, коли це безпеч\ufe0fно.", "U+FE0F"),              # variation selector
    ("uk", "Слухайте, коли це \ue000безпечно.", "U+E000"),              # private use
    ("uk", "Слухайте, коли це \u2067безпечно\u2069.", "U+2067"),         # bidi isolate
    ("ko_KP", "안전할 때\u3164 들으십시오.", "U+3164"),                    # Hangul filler
    ("ko_KP", "안전할 때 들\u200d으십시오.", "U+200D"),                    # zero-width joiner
]


@pytest.mark.parametrize("locale, text, code", INVISIBLE, ids=[c for *_, c in INVISIBLE])
def test_an_invisible_character_keeps_the_message_out(project, locale, text, code):
    set_translation(project, locale, "ident", text, index=1)
    result = run_broadcast("check", "--project", project, "--locale", locale)
    assert result.code == 1, result
    line = next(x for x in result.out.split("\n") if "[control]" in x)
    assert "demo.po:" in line and code in line and "column" in line, line
    result = run_broadcast("build", "--project", project, "--locale", locale,
                           "--profile", "radio")
    assert "ident" not in rendered(project, locale), result
    assert "not-alone" in rendered(project, locale)


@pytest.mark.parametrize("mark", ["\u2028", "\u2029", "\x85", "\x1e", "\x1c"])
def test_a_line_break_that_polib_would_split_at_is_refused(project, mark):
    """polib splits a line at U+2028 (as str.splitlines does) and drops what is around it:
    the voice would read other words than the file shows."""
    set_translation(project, "uk", "ident", f"Слухайте, коли{mark}це безпечно.", index=1)
    result = run_broadcast("check", "--project", project, "--locale", "uk")
    assert result.code == 2
    line = one_line(result)
    assert "locales/uk/LC_MESSAGES/demo.po:" in line and f"U+{ord(mark):04X}" in line, line


def test_the_joiners_a_script_needs_are_allowed_there_only():
    from pipeline.content.text import invisible
    persian = "می\u200cخواهم"                      # ZWNJ inside a Persian verb
    assert invisible(persian, "fa") is None
    assert invisible(persian, "ru") == (2, "\u200c")
    assert invisible("क्\u200dष", "hi") is None
    assert invisible("line one\nline two\ttab", "ru") is None


@pytest.mark.parametrize("where, text, says", [
    ("title", "  - id: ident\n    title: Station\u200b identification\n", "U+200B"),
    ("text", "      This is the test station on {frequency} MHz.\n\n      Listen when it is "
             "\u202esafe\u202c to do so.\n", "U+202E"),
    ("variable", '  frequency: "7.2\u2066"\n', "U+2066"),
])
def test_an_invisible_character_in_a_source_is_one_line(project, where, text, says):
    path = project / "messages" / "demo.yaml"
    source = path.read_text(encoding="utf-8")
    plain = {"title": "  - id: ident\n    title: Station identification\n",
             "text": "      This is the test station on {frequency} MHz.\n\n      Listen when it "
                     "is safe to do so.\n",
             "variable": '  frequency: "7.2"\n'}[where]
    assert plain in source
    path.write_text(source.replace(plain, text), encoding="utf-8")
    result = run_broadcast("status", "--project", project)
    assert result.code == 2
    line = one_line(result)
    assert "messages/demo.yaml:" in line and says in line, line


@pytest.mark.parametrize("table, line", [
    ("lexicon.tsv", "КНДР\tКорейская\u200bНародно-Демократическая Республика\n"),
    ("glossary.tsv", "keep\tKu\u202ersk\n"),
])
def test_an_invisible_character_in_a_lexicon_or_glossary_is_one_line(project, table, line):
    (project / "locales" / "ru" / table).write_text(line, encoding="utf-8")
    result = run_broadcast("check", "--project", project)
    assert result.code == 2
    text = one_line(result)
    assert f"locales/ru/{table}:1" in text and "U+" in text, text


def test_a_translation_of_punctuation_or_spaces_alone_is_an_error_on_its_unit(project):
    for text in ("...", " ", "\u00a0", "—"):
        set_translation(project, "uk", "not-alone", text, index=1)
        result = run_broadcast("check", "--project", project, "--locale", "uk", "--json")
        found = [f for f in json.loads(result.out) if f["check"] == "no-words"]
        assert found and found[0]["message"] == "not-alone" and found[0]["line"], text
        assert found[0]["severity"] == "error"


# --- NFD text is the same text ------------------------------------------------------------

def nfd_everywhere(project: Path, locale: str) -> None:
    path = po_path(project, locale)
    po = polib.pofile(str(path))
    for entry in po:
        entry.msgstr = unicodedata.normalize("NFD", entry.msgstr)
    po.save(str(path))


@pytest.mark.parametrize("locale", ["ko_KP", "ru"])
def test_text_saved_in_nfd_is_read_as_the_same_text(project, locale):
    assert run_broadcast("build", "--project", project, "--locale", locale,
                         "--profile", "radio").code == 0
    before = rendered(project, locale)
    nfd_everywhere(project, locale)
    raw = po_path(project, locale).read_text(encoding="utf-8")
    assert raw != unicodedata.normalize("NFC", raw)         # the file really is NFD
    result = run_broadcast("check", "--project", project, "--locale", locale)
    assert result.code == 0, result
    result = run_broadcast("build", "--project", project, "--locale", locale,
                           "--profile", "radio")
    assert result.code == 0 and "0 syntheses" in result.out, result
    after = rendered(project, locale)
    assert {k: (v["sha256"], v["text"]) for k, v in after.items()} == \
        {k: (v["sha256"], v["text"]) for k, v in before.items()}
    assert all(v["text"] == unicodedata.normalize("NFC", v["text"]) for v in after.values())


def test_a_recording_binding_keeps_its_state_across_normalization_forms(project):
    import numpy as np
    import soundfile

    from pipeline.voice.recordings import text_hash
    folder = project / "locales" / "ru" / "recordings"
    folder.mkdir()
    tone = (0.3 * np.sin(np.arange(48000) * 2 * np.pi * 220 / 48000)).astype(np.float32)
    for mid in ("ident", "not-alone"):
        soundfile.write(folder / f"{mid}.wav", tone, 48000, subtype="PCM_16")
    po = polib.pofile(str(po_path(project, "ru")))
    text = "\n\n".join(e.msgstr for e in po if e.msgctxt == "ident").replace(
        "{frequency}", "7.2")
    # A take bound (in NFD, as a tool saved it) to the current text: fresh, and stays so.
    (folder / "ident.txt").write_text(unicodedata.normalize("NFD", text), encoding="utf-8")
    # A take bound to an older text: stale, and stays so whatever the form.
    (folder / "not-alone.txt").write_text(unicodedata.normalize("NFD", "Старый текст."),
                                          encoding="utf-8")
    assert text_hash(unicodedata.normalize("NFD", text)) == text_hash(text)
    nfd_everywhere(project, "ru")
    result = run_broadcast("status", "--project", project, "--locale", "ru", "--json")
    states = json.loads(result.out)["campaigns"]["demo"]["locales"]["ru"]["recordings"]
    assert states["fresh"] == ["ident"] and states["stale"] == ["not-alone"], states


# --- every digit-group separator reads as one number ------------------------------------

@pytest.mark.parametrize("mark", [" ", "\u00a0", "\u202f", "\u2009", "\u2007", "\u2008",
                                  "\u200a", "\u2005", "."])
def test_a_number_reads_as_one_number_whatever_separates_its_groups(project, mark):
    result = run_broadcast("say", "--project", project, "--locale", "ru", "--text-only",
                           f"Более 30{mark}000 солдат")
    assert result.code == 0 and result.out.strip() == "Более тридцати тысяч солдат", result


@pytest.fixture
def defects(tmp_path) -> Path:
    import shutil

    from helpers import DATA
    return Path(shutil.copytree(DATA / "checks", tmp_path / "defects"))


def number_findings(root: Path, text: str) -> list[dict]:
    path = root / "locales" / "ru" / "LC_MESSAGES" / "defects.po"
    po = polib.pofile(str(path))
    next(e for e in po if e.msgctxt == "m-numbers").msgstr = text
    po.save(str(path))
    result = run_broadcast("check", "--project", root, "--locale", "ru", "--json")
    return [f for f in json.loads(result.out)
            if f["check"] == "numbers" and f["message"] == "m-numbers"]


@pytest.mark.parametrize("text", ["Ушли более 30\u2009000 человек.", "Ушли более 30\u2007000 человек.",
                                  "Ушли более 30.000 человек.", "Ушли более 30\u202f000 человек.",
                                  "Ушли более тридцати тысяч человек."])
def test_the_same_figure_however_grouped_is_no_finding(defects, text):
    assert number_findings(defects, text) == []


@pytest.mark.parametrize("text, says", [
    ("Ушли более 3 000 человек.", "30000"),                       # changed
    ("Ушли более тысячи человек.", "30000"),                      # dropped
    ("Ушли более 30 000 человек из 12 городов.", "12"),           # added
    ("Ушли более 30,000 человек.", "30000"),                      # a decimal in ru: 30.0
])
def test_a_wrong_figure_is_an_error(defects, text, says):
    found = number_findings(defects, text)
    assert found and all(f["severity"] == "error" for f in found), found
    assert any(says in f["text"] for f in found), found


# --- the render cache is verified before use ----------------------------------------------

def _usb_bitrate(root: Path, kbps: int) -> None:
    toml = root / "broadcast.toml"
    toml.write_text(toml.read_text(encoding="utf-8") +
                    f"\n[profiles.usb]\nbitrate_kbps = {kbps}\n", encoding="utf-8")


def _keys(root: Path, locale: str, message: str) -> list[str]:
    from pipeline.project import open_project
    project = open_project(root)
    campaign = project.campaigns[0]
    return project.voicing(campaign, locale, message).speech_keys()


def test_a_speech_cache_entry_copied_over_another_is_not_used(project, tmp_path):
    from helpers import copy_project
    args = ("--locale", "uk", "--profile", "usb")
    assert run_broadcast("build", "--project", project, *args).code == 0
    speech = Layout(project).cache_dir / "speech"
    ident, other = _keys(project, "uk", "ident")[0], _keys(project, "uk", "not-alone")[0]
    for ext in ("wav", "sha256"):             # the other paragraph's entry, seal and all
        (speech / f"{ident}.{ext}").write_bytes((speech / f"{other}.{ext}").read_bytes())
    _usb_bitrate(project, 96)
    result = run_broadcast("build", "--project", project, *args)
    assert result.code == 0, result
    fresh = copy_project(tmp_path / "fresh")
    _usb_bitrate(fresh, 96)
    assert run_broadcast("build", "--project", fresh, *args).code == 0
    assert rendered(project, "uk", "usb")["ident"]["sha256"] == \
        rendered(fresh, "uk", "usb")["ident"]["sha256"]


def test_a_final_cache_entry_copied_over_another_is_not_used(project, tmp_path):
    args = ("--locale", "uk", "--profile", "usb")
    assert run_broadcast("build", "--project", project, *args).code == 0
    before = rendered(project, "uk", "usb")
    final = Layout(project).cache_dir / "final"
    metas = {json.loads(p.read_text())["sha256"]: p for p in final.glob("*.json")}
    ident, other = metas[before["ident"]["sha256"]], metas[before["not-alone"]["sha256"]]
    for ext in ("mp3", "json", "master.wav"):
        target = ident.with_suffix("").with_suffix(f".{ext}")
        target.write_bytes(other.with_suffix("").with_suffix(f".{ext}").read_bytes())
    (Layout(project).output_folder(CAMPAIGN, "uk", "usb")).rename(tmp_path / "moved")
    assert run_broadcast("build", "--project", project, *args).code == 0
    assert rendered(project, "uk", "usb")["ident"]["sha256"] == before["ident"]["sha256"]


# --- scripts never write a binding --------------------------------------------------------

def _take(folder: Path, mid: str, text: str) -> None:
    import numpy as np
    import soundfile
    folder.mkdir(parents=True, exist_ok=True)
    tone = (0.3 * np.sin(np.arange(48000) * 2 * np.pi * 220 / 48000)).astype(np.float32)
    soundfile.write(folder / f"{mid}.wav", tone, 48000, subtype="PCM_16")
    (folder / f"{mid}.txt").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("out", ["locales/ru/recordings", "locales/uk/recordings",
                                 "locales/ru/recordings/sub", "takes"])
def test_scripts_never_write_over_a_binding(project, out):
    _take(project / "locales" / "ru" / "recordings", "ident", "Старый текст.")
    _take(project / "takes", "ident", "Старый текст.")
    (project / "locales" / "uk" / "recordings").mkdir(parents=True)
    before = (project / "locales" / "ru" / "recordings" / "ident.txt").read_bytes()
    result = run_broadcast("scripts", "ru", "--out", project / out, "--project", project)
    assert result.code == 2, result
    assert "binding" in one_line(result) or "recordings folder" in one_line(result)
    assert (project / "locales" / "ru" / "recordings" / "ident.txt").read_bytes() == before
    status = run_broadcast("status", "--project", project, "--locale", "ru", "--json")
    states = json.loads(status.out)["campaigns"]["demo"]["locales"]["ru"]["recordings"]
    assert states["stale"] == ["ident"], states


def test_scripts_keep_a_users_file_unless_forced(project, tmp_path):
    out = tmp_path / "studio"
    out.mkdir()
    (out / "ident.txt").write_text("my notes\n", encoding="utf-8")
    result = run_broadcast("scripts", "ru", "--out", out, "--project", project)
    assert result.code == 2 and "ident.txt" in one_line(result) and "--force" in result.err
    assert (out / "ident.txt").read_text(encoding="utf-8") == "my notes\n"
    assert not (out / "demo.html").exists()             # nothing written
    assert run_broadcast("scripts", "ru", "--out", out, "--force", "--project", project).code == 0
    assert "{" not in (out / "ident.txt").read_text(encoding="utf-8")
    # The command's own folder is its own: written again without --force.
    assert run_broadcast("scripts", "ru", "--project", project).code == 0
    assert run_broadcast("scripts", "ru", "--project", project).code == 0


# --- a recording is one plain audio file of the project -----------------------------------

def _bound_text(root: Path, locale: str, mid: str) -> str:
    po = polib.pofile(str(po_path(root, locale)))
    return "\n\n".join(e.msgstr for e in po if e.msgctxt == mid).replace("{frequency}",
                                                                          "7.2")


def _outside_mp3(folder: Path) -> Path:
    import numpy as np

    from pipeline.audio.codec import encode_mp3
    from pipeline.audio.dsp import Audio
    folder.mkdir(parents=True, exist_ok=True)
    tone = (0.3 * np.sin(np.arange(96000) * 2 * np.pi * 330 / 48000)).astype(np.float32)
    path = folder / "outside.mp3"
    path.write_bytes(encode_mp3(Audio(tone, 48000), 128))
    return path


@pytest.mark.parametrize("name, content", [
    ("ident.mp3", "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:2.0,\n{outside}\n#EXT-X-ENDLIST\n"),
    ("ident.wav", "#EXTM3U\n#EXTINF:2.0,\nfile:{outside}\n"),
    ("ident.flac", "ffconcat version 1.0\nfile '{outside}'\n"),
    ("ident.mp3", "[playlist]\nFile1={outside}\nNumberOfEntries=1\n"),
])
def test_a_recording_that_names_other_audio_is_refused(project, tmp_path, name, content):
    outside = _outside_mp3(tmp_path / "elsewhere")
    folder = project / "locales" / "uk" / "recordings"
    folder.mkdir(parents=True)
    (folder / name).write_text(content.format(outside=outside), encoding="utf-8")
    (folder / "ident.txt").write_text(_bound_text(project, "uk", "ident"), encoding="utf-8")
    result = run_broadcast("build", "--project", project, "--locale", "uk", "--profile", "radio")
    # Refused at the gate (the take is not used: its message is skipped, the take named)
    # or on input (the render fails, naming it).
    said = [line for line in (result.out + result.err).split("\n")
            if f"locales/uk/recordings/{name}" in line]
    assert said and "not a WAV, FLAC, MP3 or Ogg" in said[0], result
    assert "Traceback" not in result.err
    made_by = [m["made_by"] for m in rendered(project, "uk").values()]
    assert not any("recording" in m for m in made_by)


def test_an_intro_that_is_a_playlist_is_refused(project, tmp_path):
    outside = _outside_mp3(tmp_path / "elsewhere")
    (project / "audio").mkdir()
    (project / "audio" / "jingle.wav").write_text(f"#EXTM3U\n#EXTINF:2.0,\n{outside}\n")
    path = project / "messages" / "demo.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "    gap_seconds: 1.0\n", "    gap_seconds: 1.0\n    intro: audio/jingle.wav\n"),
        encoding="utf-8")
    result = run_broadcast("build", "--project", project, "--locale", "ko_KP",
                           "--profile", "radio")
    assert result.code in (1, 2) and "audio/jingle.wav" in result.err, result
    assert "Traceback" not in result.err


def test_a_take_longer_than_its_message_may_last_is_refused_in_bounded_memory(project):
    import numpy as np
    import soundfile
    folder = project / "locales" / "uk" / "recordings"
    folder.mkdir(parents=True)
    # ten minutes for a message of at most 30 s
    with soundfile.SoundFile(folder / "ident.wav", "w", 48000, 1, "PCM_16") as f:
        block = (0.2 * np.sin(np.arange(48000) * 2 * np.pi * 200 / 48000)).astype(np.float32)
        for _ in range(600):
            f.write(block)
    (folder / "ident.txt").write_text(_bound_text(project, "uk", "ident"), encoding="utf-8")
    result = run_broadcast("build", "--project", project, "--locale", "uk", "--profile", "radio")
    said = [line for line in (result.out + result.err).split("\n")
            if "locales/uk/recordings/ident.wav" in line]
    assert said and "more than 30 s" in said[0], result
    assert "Traceback" not in result.err
    assert "ident" not in rendered(project, "uk")


# --- a near copy of the source is the wrong language ---------------------------------------

def _init_locale(project: Path, locale: str) -> Path:
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'locales = ["ko_KP", "ru", "uk"]', f'locales = ["ko_KP", "ru", "uk", "{locale}"]') +
        f'\n[voices.{locale}]\nengine = "tone"\nvoice = "{locale}"\n', encoding="utf-8")
    assert run_broadcast("init", locale, "--project", project).code == 0
    return po_path(project, locale)


NEAR_COPIES = [
    ("de", "Listen when it is safe to do so, bitte."),               # a word added
    ("fr", "Listen when it is sûr to do so."),                      # a word changed
    ("es", "When it is safe to do so, listen."),                    # words reordered
    ("pl", "LISTEN WHEN IT IS SAFE TO DO SO."),                     # in capitals
]


@pytest.mark.parametrize("locale, text", NEAR_COPIES, ids=[c[0] for c in NEAR_COPIES])
def test_a_near_copy_of_the_source_is_not_spoken(project, locale, text):
    path = _init_locale(project, locale)
    translations = {"ident|title": "Senderkennung", "ident": None}
    po = polib.pofile(str(path))
    for entry in po:
        if entry.msgctxt == "ident|title":
            entry.msgstr = translations["ident|title"]
        elif entry.msgctxt == "ident":
            entry.msgstr = ("Teststation auf {frequency} MHz." if "{frequency}" in entry.msgid
                            else text)
    po.save(str(path))
    result = run_broadcast("check", "--project", project, "--locale", locale, "--json")
    found = [f for f in json.loads(result.out) if f["check"] == "unchanged"]
    assert [f["message"] for f in found] == ["ident"], result.out
    assert found[0]["severity"] == "error" and "source's language" in found[0]["text"]
    run_broadcast("build", "--project", project, "--locale", locale, "--profile", "radio")
    assert "ident" not in rendered(project, locale)


def test_a_real_translation_sharing_names_is_no_near_copy():
    from pipeline.catalogs.state import UnitState
    from pipeline.checks.glossary import Glossary
    from pipeline.checks.registry import UnitContext
    from pipeline.checks.units import unchanged
    from pipeline.content.extract import Unit
    source = "The International Committee of the Red Cross visits prisoners in Kursk."
    german = "Das Internationale Komitee vom Roten Kreuz besucht Gefangene in Kursk."
    unit = UnitState(Unit("m", "m", source, 1), "translated", german, 1)
    assert list(unchanged(UnitContext(unit, "de", "en", Glossary(keep=("Kursk",))))) == []


# --- a killed build leaves no worker behind --------------------------------------------------

def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_kill_9_of_a_build_leaves_no_worker_alive(project):
    import os
    import signal
    import subprocess
    import sys
    import time
    env = process_env(FAKE_ENGINE_HANG="1")           # workers hang in synthesis
    workers: set[int] = set()
    build = subprocess.Popen([sys.executable, "-m", "pipeline", "build", "--project",
                              str(project), "--jobs", "2", "--locale", "uk"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(workers) < 2:
            workers = _children(build.pid)
            time.sleep(0.1)
        assert len(workers) >= 2, workers
        time.sleep(1.0)                               # they are at work (hanging)
        build.send_signal(signal.SIGKILL)
        build.wait(10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)]
    finally:
        build.kill()
        for w in workers:                   # (on the old code they would stay for good)
            if _alive(w):
                os.kill(w, signal.SIGKILL)


# --- the lock belongs to the project ------------------------------------------------------

def _hold_lock(project: Path, env: dict | None = None):
    """A process that holds the project's lock (as a writing command does) until killed."""
    import subprocess
    import sys
    code = ("import sys, time\nfrom pathlib import Path\nfrom pipeline.layout import Layout\n"
            "from pipeline.lock import project_lock\n"
            "with project_lock(Layout(Path(sys.argv[1]))):\n"
            "    print('held', flush=True)\n    time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(project)], env=env,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_the_lock_is_taken_without_a_config_and_whatever_the_temp_folder(project, tmp_path):
    (project / "broadcast.toml").unlink()               # documented as optional
    other_tmp = tmp_path / "other-tmp"
    other_tmp.mkdir()
    holder = _hold_lock(project, process_env(TMPDIR=str(other_tmp)))
    try:
        result = run_broadcast("build", "--project", project, "--locale", "ru")
        assert result.code == 1 and "another broadcast command is running" in result.err
        assert f"pid {holder.pid}" in result.err
        assert not (Layout(project).out_dir).exists()
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_file_in_the_temp_folder_is_never_in_the_way(project):
    """A lock file that another user (root) left in the shared temp folder, where the
    lock used to live, and that this user cannot open: the project's lock lives in the
    project. (As root, a folder in its place stands for a file this user cannot open.)"""
    import hashlib
    import shutil
    import tempfile
    name = hashlib.sha256(str(project.resolve()).encode("utf-8")).hexdigest()[:20]
    stale = Path(tempfile.gettempdir()) / f"broadcast-project-{name}.lock"
    stale.mkdir()
    try:
        result = run_broadcast("update", "--project", project)
        assert result.code == 0, result
        assert (project / ".broadcast.lock").exists()
        assert not (project / ".broadcast.pid").exists()
    finally:
        shutil.rmtree(stale)


# --- only what the pipeline made is removed --------------------------------------------------

def test_files_and_folders_the_pipeline_did_not_make_are_left_and_named(project, tmp_path):
    import shutil
    args = ("--locale", "uk", "--profile", "radio")
    assert run_broadcast("build", "--project", project, *args).code == 0
    radio = Layout(project).output_folder(CAMPAIGN, "uk", "radio")
    archive = Layout(project).out_dir / "demo-2024" / "uk" / "radio"     # an archived copy
    shutil.copytree(radio, archive)
    archived = sorted(p.name for p in archive.iterdir())
    (radio / "jingle.wav").write_bytes(b"RIFF-a-user's-jingle")
    (radio / "notes.txt").write_text("to air at 18:00\n")
    # withdraw one message, so that the folder is rewritten
    set_translation(project, "uk", "ident", "Нова станція на {frequency}.")
    result = run_broadcast("build", "--project", project, *args)
    assert result.code == 0, result
    assert "withdrew" in result.out or "ident" in rendered(project, "uk")
    assert sorted(p.name for p in archive.iterdir()) == archived
    assert (radio / "jingle.wav").read_bytes() == b"RIFF-a-user's-jingle"
    assert (radio / "notes.txt").read_text() == "to air at 18:00\n"
    assert "left audio_out/demo-2024/uk/radio as it is" in result.out
    assert "left in audio_out/demo/uk/radio: jingle.wav, notes.txt" in result.out
    held = bundle_members(Layout(project).out_dir / "bundles" / "demo-uk-radio.zip")
    assert not {"jingle.wav", "notes.txt"} & set(held)


# --- a signature never outlives its zip --------------------------------------------------------

def test_a_rebuilt_bundle_loses_its_old_signature_and_says_so(project, tmp_path):
    keys = tmp_path / "keys"
    assert run_broadcast("keygen", "--unencrypted", "--out", keys).code == 0
    args = ("--project", project, "--locale", "uk", "--profile", "usb")
    assert run_broadcast("build", *args, "--sign", keys / "broadcast.key").code == 0
    zip_path = Layout(project).out_dir / "bundles" / "demo-uk-usb.zip"
    signature = Path(str(zip_path) + ".minisig")
    assert signature.exists()
    _usb_bitrate(project, 96)
    result = run_broadcast("build", *args)
    assert result.code == 0, result
    assert not signature.exists()
    assert "the bundle is unsigned now" in result.out
    result = run_broadcast("verify", zip_path, "--pubkey", keys / "broadcast.pub")
    assert result.code == 1 and "signature is missing" in result.out     # not "altered"
    result = run_broadcast("verify", zip_path, "--project", project)
    assert result.code == 0 and "not signed" in result.out


# --- a campaign variable is held to the locale it is spoken in ---------------------------------

@pytest.mark.parametrize("value, locales", [
    ("7.2 MHz", ["ko_KP", "ru", "uk"]),            # a unit in Latin letters
    ("7.2 мегагерц", ["ko_KP"]),                   # fine in ru and uk, not in Korean
    ("7,2", []),
])
def test_a_variable_is_held_to_the_script_of_every_locale_it_is_spoken_in(project, value,
                                                                          locales):
    path = project / "messages" / "demo.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        '  frequency: "7.2"', f'  frequency: "{value}"'), encoding="utf-8")
    result = run_broadcast("check", "--project", project, "--json")
    found = sorted(f["locale"] for f in json.loads(result.out) if f["check"] == "variables")
    assert found == sorted(locales), result.out
    assert all(f["message"] == "ident" and f["severity"] == "error"
               for f in json.loads(result.out) if f["check"] == "variables")


# --- a lexicon hides nothing from the review ------------------------------------------------

@pytest.mark.parametrize("line, says", [
    ("КНДР\tthe DPRK, surrender now\n", "'the'"),
    ("безопасно\tsafe\n", "'safe'"),
    ("безопасно\tбезопасно\u200b\n", "U+200B"),
])
def test_a_lexicon_entry_is_held_to_the_locales_script(project, line, says):
    (project / "locales" / "ru" / "lexicon.tsv").write_text(line, encoding="utf-8")
    result = run_broadcast("build", "--project", project, "--locale", "ru")
    assert result.code == 2
    text = one_line(result)
    assert "locales/ru/lexicon.tsv:1" in text and says in text, text


def test_what_the_lexicon_makes_the_voice_say_is_shown_beside_the_text(project):
    (project / "locales" / "ru" / "lexicon.tsv").write_text("безопасно\tопасно\n",
                                                          encoding="utf-8")
    assert run_broadcast("build", "--project", project, "--locale", "ru",
                         "--profile", "radio").code == 0
    entry = rendered(project, "ru")["ident"]
    assert "безопасно" in entry["text"] and "опасно." in entry["spoken"]
    assert "безопасно" not in entry["spoken"]
    page = (Layout(project).output_folder(CAMPAIGN, "ru", "radio") / "index.html").read_text()
    assert "Spoken as:" in page and "когда это опасно" in page


def test_bundle_refuses_a_folder_whose_audio_was_edited_in_place(project):
    args = ("--project", project, "--locale", "uk", "--profile", "radio")
    assert run_broadcast("build", *args).code == 0
    wav = next((Layout(project).output_folder(CAMPAIGN, "uk", "radio")).glob("01-*.wav"))
    data = bytearray(wav.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 100] = b"\x7f" * 100            # same size, other samples
    with open(wav, "r+b") as fh:                        # in place: the cache's file too
        fh.write(data)
    result = run_broadcast("bundle", *args)
    assert result.code != 0 and "differs from SHA256SUMS" in one_line(result), result
    assert "unchanged" not in result.out


@pytest.mark.parametrize("target, says", [
    ("locales/ru/LC_MESSAGES/demo.po", "nothing into the project's own files"),
    ("locales/ru/new.wav", "nothing into the project's own files"),
    ("notes.txt", "not a WAV"),
    ("folder", "is a folder"),
])
def test_say_never_writes_over_what_it_should_not(project, target, says):
    (project / "notes.txt").write_text("mine\n")
    (project / "folder").mkdir()
    from helpers import snapshot
    before = snapshot(project)
    result = run_broadcast("say", "--project", project, "--locale", "ru", "--out",
                           project / target, "Тест.")
    assert result.code == 2 and says in one_line(result), result
    assert ".tmp" not in result.err
    assert snapshot(project) == before
    elsewhere = project / "say.wav"
    assert run_broadcast("say", "--project", project, "--locale", "ru", "--out", elsewhere,
                         "Тест.").code == 0
    assert run_broadcast("say", "--project", project, "--locale", "ru", "--out", elsewhere,
                         "Ещё тест.").code == 0                 # its own WAV: replaced


@pytest.mark.parametrize("name, meant", [("ident.WAV", "ident.wav"), ("ident .wav", "ident.wav"),
                                         ("\u0456dent.wav", "ident.wav"),
                                         ("not-alone.Mp3", "not-alone.mp3")])
def test_a_misnamed_take_is_named_as_stray(project, name, meant):
    folder = project / "locales" / "ru" / "recordings"
    folder.mkdir(parents=True)
    (folder / name).write_bytes(b"RIFF")
    (folder / "notes.odt").write_bytes(b"PK")
    result = run_broadcast("status", "--project", project, "--locale", "ru", "--json")
    states = json.loads(result.out)["campaigns"]["demo"]["locales"]["ru"]["recordings"]
    assert states["stray"] == sorted([f"{name} (is it {meant}?)", "notes.odt"]), states
    text = run_broadcast("status", "--project", project, "--locale", "ru").out
    assert "recordings stray: " in text and f"is it {meant}?" in text
