"""Catalogs against the real tools: GNU msgfmt, Python's gettext, polib and pybabel."""

from __future__ import annotations

import gettext
import json
import re
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from helpers import DATA, snapshot

from pipeline.catalogs import ops as catalogs
from pipeline.catalogs.pofile import load_po, write_catalog
from pipeline.content.sources import load_campaign
from pipeline.layout import Layout

BAD_PO = sorted((DATA / "bad_po").glob("*.po"))


def msgfmt_check(path: Path) -> None:
    result = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def po_file(project: Path, locale: str, campaign: str = "demo") -> Path:
    return project / "locales" / locale / "LC_MESSAGES" / f"{campaign}.po"


def test_extract_writes_units_with_context_comments_references_and_flags(project, cli):
    (project / "locales" / "demo.pot").unlink()
    assert cli("extract", "--project", project).code == 0
    pot = polib.pofile(str(project / "locales" / "demo.pot"))
    campaign = load_campaign(project / "messages" / "demo.yaml")
    paragraphs = sum(len(m.paragraphs) for m in campaign.messages)
    assert len(pot) == len(campaign.messages) + paragraphs + len(campaign.programs)
    program = pot.find("Evening broadcast", msgctxt="program:evening|title")
    assert program is not None and "not spoken" in program.comment
    title = pot.find("You are not alone", msgctxt="not-alone|title")
    assert title is not None
    para = pot.find(campaign.message("rights").paragraphs[0].text, msgctxt="rights")
    assert para is not None
    assert "Geneva Conventions" in para.comment          # from note:
    assert para.occurrences == [("messages/demo.yaml", str(campaign.message("rights")
                                                            .paragraphs[0].line))]
    ident = pot.find(campaign.message("ident").paragraphs[0].text, msgctxt="ident")
    assert "python-brace-format" in ident.flags
    assert "python-brace-format" not in para.flags
    msgfmt_check(project / "locales" / "demo.pot")


