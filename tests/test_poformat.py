"""Catalogs are written in GNU gettext's canonical form: msgcat and broadcast agree byte
for byte, in both directions."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import polib
import pytest
from helpers import copy_example, copy_project, run_broadcast, snapshot

from pipeline.catalogs import poformat
from pipeline.catalogs.pofile import load_po

WORDS = {
    "en": "the a prisoner of war has right to write his family Red Cross records names and "
          "can carry news international-law self-evident x".split(),
    "ru": "Вы не одни Есть люди которые думают о вас и хотят чтобы вернулись домой живыми "
          "военнопленный".split(),
    "ko": "당신은 혼자가 아닙니다 조선 인민군 병사들 포로는 국제법에 따라 보호를 받습니다 "
          "3대까지".split(),
    "odd": ["{name}", '"quoted"', "\\back", "(n%10==1", "&&", "—", "...", "7.2", "MHz,", "a/b",
            "x" * 30, "y" * 85, "tab\there", "«ёлка»", "https://example.org/a-b-c"],
}


def catalogs(root: Path) -> list[Path]:
    return sorted((root / "locales").rglob("*.po")) + sorted((root / "locales").glob("*.pot"))


def msgcat(path: Path, out: Path | None = None) -> bytes:
    proc = subprocess.run(["msgcat", str(path), "-o", str(out or "-")], capture_output=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def translate_toolkit(path: Path, edit: bool = False) -> None:
    """The catalog read and saved by translate-toolkit (Pootle's and Virtaal's library);
    with ``edit``, a translator's edit first: a longer translation and a note."""
    from translate.storage import po as ttpo
    store = ttpo.pofile.parsestring(path.read_bytes())
    if edit:
        unit = next(u for u in store.units
                    if u.target and not u.isheader() and not u.isobsolete())
        unit.target += " " + " ".join(["다시 확인한 번역입니다, проверено по записи."] * 3)
        unit.addnote("checked against the recording", origin="translator")
    path.write_bytes(bytes(store))


@pytest.mark.parametrize("tool", ["msgcat", "msgmerge", "translate-toolkit"])
@pytest.mark.parametrize("which", ["example", "fixture"])
def test_msgcat_then_update_changes_no_byte_and_the_reverse(tmp_path, which, tool):
    root = (copy_example if which == "example" else copy_project)(tmp_path / "p")
    files = catalogs(root)
    assert len(files) >= 4
    edited = {}
    for path in files:                       # a translator's tool saved every catalog
        if tool == "translate-toolkit" and path.suffix == ".po":
            # Edited there: translate-toolkit wraps what it edits at spaces only; the
            # next update writes it as gettext would (as msgcat does), nothing else.
            translate_toolkit(path, edit=True)
            edited[path] = msgcat(path)
            assert edited[path] != path.read_bytes()
        elif tool == "msgmerge" and path.suffix == ".po":
            template = root / "locales" / f"{path.stem}.pot"
            proc = subprocess.run(["msgmerge", "--quiet", "--previous", str(path),
                                   str(template), "-o", str(path)], capture_output=True)
            assert proc.returncode == 0, proc.stderr
        elif tool == "translate-toolkit":
            translate_toolkit(path)
        else:
            msgcat(path, path)
    before = snapshot(root / "locales")
    result = run_broadcast("update", "--project", root)
    assert result.code == 0, result.err
    for path, gettexts in edited.items():          # rewrapped as gettext writes them
        before[path.relative_to(root / "locales").as_posix()] = gettexts
    assert snapshot(root / "locales") == before
    # The reverse: what broadcast writes, msgcat leaves alone. Make update rewrite every
    # .po (one edited translation each), then pass them through msgcat.
    for path in files[:-1]:
        po = polib.pofile(str(path))
        entry = next(e for e in po if e.msgstr and not e.obsolete)
        entry.tcomment = "checked against the recording"
        po.save(str(path))                   # polib's own wrapping, not gettext's
    result = run_broadcast("update", "--project", root)
    assert result.code == 0, result.err
    for path in files:
        assert msgcat(path) == path.read_bytes(), path


def _text(rng: random.Random) -> str:
    words = [rng.choice(WORDS[rng.choice(["en", "en", "ru", "ko", "odd"])])
             for _ in range(rng.choice([1, 3, 8, 12, 20, 30, 60]))]
    text = rng.choice([" ", " ", "  ", " \n"]).join(words)
    return text + ("\n" if rng.random() < 0.2 else "")