def test_extract_twice_is_byte_identical(project, cli, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1000000000")
    (project / "locales" / "demo.pot").unlink()
    cli("extract", "--project", project)
    first = (project / "locales" / "demo.pot").read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1900000000")
    result = cli("extract", "--project", project)
    assert "unchanged" in result.out
    assert (project / "locales" / "demo.pot").read_bytes() == first


def test_every_shipped_catalog_passes_msgfmt_check(project, cli):
    assert cli("update", "--project", project).code == 0
    files = sorted((project / "locales").rglob("*.po*"))
    assert len(files) == 4
    for path in files:
        msgfmt_check(path)


def test_compiled_catalogs_read_by_python_gettext(project, cli):
    assert cli("compile", "--project", project).code == 0
    campaign = load_campaign(project / "messages" / "demo.yaml")
    source = campaign.message("not-alone").paragraphs[0].text
    expected = {"ko_KP": ("여러분은 혼자가 아닙니다", "날마다"), "ru": ("Вы не одни", "каждый день")}
    for locale, (title, word) in expected.items():
        mo = project / "locales" / locale / "LC_MESSAGES" / "demo.mo"
        with open(mo, "rb") as fh:
            t = gettext.GNUTranslations(fh)
        assert t.pgettext("not-alone|title", "You are not alone") == title
        assert word in t.pgettext("not-alone", source)
        # The same msgid in another context is not confused with it.
        assert t.pgettext("no-such-message", source) == source
        # gettext's own lookup through the standard folder layout works too.
        tr = gettext.translation("demo", project / "locales", languages=[locale])
        assert tr.pgettext("not-alone|title", "You are not alone") == title


def test_fuzzy_entries_are_left_out_of_the_mo(project, cli):
    assert cli("compile", "--project", project).code == 0
    po = polib.pofile(str(po_file(project, "uk")))
    fuzzy = [e for e in po if e.fuzzy]
    assert fuzzy, "the example keeps one fuzzy unit in uk"
    with open(po_file(project, "uk").with_suffix(".mo"), "rb") as fh:
        t = gettext.GNUTranslations(fh)
    for e in fuzzy:
        assert t.pgettext(e.msgctxt, e.msgid) == e.msgid
    done = next(e for e in po if e.translated())
    assert t.pgettext(done.msgctxt, done.msgid) == done.msgstr


def test_init_uses_babel_plural_forms_and_names(project, cli):
    result = cli("init", "de", "--project", project)
    assert result.code == 0, result
    po = polib.pofile(str(po_file(project, "de")))
    assert po.metadata["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    assert po.metadata["Language"] == "de"
    assert "German" in po.metadata["Language-Team"]
    msgfmt_check(po_file(project, "de"))
    ko = polib.pofile(str(po_file(project, "ko_KP")))
    assert ko.metadata["Plural-Forms"].startswith("nplurals=1;")
    assert "North Korea" in ko.metadata["Language-Team"]
    # An existing catalog is never overwritten.
    before = po_file(project, "ru").read_bytes()
    assert "exists" in cli("init", "ru", "--project", project).out
    assert po_file(project, "ru").read_bytes() == before


def test_a_new_locale_ships_only_once_it_is_listed(project, cli):
    """After init de, with one message translated: build makes no de folder or bundle
    (status says it is being translated); --locale de renders it on request; listed in
    broadcast.toml's locales, it ships with what is ready."""
    import json

    import polib

    from pipeline.layout import Layout
    assert cli("init", "de", "--project", project).code == 0
    po = polib.pofile(str(po_file(project, "de")))
    german = iter(["Der Sender", "Dies ist der Testsender auf {frequency} Megahertz.",
                   "Hören Sie zu, wenn Sie sicher sind.", "Bleiben Sie ruhig."])
    for entry in po:
        if entry.msgctxt and entry.msgctxt.startswith("ident"):
            text = next(german)
            entry.msgstr = text if ("{frequency}" in text) == ("{frequency}" in entry.msgid) \
                else next(german)
    po.save(str(po_file(project, "de")))
    assert cli("build", "--project", project, "--jobs", "1").code in (0, 1)
    layout = Layout(project)
    assert not (layout.out_dir / "demo" / "de").exists()
    assert not list(layout.out_dir.glob("bundles/*-de-*"))
    status = cli("status", "--project", project)
    assert "not shipped: being translated; add it to locales in broadcast.toml" in status.out
    data = json.loads(cli("status", "--project", project, "--json").out)
    demo = data["campaigns"]["demo"]
    assert demo["locales"]["de"]["ships"] is False
    assert demo["locales"]["ru"]["ships"] is True
    # The campaign's totals count what ships: de is counted as translated work, not ready.
    totals = demo["totals"]
    shipping = [name for name, s in demo["locales"].items() if s["ships"]]
    assert totals["locales"] == len(demo["locales"]) == len(shipping) + 1
    assert totals["shipping"] == len(shipping)
    assert totals["of"] == demo["messages"] * len(shipping)
    assert totals["ready"] == sum(len(demo["locales"][n]["ready"]) for n in shipping)
    assert totals["untranslated"] == sum(s["untranslated"] for s in demo["locales"].values())
    assert totals["untranslated"] >= demo["locales"]["de"]["untranslated"] > 0
    assert "de" not in totals["complete"] and set(totals["complete"]) <= set(shipping)
    asked = cli("render", "--project", project, "--locale", "de", "--profile", "radio")
    assert asked.code in (0, 1), asked
    assert (layout.output_folder("demo", "de", "radio") / "manifest.json").exists(), asked
    toml = project / "broadcast.toml"
    toml.write_text(toml.read_text().replace('locales = ["ko_KP", "ru", "uk"]',
                                             'locales = ["ko_KP", "ru", "uk", "de"]'))
    assert cli("build", "--project", project, "--jobs", "1").code in (0, 1)
    assert list(layout.out_dir.glob("bundles/*-de-*.zip"))


@pytest.mark.parametrize("code", ["xx_QQ", "../ru", "ko-KP-x"])
def test_init_unknown_locale_is_a_clear_error(project, cli, code):
    before = snapshot(project)
    result = cli("init", code, "--project", project)
    assert result.code == 2
    assert len(result.err.strip().split("\n")) == 1
    assert code in result.err and "locale" in result.err
    assert snapshot(project) == before


def _translate_everything(path: Path) -> dict:
    po = polib.pofile(str(path))
    for e in po:
        e.msgstr = "[de] " + e.msgid
    path.write_text(str(po), encoding="utf-8")
    return {(e.msgctxt, e.msgid): e.msgstr for e in po}


def test_translator_round_trip_fuzzes_exactly_the_edited_paragraph(project, cli):
    assert cli("init", "de", "--project", project).code == 0
    translations = _translate_everything(po_file(project, "de"))
    yaml_path = project / "messages" / "demo.yaml"
    old = "They want you to return home alive."
    new = "They want you to come home alive."
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8").replace(old, new),
                         encoding="utf-8")
    assert cli("extract", "--project", project).code == 0
    assert cli("update", "--project", project).code == 0
    po = polib.pofile(str(po_file(project, "de")))
    fuzzy = [e for e in po if e.fuzzy]
    assert len(fuzzy) == 1
    (edited,) = fuzzy
    old_msgid = next(k[1] for k in translations if k[1].endswith(old))
    assert edited.msgctxt == "not-alone"
    assert edited.msgid == old_msgid.replace(old, new)
    assert edited.previous_msgid == old_msgid
    assert edited.msgstr == translations[("not-alone", old_msgid)]
    for e in po:
        if e is not edited and not e.obsolete:
            assert e.msgstr == translations[(e.msgctxt, e.msgid)]
    assert "#| msgid" in po_file(project, "de").read_text(encoding="utf-8")
    msgfmt_check(po_file(project, "de"))
    # A second update changes no byte of any catalog.
    before = snapshot(project / "locales")
    result = cli("update", "--project", project)
    assert result.code == 0
    assert "updated" not in result.out
    assert snapshot(project / "locales") == before


def test_removed_unit_becomes_obsolete_and_returns_when_restored(project, cli):
    yaml_path = project / "messages" / "demo.yaml"
    original = yaml_path.read_text(encoding="utf-8")
    paragraph = "      They want you to return home alive.\n"
    yaml_path.write_text(original.replace("\n" + paragraph, ""), encoding="utf-8")
    assert cli("update", "--project", project).code == 0
    ru = polib.pofile(str(po_file(project, "ru")))
    (gone,) = ru.obsolete_entries()
    assert gone.msgid.startswith("They want") and gone.msgstr.startswith("Они хотят")
    assert "#~ msgid" in po_file(project, "ru").read_text(encoding="utf-8")
    msgfmt_check(po_file(project, "ru"))
    yaml_path.write_text(original, encoding="utf-8")
    assert cli("update", "--project", project).code == 0
    ru = polib.pofile(str(po_file(project, "ru")))
    assert not ru.obsolete_entries()
    back = ru.find(gone.msgid, msgctxt="not-alone")
    assert back.msgstr == gone.msgstr and not back.fuzzy


def test_update_without_fuzzy_matching_and_ignoring_obsolete(project, cli):
    """--no-fuzzy-matching: an edited paragraph gets no fuzzy suggestion (msgmerge's
    option); --ignore-obsolete: a removed unit's translation is dropped, not kept as #~."""
    yaml_path = project / "messages" / "demo.yaml"
    text = yaml_path.read_text(encoding="utf-8")
    yaml_path.write_text(text.replace("They want you to return home alive.",
                                      "They want you to come home alive."), encoding="utf-8")
    assert cli("update", "--project", project, "--no-fuzzy-matching").code == 0
    ru = polib.pofile(str(po_file(project, "ru")))
    edited = next(e for e in ru if not e.obsolete and "come home alive" in e.msgid)
    assert edited.msgstr == "" and not edited.fuzzy and edited.previous_msgid is None
    assert any(e.msgid.endswith("return home alive.") for e in ru.obsolete_entries())
    assert cli("update", "--project", project, "--ignore-obsolete").code == 0
    assert not polib.pofile(str(po_file(project, "ru"))).obsolete_entries()
    msgfmt_check(po_file(project, "ru"))


def test_compile_statistics_count_as_msgfmt_does(project, cli):
    """Fuzzy is fuzzy (pybabel counts it translated): the line is GNU msgfmt's own."""
    import subprocess
    po = polib.pofile(str(po_file(project, "ru")))
    live = [e for e in po if not e.obsolete]
    live[0].flags.append("fuzzy")
    live[1].msgstr = ""
    po.save(str(po_file(project, "ru")))
    result = cli("compile", "--project", project, "--statistics")
    assert result.code == 0, result.err
    ours = next(line for line in result.out.splitlines()
                if line.startswith("locales/ru/LC_MESSAGES/demo.po: "))
    gnu = subprocess.run(["msgfmt", "--statistics", "-o", "/dev/null",
                          str(po_file(project, "ru"))], capture_output=True, text=True)
    assert ours.split(": ", 1)[1] == gnu.stderr.strip(), (ours, gnu.stderr)
    assert "1 fuzzy translation" in ours and "1 untranslated message" in ours


def test_update_check_writes_nothing_and_reports(project, cli):
    assert cli("update", "--project", project).code == 0
    assert cli("update", "--check", "--project", project).code == 0
    yaml_path = project / "messages" / "demo.yaml"
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8")
                         .replace("They want you to return", "They want you to come"), encoding="utf-8")
    before = snapshot(project / "locales")
    result = cli("update", "--check", "--project", project)
    assert result.code == 1
    assert "out of date: locales/ru/LC_MESSAGES/demo.po" in result.out
    assert "out of date: locales/demo.pot" in result.out
    assert snapshot(project / "locales") == before


def test_compile_refuses_placeholder_mismatch_naming_file_and_line(project, cli):
    path = po_file(project, "ru")
    po = polib.pofile(str(path))
    entry = next(e for e in po if e.msgctxt == "ident")
    entry.msgstr = entry.msgstr.replace("{frequency}", "{frequence}")
    path.write_text(str(po), encoding="utf-8")
    lines = path.read_text(encoding="utf-8").split("\n")
    start = lines.index('msgctxt "ident"')
    line = next(i for i, l in enumerate(lines[start:], start + 1) if l.startswith("msgstr"))
    result = cli("compile", "--project", project)
    assert result.code == 2
    assert f"locales/ru/LC_MESSAGES/demo.po:{line}: placeholders differ" in result.err
    assert "{frequency}" in result.err and "{frequence}" in result.err
    assert not path.with_suffix(".mo").exists()
    assert (project / "locales" / "ko_KP" / "LC_MESSAGES" / "demo.mo").exists()
    status = json.loads(cli("status", "--json", "--project", project).out)
    assert "ident" in status["campaigns"]["demo"]["locales"]["ru"]["not_ready"]


@pytest.mark.parametrize("bad", BAD_PO, ids=[p.stem for p in BAD_PO])
def test_malformed_po_is_rejected_with_file_and_line_and_left_untouched(bad, project, proc):
    line, text = re.match(rb"(?:\xef\xbb\xbf)?# expect: line (\d+): (.*)", bad.read_bytes()).groups()
    target = po_file(project, "ru")
    target.write_bytes(bad.read_bytes())
    before = snapshot(project)
    for command in ("update", "compile", "status"):
        result = proc(command, "--project", project)        # a process: tracebacks show
        assert result.code == 2, result
        err = result.err.strip().split("\n")
        assert len(err) == 1
        assert f"locales/ru/LC_MESSAGES/demo.po:{int(line)}: " in err[0], err[0]
        assert text.decode() in err[0]
    assert snapshot(project) == before