# Every flag set an entry can carry that changes how gettext writes it: fuzzy with and
# without other flags, format flags (python-brace-format's directives hold some breaks
# back in gettext 0.21), no-wrap.
FLAGS = [["fuzzy"], ["python-brace-format"], ["fuzzy", "python-brace-format"],
         ["no-python-brace-format"], ["fuzzy", "no-wrap"], ["no-wrap"], ["c-format"],
         ["python-format", "python-brace-format"], ["fuzzy", "c-format"]]
DIRECTIVES = ["{x}", "{name}", "{0}", "{0:>10}", "{a.b}", "{a[1]}", "{{", "}}", "{x:{y}}",
              "{ x}", "{x", "{x!r}", "{:d}", "{x:.2f}"]

# A header as translators' tools leave it: fields out of polib's order, a value with
# spaces at its end, a long value wrapped, an empty one; comment lines with trailing
# spaces and an empty one.
HEADER = r"""# A generated catalog{spaces}
# for the wrapping test, with a long header comment line zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz
#
#, fuzzy
msgid ""
msgstr ""
"Project-Id-Version: x \n"
"Report-Msgid-Bugs-To: \n"
"X-Generator: a tool 1.0\n"
"Language: ru\n"
"MIME-Version: 1.0\n"
"Content-Type: text/plain; charset=UTF-8\n"
"Content-Transfer-Encoding: 8bit\n"
"Language-Team: Russian <team@example.org>, with a very long team name that wraps "
"somewhere\n"
"Plural-Forms: nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
"(n%100<10 || n%100>=20) ? 1 : 2);\n"
""".format(spaces="  ")


def _comment(rng: random.Random) -> str:
    lines = [_text(rng).replace("\n", " ").strip() for _ in range(rng.choice([1, 1, 2, 3]))]
    if len(lines) > 1 and rng.random() < 0.3:
        lines[1] = ""                                  # an empty comment line
    return "\n".join(line + rng.choice(["", "", " "]) for line in lines)


def _random_catalog(seed: int) -> polib.POFile:
    rng = random.Random(seed)
    po = polib.POFile()
    po.header = "A generated catalog\nfor the wrapping test"
    po.metadata = {"Project-Id-Version": "x", "MIME-Version": "1.0", "Language": "ru",
                   "Content-Type": "text/plain; charset=UTF-8",
                   "Content-Transfer-Encoding": "8bit",
                   "Plural-Forms": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && "
                                   "n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"}
    for number in range(150):
        context = f"c{number}-" + "long-context-" * rng.randint(0, 8)
        msgid = _text(rng)
        if rng.random() < 0.3:
            msgid = rng.choice(["", " "]).join([msgid, rng.choice(DIRECTIVES), _text(rng)])
        entry = polib.POEntry(msgctxt=context, msgid=msgid,
                              msgstr=_text(rng) if rng.random() < 0.8 else "")
        if rng.random() < 0.15:
            entry.msgid_plural, entry.msgstr = _text(rng), ""
            entry.msgstr_plural = {0: _text(rng), 1: _text(rng), 2: ""}
        if rng.random() < 0.3:
            entry.comment = _comment(rng)
        if rng.random() < 0.3:
            entry.tcomment = "tc " + _comment(rng)
        if rng.random() < 0.5:
            entry.occurrences = [(f"messages/file-{n}.yaml", str(rng.randint(1, 999)))
                                 for n in range(rng.randint(1, 9))]
        if rng.random() < 0.4:
            entry.flags = list(rng.choice(FLAGS))
            if "fuzzy" in entry.flags and rng.random() < 0.7:
                entry.previous_msgid = _text(rng)
                if rng.random() < 0.5:
                    entry.previous_msgctxt = f"p{number}-" + "long-context-" * rng.randint(0, 8)
                if entry.msgid_plural and rng.random() < 0.5:
                    entry.previous_msgid_plural = _text(rng)
        if rng.random() < 0.1 and not entry.msgid_plural:
            entry.obsolete, entry.occurrences = True, []      # with its previous msgid
        po.append(entry)
    return po


def _write_random(path: Path, seed: int) -> None:
    """The random catalog under HEADER (polib would write its own, reordered)."""
    text = str(_random_catalog(seed))
    path.write_text(HEADER + text[text.index("\n\n"):], encoding="utf-8")


def _needs_unistring() -> None:
    if poformat._unistring() is None:
        pytest.skip("libunistring is part of every Debian system; gettext's rules need it")


@pytest.mark.parametrize("seed", range(3))
def test_random_catalogs_saved_by_translate_toolkit_are_written_again_as_they_are(tmp_path,
                                                                                 seed):
    """msgcat's form of a random catalog, saved by translate-toolkit: load_po + poformat
    writes translate-toolkit's bytes again."""
    _needs_unistring()
    source = tmp_path / "random.po"
    _write_random(source, seed)
    saved = tmp_path / "saved.po"
    msgcat(source, saved)
    translate_toolkit(saved)
    assert poformat.dumps(load_po(saved)) == saved.read_text(encoding="utf-8")