def test_writes_are_atomic_and_only_on_change(project, monkeypatch):
    campaign = load_campaign(project / "messages" / "demo.yaml")
    path = po_file(project, "ru")
    before = path.read_bytes()
    inode = path.stat().st_ino
    assert not catalogs.update(campaign, Layout(project), "ru")
    assert path.stat().st_ino == inode          # not even rewritten
    po = load_po(path)
    po[0].msgstr = "changed"

    def crash(*args):
        raise OSError("disk full")
    monkeypatch.setattr("os.replace", crash)
    with pytest.raises(OSError):
        write_catalog(path, po, stamp_header=None)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_status_json_on_the_shipped_example(project, cli):
    result = cli("status", "--json", "--project", project)
    assert result.code == 0
    data = json.loads(result.out)
    campaign = load_campaign(project / "messages" / "demo.yaml")
    ids = [m.id for m in campaign.messages]
    locales = data["campaigns"]["demo"]["locales"]
    for locale in ("ko_KP", "ru"):
        s = locales[locale]
        assert s["ready"] == ids and s["not_ready"] == {}
        assert s["fuzzy"] == s["untranslated"] == 0
        assert s["translated"] == (len(ids) + sum(len(m.paragraphs) for m in campaign.messages)
                                   + len(campaign.programs))    # program titles are units
    uk = locales["uk"]
    assert set(uk) >= {"translated", "fuzzy", "untranslated", "obsolete", "ready", "not_ready"}
    assert uk["fuzzy"] == 1 and uk["untranslated"] > 0
    assert set(uk["ready"]) | set(uk["not_ready"]) == set(ids)
    assert "ident" in uk["ready"]
    assert "fuzzy" in uk["not_ready"]["safe-return"]
    assert "untranslated" in uk["not_ready"]["rights"]
    assert uk["words_to_translate"] > 0
    text = cli("status", "--project", project).out
    assert "not ready: rights" in text