@pytest.mark.parametrize("seed", range(8))
def test_random_catalogs_are_written_as_msgcat_writes_them(tmp_path, seed):
    """Korean, Cyrillic, escapes, long words, newlines, plurals, every flag, previous
    msgctxt and msgid, obsolete entries with their previous msgid, comments with trailing
    spaces and empty lines, a header out of order: what msgcat writes, load_po +
    poformat writes again."""
    _needs_unistring()
    source = tmp_path / "random.po"
    _write_random(source, seed)
    canonical = tmp_path / "canonical.po"
    msgcat(source, canonical)
    assert poformat.dumps(load_po(canonical)) == canonical.read_text(encoding="utf-8")


@pytest.mark.parametrize("seed", range(3))
def test_random_catalogs_are_written_as_msgmerge_previous_writes_them(tmp_path, seed):
    """msgmerge --previous against a template whose sources changed: new fuzzy entries
    with their previous msgid and msgctxt, new obsolete ones; load_po + poformat writes
    the result again byte for byte."""
    _needs_unistring()
    source = tmp_path / "random.po"
    _write_random(source, seed)
    rng = random.Random(seed)
    pot = polib.POFile()
    pot.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    for entry in load_po(source):
        if entry.obsolete or rng.random() < 0.1:
            continue                                     # gone: obsolete after the merge
        msgid = entry.msgid + (" changed" if rng.random() < 0.2 else "")
        pot.append(polib.POEntry(msgctxt=entry.msgctxt, msgid=msgid, msgstr="",
                                 msgid_plural=entry.msgid_plural, flags=[
                                     f for f in entry.flags if f != "fuzzy"],
                                 msgstr_plural={0: "", 1: ""} if entry.msgid_plural else {},
                                 occurrences=entry.occurrences, comment=entry.comment))
    template = tmp_path / "random.pot"
    template.write_text(str(pot), encoding="utf-8")
    merged = tmp_path / "merged.po"
    proc = subprocess.run(["msgmerge", "--quiet", "--previous", str(source), str(template),
                           "-o", str(merged)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    text = merged.read_text(encoding="utf-8")
    assert "#| msgid" in text and "#~ msgid" in text
    assert poformat.dumps(load_po(merged)) == text


def test_python_brace_directives_hold_breaks_back_as_gettext_does(tmp_path):
    """gettext 0.21 forbids a break before bytes 1 to n of a python-brace-format string,
    n + 1 the length of its shortest directive: 'a' then a long word stays on one line."""
    _needs_unistring()
    long = "y" * 85
    assert poformat._brace_held(f"a {long} b {{x}} c", ["python-brace-format"]) == 2
    assert poformat._brace_held(f"a {long} {{name}} {{x}}", ["fuzzy", "python-brace-format"]) == 2
    assert poformat._brace_held(f"a {long} {{x}}", ["python-format", "python-brace-format"]) == 0
    assert poformat._brace_held(f"a {long} {{{{x}}}}", ["python-brace-format"]) == 0
    assert poformat._brace_held(f"a {long} {{x", ["python-brace-format"]) == 0
    assert poformat.field("msgid", f"a {long} b {{x}} c", flags=["python-brace-format"]) == \
        ['msgid ""', f'"a {long} "', '"b {x} c"']
    assert poformat.field("msgid", f"a {long} b {{x}} c") == \
        ['msgid ""', '"a "', f'"{long} "', '"b {x} c"']


def test_without_libunistring_the_text_still_round_trips(tmp_path, monkeypatch):
    """The fallback (breaks after spaces) loses nothing and keeps lines within 79 columns
    wherever a space allows it."""
    po = _random_catalog(99)
    monkeypatch.setattr(poformat, "_unistring", lambda: None)
    text = poformat.dumps(po)
    out = tmp_path / "fallback.po"
    out.write_text(text, encoding="utf-8")
    again = load_po(out)
    ordered = [e for e in po if not e.obsolete] + [e for e in po if e.obsolete]
    assert [(e.msgctxt, e.msgid, e.msgstr, e.msgstr_plural, e.obsolete) for e in again] == \
        [(e.msgctxt, e.msgid, e.msgstr, e.msgstr_plural, e.obsolete) for e in ordered]
    for line in text.split("\n"):
        content = line[line.find('"') + 1:-1]
        if line.startswith(("#~ \"", '"')) and sum(poformat._columns(c) for c in line) > 79:
            # Too long only where no space inside could have broken it.
            assert " " not in content.removesuffix("\\n").strip(" "), line