def test_pybabel_extract_with_mapping_yields_the_same_units(project, cli, tmp_path):
    mapping = tmp_path / "babel.cfg"
    mapping.write_text("[broadcast_yaml: **.yaml]\n", encoding="utf-8")
    out = tmp_path / "babel.pot"
    result = subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(mapping),
         "-o", str(out), "messages"], cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    theirs = polib.pofile(str(out))
    ours = polib.pofile(str(project / "locales" / "demo.pot"))
    assert len(ours) > 0
    assert [(e.msgctxt, e.msgid, e.occurrences) for e in theirs] == \
        [(e.msgctxt, e.msgid, e.occurrences) for e in ours]
    # pybabel wraps long comments (at 76 columns); gettext's tools keep them as they are.
    assert [" ".join(e.comment.split()) for e in theirs] == \
        [" ".join(e.comment.split()) for e in ours]


def test_the_shipped_example_stays_valid_whatever_its_content(tmp_path, cli):
    """The example campaign is content, not a fixture: this test holds for any content."""
    from helpers import copy_example
    root = copy_example(tmp_path / "example")
    assert cli("update", "--project", root).code == 0
    files = sorted((root / "locales").rglob("*.po*"))
    assert files
    for path in files:
        msgfmt_check(path)
    assert cli("status", "--json", "--project", root).code == 0
    result = cli("check", "--json", "--project", root)
    assert [f for f in json.loads(result.out) if f["severity"] == "error"] == []


def test_the_shipped_example_is_complete_and_clean(tmp_path, proc):
    """What users copy: every message ready in every locale, and no finding at all."""
    from helpers import copy_example
    root = copy_example(tmp_path / "example")
    result = proc("status", "--json", "--project", root)
    assert result.code == 0, result.err
    for campaign in json.loads(result.out)["campaigns"].values():
        assert set(campaign["locales"]) >= {"ko_KP", "ru", "uk"}
        for locale, state in campaign["locales"].items():
            assert state["not_ready"] == {}, (locale, state["not_ready"])
            assert len(state["ready"]) == campaign["messages"], locale
    result = proc("check", "--strict", "--project", root)
    assert result.code == 0, result.out + result.err


def test_a_command_parses_each_catalog_once_and_again_when_it_changes(project, monkeypatch):
    """load_po parses a catalog once per command and hands each caller its own copy; a
    file replaced since (another size, time or inode) is parsed again, and so is every
    file in the next command."""
    from pipeline.catalogs import pofile
    parsed = []
    real = pofile.parse_po
    monkeypatch.setattr(pofile, "parse_po", lambda path: parsed.append(path) or real(path))
    pofile.forget_parsed()
    path = project / "locales" / "ru" / "LC_MESSAGES" / "demo.po"
    first, second = load_po(path), load_po(path)
    assert len(parsed) == 1 and first is not second
    entry = next(e for e in first if e.msgstr)
    entry.msgstr = "изменено"
    assert next(e for e in second if e.msgctxt == entry.msgctxt).msgstr != "изменено"
    assert next(e for e in load_po(path) if e.msgctxt == entry.msgctxt).msgstr != "изменено"
    first.save(str(path) + ".new")
    Path(str(path) + ".new").replace(path)          # as a translator's tool saves it
    assert next(e for e in load_po(path) if e.msgctxt == entry.msgctxt).msgstr == "изменено"
    assert len(parsed) == 2
    pofile.forget_parsed()
    load_po(path)
    assert len(parsed) == 3


def test_the_whole_of_a_project_narrowed_to_locales_is_not_read_again(project):
    """A command narrowed to some locales that needs the whole project (the report, the
    withdrawal) gets every locale, with the campaigns and catalogs it has read already;
    one narrowed to a campaign reads the others."""
    from pipeline.project import open_project
    narrowed = open_project(project, locales=["ru"])
    campaign = narrowed.campaigns[0]
    read = narrowed.catalog_state(campaign, "ru")
    whole = narrowed.whole()
    assert whole.locales == open_project(project).locales and len(whole.locales) > 1
    assert whole.campaigns is narrowed.campaigns and whole.catalog_state(campaign, "ru") is read
    assert whole.readiness(campaign, "uk")[0] == \
        open_project(project).readiness(campaign, "uk")[0]
    one = open_project(project, campaign=campaign.name, locales=["ru"])
    assert one.whole().campaigns is not one.campaigns


def test_a_program_is_titled_in_a_locale_only_where_its_title_is_translated(project):
    """Translated: the locale's title; untranslated or fuzzy: the source title (a title is
    never spoken, so it never holds the program back)."""
    from pipeline.project import open_project
    campaign = open_project(project).campaigns[0]
    assert campaign.programs[0].title == "Evening broadcast"
    titles = {locale: open_project(project).programs(campaign, locale)[0].title
              for locale in ("ko_KP", "ru", "uk")}
    assert titles == {"ko_KP": "저녁방송", "ru": "Вечерний эфир", "uk": "Evening broadcast"}
    path = project / "locales" / "ru" / "LC_MESSAGES" / "demo.po"
    po = polib.pofile(str(path))
    po.find("Evening broadcast", msgctxt="program:evening|title").flags.append("fuzzy")
    po.save()
    assert open_project(project).programs(campaign, "ru")[0].title == "Evening broadcast"


def test_a_new_campaign_gets_shared_units_as_fuzzy_suggestions(project, cli):
    """A second campaign repeats a paragraph of 'demo' and nearly repeats another: in
    every locale its catalog offers their translations, fuzzy, with their origin in a
    comment, never ready; the message is not rendered until a translator confirms it,
    and a second update changes no byte."""
    (project / "messages" / "later.yaml").write_text(
        "campaign: later\ntitle: A later campaign\nmessages:\n"
        "  - id: again\n    title: Again\n    text: |\n"
        "      They want you to return home alive.\n\n"
        "      Many people think of you every single day.\n", encoding="utf-8")
    assert cli("extract", "--project", project).code == 0
    for locale in ("ko_KP", "ru", "uk"):
        assert cli("init", locale, "--project", project).code == 0
        demo = {e.msgid: e.msgstr for e in polib.pofile(str(po_file(project, locale)))}
        later = polib.pofile(str(po_file(project, locale, "later")))
        same = next(e for e in later if e.msgid == "They want you to return home alive.")
        assert same.msgstr == demo[same.msgid] and same.fuzzy
        assert same.tcomment == f"suggested from locales/{locale}/LC_MESSAGES/demo.po"
        near = next(e for e in later if e.msgid.startswith("Many people"))
        assert near.fuzzy and near.msgstr == demo["Many people think of you every day."]
        assert near.previous_msgid == "Many people think of you every day."
        title = next(e for e in later if e.msgctxt == "again|title")
        assert title.msgstr == "" and not title.fuzzy      # nothing like it: untranslated
        msgfmt_check(po_file(project, locale, "later"))
    before = snapshot(project / "locales")
    assert cli("update", "--project", project).code == 0
    assert snapshot(project / "locales") == before
    # Fuzzy is not ready: until a translator confirms, 'again' is not rendered.
    path = po_file(project, "ru", "later")
    po = polib.pofile(str(path))
    for e in po:
        if e.msgctxt == "again|title":
            e.msgstr = "Снова"
    po.save(str(path))
    assert cli("compile", "--project", project).code == 0
    render = cli("render", "--project", project, "--campaign", "later", "--locale", "ru",
                 "--profile", "radio")
    assert "skipped later/ru/again" in render.out and "fuzzy" in render.out
    po = polib.pofile(str(path))
    for e in po:
        e.flags = [f for f in e.flags if f != "fuzzy"]
    po.save(str(path))
    assert cli("compile", "--project", project).code == 0
    render = cli("render", "--project", project, "--campaign", "later", "--locale", "ru",
                 "--profile", "radio")
    assert render.code == 0 and "skipped later/ru/again" not in render.out, render


def test_an_outside_compendium_suggests_too(project, cli, tmp_path):
    compendium = tmp_path / "memory.po"
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Language": "ru"}
    po.append(polib.POEntry(msgid="Listen when it is safe to do so.",
                            msgstr="Слушайте, когда это безопасно."))
    po.save(str(compendium))
    path = po_file(project, "ru")
    catalog = polib.pofile(str(path))
    entry = next(e for e in catalog if e.msgid == "Listen when it is safe to do so.")
    entry.msgstr = ""
    catalog.save(str(path))
    assert cli("update", "--project", project, "--compendium", compendium).code == 0
    entry = next(e for e in polib.pofile(str(path))
                 if e.msgid == "Listen when it is safe to do so.")
    assert entry.msgstr == "Слушайте, когда это безопасно." and entry.fuzzy
    assert entry.tcomment == "suggested from memory.po"
    assert cli("update", "--project", project, "--compendium", tmp_path / "none.po").code == 2
